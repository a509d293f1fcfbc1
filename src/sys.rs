//! Thin, leaf-level OS helpers shared by the modules that do I/O: `errno`, `strerror` (`%m`),
//! and a typed `getsockopt`. Nothing here knows about PAM, the bus or logind, so every other
//! module may use it without creating a cycle (it used to live in `logind`, which `address`
//! needed and which needed `address`).

use std::os::fd::{AsRawFd, BorrowedFd};

/// The calling thread's `errno` (EIO if the platform gives none).
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// `strerror(errno)` text, as `%m` prints it (without the ` (os error N)` that
/// `std::io::Error`'s `Display` would add).
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length; the XSI strerror_r NUL-terminates.
    let r = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return format!("Unknown error {errno}");
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned()
}

/// Plain-data socket option values that `getsockopt` may fill byte by byte.
///
/// # Safety
/// Every bit pattern of the type's size must be a valid value (integers, C structs of integers).
pub unsafe trait SockOptValue: Copy {}
// SAFETY: an integer; every bit pattern is valid.
unsafe impl SockOptValue for libc::c_int {}
// SAFETY: three integers; every bit pattern is valid.
unsafe impl SockOptValue for libc::ucred {}

/// `getsockopt(fd, level, name, &value, &len)` for a plain-data `T`: the value, or the errno.
pub fn getsockopt<T: SockOptValue>(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> Result<T, i32> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<T>()).map_err(|_| libc::EINVAL)?;
    // SAFETY: `value` is writable for `len` bytes; the fd is borrowed, so it is open.
    let r = unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, value.as_mut_ptr().cast(), &mut len) };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: zero-initialised and then (partly) written by the kernel; any bit pattern is a
    // valid `T` (contract of `SockOptValue`).
    Ok(unsafe { value.assume_init() })
}

#[cfg(test)]
mod tests;
