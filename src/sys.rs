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

/// Why [`poll_until`] returned without the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollError {
    /// `deadline` passed.
    Timeout,
    /// `poll()` failed with this errno (not EINTR, which is retried).
    Os(i32),
}

/// Waits until `fd` reports one of `events` (or an error/hang-up) or `deadline` passes: the
/// `revents`. Each wait is rounded up to the next millisecond, so that it never ends just before
/// the deadline; `None` waits without bound. The one poll loop of every socket the module uses.
pub fn poll_until(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    deadline: Option<std::time::Instant>,
) -> Result<libc::c_short, PollError> {
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(PollError::Timeout);
                }
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid, writable pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if r > 0 {
            return Ok(pfd.revents);
        }
        if r < 0 {
            let e = errno();
            if e != libc::EINTR {
                return Err(PollError::Os(e));
            }
        }
        // r == 0: the deadline check above decides.
    }
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

/// 262's `mkdir_chown_open_directory()`: `name` below `parent` opened (`O_DIRECTORY|O_NOFOLLOW`,
/// no ownership check) if it exists; else created under a random temporary name (`.#<name>`
/// and 16 hex digits, `tempfn_random()`) with mode 0700, chowned to `uid:gid`, chmod'ed to
/// `mode` and renamed into place without replacing; a lost race (EEXIST) is retried, at most
/// six attempts; on failure the temporary directory is removed. `Err(errno)`.
pub fn mkdir_chown_open_directory(
    parent: &std::os::fd::OwnedFd,
    name: &[u8],
    uid: u32,
    gid: u32,
    mode: libc::mode_t,
) -> Result<std::os::fd::OwnedFd, i32> {
    use std::ffi::CString;
    use std::os::fd::{FromRawFd, OwnedFd};
    let open = |n: &CString, flags: libc::c_int| -> Result<OwnedFd, i32> {
        // SAFETY: a valid directory fd and a NUL-terminated name; the fd returned is owned.
        let fd = unsafe { libc::openat(parent.as_raw_fd(), n.as_ptr(), flags) };
        if fd < 0 {
            return Err(errno());
        }
        // SAFETY: a fresh fd of ours, closed once when dropped.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    };
    let cname = CString::new(name).map_err(|_| libc::EINVAL)?;
    let mut attempt = 0;
    loop {
        match open(&cname, libc::O_CLOEXEC | libc::O_DIRECTORY | libc::O_NOFOLLOW) {
            Ok(fd) => return Ok(fd),
            Err(e) if e != libc::ENOENT => return Err(e),
            Err(_) => {}
        }
        let mut random = [0u8; 8];
        // SAFETY: the buffer is writable for its length.
        let n = unsafe { libc::getrandom(random.as_mut_ptr().cast(), random.len(), 0) };
        if usize::try_from(n).ok() != Some(random.len()) {
            return Err(errno());
        }
        let mut t = b".#".to_vec();
        t.extend_from_slice(name);
        t.extend(random.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
        let t = CString::new(t).map_err(|_| libc::EINVAL)?;
        // SAFETY: a valid directory fd and a NUL-terminated name.
        if unsafe { libc::mkdirat(parent.as_raw_fd(), t.as_ptr(), 0o700) } < 0 {
            return Err(errno());
        }
        let remove = || {
            // SAFETY: a valid directory fd and a NUL-terminated name.
            unsafe { libc::unlinkat(parent.as_raw_fd(), t.as_ptr(), libc::AT_REMOVEDIR) };
        };
        let step = || -> Result<OwnedFd, i32> {
            let fd = open(&t, libc::O_CLOEXEC | libc::O_DIRECTORY | libc::O_NOFOLLOW)?;
            // SAFETY: a valid fd.
            if unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) } < 0 {
                return Err(errno());
            }
            // SAFETY: a valid fd.
            if unsafe { libc::fchmod(fd.as_raw_fd(), mode) } < 0 {
                return Err(errno());
            }
            // SAFETY: valid directory fds and NUL-terminated names.
            let r = unsafe {
                libc::renameat2(
                    parent.as_raw_fd(),
                    t.as_ptr(),
                    parent.as_raw_fd(),
                    cname.as_ptr(),
                    libc::RENAME_NOREPLACE,
                )
            };
            if r < 0 {
                return Err(errno());
            }
            Ok(fd)
        };
        match step() {
            Ok(fd) => return Ok(fd),
            Err(e) if e == libc::EEXIST && attempt < 5 => {
                remove();
                attempt += 1;
            }
            Err(e) => {
                remove();
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests;
