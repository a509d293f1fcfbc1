//! libpam, behind a small trait ([`PamOps`]) so that the session story can run against a
//! scripted fake in unit tests; [`Pam`] is the thin real implementation over one handle.
//!
//! Everything handed out is copied: an item or environment value borrowed from libpam could be
//! freed by a later call on the same handle (`pam_get_user` may set PAM_USER through the
//! conversation, `pam_putenv` replaces values), so no borrow outlives the call that made it.
//! The calls that may change what libpam owns take `&mut self`.

use std::ffi::{CStr, CString, c_int, c_void};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::ptr::NonNull;

use crate::ffi::{self, PamHandle};

/// A libpam call's non-success return code.
pub type Code = c_int;

/// The string items this module reads (`pam_get_item`). Typed, so that a non-string item such
/// as `PAM_CONV` can never be read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringItem {
    Service,
    Tty,
    RHost,
    RUser,
    XDisplay,
}

impl StringItem {
    fn raw(self) -> c_int {
        match self {
            StringItem::Service => ffi::PAM_SERVICE,
            StringItem::Tty => ffi::PAM_TTY,
            StringItem::RHost => ffi::PAM_RHOST,
            StringItem::RUser => ffi::PAM_RUSER,
            StringItem::XDisplay => ffi::PAM_XDISPLAY,
        }
    }
}

/// What the session story asks of libpam.
pub trait PamOps {
    /// `pam_get_user`: the user name, prompting through the conversation if unset.
    fn user(&mut self) -> Result<Vec<u8>, Code>;
    /// `pam_get_item` of a string item; `Ok(None)` when unset or unknown (PAM_BAD_ITEM).
    fn item(&self, which: StringItem) -> Result<Option<Vec<u8>>, Code>;
    /// `pam_getenv`; `None` when unset.
    fn getenv(&self, name: &CStr) -> Option<Vec<u8>>;
    /// `pam_putenv("NAME=VALUE")`.
    fn putenv(&mut self, name: &str, value: &[u8]) -> Result<(), Code>;
    /// `pam_putenv(NAME)` (no `=`): removes the variable (262's `update_environment()`).
    fn unsetenv(&mut self, name: &str) -> Result<(), Code>;
    /// `pam_info()`: a PAM_TEXT_INFO message to the user; its result is ignored, as C does.
    fn info(&mut self, text: &str);
    /// `pam_get_data`: whether the key holds a non-NULL pointer (`Ok(false)` for
    /// PAM_NO_MODULE_DATA). The pointer is never dereferenced.
    fn data_is_set(&self, name: &CStr) -> Result<bool, Code>;
    /// `pam_get_data` of a plain value stored with [`PamOps::set_data_value`] (the pointer
    /// read as an integer, never dereferenced); `Ok(None)` for PAM_NO_MODULE_DATA.
    fn data_value(&self, name: &CStr) -> Result<Option<usize>, Code>;
    /// `pam_get_data` of a NUL-terminated string stored by another module (or by an earlier
    /// call of this one); a NULL pointer and PAM_NO_MODULE_DATA read as `None`.
    ///
    /// # Safety
    /// The data under `name`, if any, must be NULL or a NUL-terminated string, alive for the
    /// duration of the call. libpam cannot check this: it stores `void *`.
    unsafe fn data_str(&self, name: &CStr) -> Result<Option<Vec<u8>>, Code>;
    /// `pam_set_data` of a plain value with no cleanup (the C module's `INT_TO_PTR`/`FD_TO_PTR`).
    fn set_data_value(&mut self, name: &CStr, value: usize) -> Result<(), Code>;
    /// `pam_set_data` of a string that libpam frees at `pam_end`.
    fn set_data_string(&mut self, name: &CStr, value: &[u8]) -> Result<(), Code>;
    /// `pam_strerror`, for log lines.
    fn strerror(&self, code: Code) -> String;
}

/// The PAM data that 262's OSC context and inhibitor lock keep: an fd libpam closes at
/// `pam_end`, a 16-byte id libpam frees, and clearing a key so that libpam runs its cleanup now.
/// A trait of its own beside [`PamOps`]: the story asks for both (262's steps).
pub trait PamData {
    /// `pam_set_data(name, FD_TO_PTR(fd), pam_cleanup_close)`: stored as fd + 1, as systemd's
    /// `FD_TO_PTR` does; the cleanup closes it except with `PAM_DATA_SILENT` (the session's
    /// payload child). On failure the fd is closed (C's `_cleanup_close_`).
    fn set_data_fd(&mut self, name: &CStr, fd: OwnedFd) -> Result<(), Code>;
    /// `pam_set_data` of a `malloc`'d copy of a 128-bit id with a `free()` cleanup.
    fn set_data_id128(&mut self, name: &CStr, id: [u8; 16]) -> Result<(), Code>;
    /// `pam_get_data` of an id stored with [`PamData::set_data_id128`]; `Ok(None)` for
    /// PAM_NO_MODULE_DATA or a NULL pointer.
    ///
    /// # Safety
    /// The data under `name`, if any, must be NULL or point to at least 16 readable bytes.
    unsafe fn data_id128(&self, name: &CStr) -> Result<Option<[u8; 16]>, Code>;
    /// `pam_set_data(name, NULL, NULL)`: libpam runs the old cleanup (with `PAM_DATA_REPLACE`),
    /// so a stored fd is closed now. The result is what libpam answered.
    fn clear_data(&mut self, name: &CStr) -> Result<(), Code>;
}

/// One PAM handle, for the duration of one hook call. `!Send`, like the handle.
pub struct Pam {
    h: NonNull<PamHandle>,
}

impl Pam {
    /// # Safety
    /// `h` must be the handle libpam passed to the running hook, valid until the hook returns.
    pub unsafe fn new(h: NonNull<PamHandle>) -> Self {
        Pam { h }
    }

    fn raw(&self) -> *mut PamHandle {
        self.h.as_ptr()
    }

    /// `pam_get_data` of a raw pointer. `Ok(None)` for PAM_NO_MODULE_DATA.
    fn data_ptr(&self, name: &CStr) -> Result<Option<*const c_void>, Code> {
        let mut p: *const c_void = std::ptr::null();
        // SAFETY: valid handle, NUL-terminated name, valid out-pointer.
        let r = unsafe { ffi::pam_get_data(self.raw(), name.as_ptr(), &mut p) };
        match r {
            ffi::PAM_SUCCESS => Ok(Some(p)),
            ffi::PAM_NO_MODULE_DATA => Ok(None),
            e => Err(e),
        }
    }
}

/// Copies a C string libpam handed out.
///
/// # Safety
/// `p` must be non-NULL and point to a NUL-terminated string alive for the call.
unsafe fn copy(p: *const std::ffi::c_char) -> Vec<u8> {
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

impl PamOps for Pam {
    fn user(&mut self) -> Result<Vec<u8>, Code> {
        let mut p: *const std::ffi::c_char = std::ptr::null();
        // SAFETY: valid handle; `p` is a valid out-pointer; a NULL prompt means libpam's default.
        let r = unsafe { ffi::pam_get_user(self.raw(), &mut p, std::ptr::null()) };
        if r != ffi::PAM_SUCCESS {
            return Err(r);
        }
        if p.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: on success libpam returns its PAM_USER item, a NUL-terminated string; it is
        // copied before any other call on the handle.
        Ok(unsafe { copy(p) })
    }

    fn item(&self, which: StringItem) -> Result<Option<Vec<u8>>, Code> {
        let mut p: *const c_void = std::ptr::null();
        // SAFETY: valid handle (see `new`); `p` is a valid out-pointer.
        let r = unsafe { ffi::pam_get_item(self.raw(), which.raw(), &mut p) };
        match r {
            // SAFETY: `which` is a string item: a NUL-terminated C string owned by libpam, copied
            // at once.
            ffi::PAM_SUCCESS if !p.is_null() => Ok(Some(unsafe { copy(p.cast()) })),
            ffi::PAM_SUCCESS | ffi::PAM_BAD_ITEM => Ok(None),
            e => Err(e),
        }
    }

    fn getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        // SAFETY: valid handle and NUL-terminated name.
        let p = unsafe { ffi::pam_getenv(self.raw(), name.as_ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: libpam returned a NUL-terminated string from its environment; copied at once.
        Some(unsafe { copy(p) })
    }

    fn putenv(&mut self, name: &str, value: &[u8]) -> Result<(), Code> {
        let mut s = Vec::with_capacity(name.len() + 1 + value.len() + 1);
        s.extend_from_slice(name.as_bytes());
        s.push(b'=');
        s.extend_from_slice(value);
        // A value with a NUL byte cannot be represented: PAM_BUF_ERR.
        let s = CString::new(s).map_err(|_| ffi::PAM_BUF_ERR)?;
        // SAFETY: valid handle; libpam copies the string.
        let r = unsafe { ffi::pam_putenv(self.raw(), s.as_ptr()) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }

    fn info(&mut self, text: &str) {
        // A text with a NUL byte cannot be sent: nothing is (C's result is ignored as well).
        let Ok(t) = CString::new(text) else { return };
        // SAFETY: valid handle; no response asked for (NULL); a "%s" format with one
        // NUL-terminated string argument.
        let _ = unsafe {
            ffi::pam_prompt(
                self.raw(),
                ffi::PAM_TEXT_INFO,
                std::ptr::null_mut(),
                c"%s".as_ptr(),
                t.as_ptr(),
            )
        };
    }

    fn unsetenv(&mut self, name: &str) -> Result<(), Code> {
        // A name with a NUL byte cannot be represented: PAM_BUF_ERR.
        let s = CString::new(name).map_err(|_| ffi::PAM_BUF_ERR)?;
        // SAFETY: valid handle; a name without `=` asks libpam to remove the variable.
        let r = unsafe { ffi::pam_putenv(self.raw(), s.as_ptr()) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }

    fn data_is_set(&self, name: &CStr) -> Result<bool, Code> {
        Ok(self.data_ptr(name)?.is_some_and(|p| !p.is_null()))
    }

    fn data_value(&self, name: &CStr) -> Result<Option<usize>, Code> {
        Ok(self.data_ptr(name)?.map(|p| p as usize))
    }

    unsafe fn data_str(&self, name: &CStr) -> Result<Option<Vec<u8>>, Code> {
        match self.data_ptr(name)? {
            // SAFETY: the caller promises a NUL-terminated string under this key; copied at once.
            Some(p) if !p.is_null() => Ok(Some(unsafe { copy(p.cast()) })),
            _ => Ok(None),
        }
    }

    fn set_data_value(&mut self, name: &CStr, value: usize) -> Result<(), Code> {
        // SAFETY: valid handle and name; the "pointer" is an integer that is never dereferenced,
        // and with no cleanup libpam never frees it.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), value as *mut c_void, None) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }

    fn set_data_string(&mut self, name: &CStr, value: &[u8]) -> Result<(), Code> {
        let len = value.len();
        // SAFETY: malloc of len+1 bytes; checked for NULL below.
        let p = unsafe { libc::malloc(len + 1) }.cast::<u8>();
        if p.is_null() {
            return Err(ffi::PAM_BUF_ERR);
        }
        // SAFETY: `p` has room for len+1 bytes and does not overlap `value`.
        unsafe {
            std::ptr::copy_nonoverlapping(value.as_ptr(), p, len);
            *p.add(len) = 0;
        }
        // SAFETY: valid handle and name; `free_cleanup` frees exactly this malloc'ed block.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), p.cast(), Some(free_cleanup)) };
        if r != ffi::PAM_SUCCESS {
            // SAFETY: libpam did not take the block; it is ours to free.
            unsafe { libc::free(p.cast()) };
            return Err(r);
        }
        Ok(())
    }

    fn strerror(&self, code: Code) -> String {
        // SAFETY: valid handle; libpam returns a static string (or NULL).
        let p = unsafe { ffi::pam_strerror(self.raw(), code) };
        if p.is_null() {
            return format!("PAM error {code}");
        }
        // SAFETY: NUL-terminated static string from libpam.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

impl PamData for Pam {
    fn set_data_fd(&mut self, name: &CStr, fd: OwnedFd) -> Result<(), Code> {
        let raw = fd.into_raw_fd();
        // FD_TO_PTR: fd + 1, so that fd 0 is not a NULL pointer. A valid fd is never negative.
        let value = usize::try_from(raw).map_or(0, |n| n + 1);
        // SAFETY: valid handle and name; the "pointer" is fd + 1, never dereferenced; the
        // cleanup closes exactly that fd.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), value as *mut c_void, Some(close_cleanup)) };
        if r != ffi::PAM_SUCCESS {
            // SAFETY: libpam did not take the fd; it is still ours to close.
            unsafe { libc::close(raw) };
            return Err(r);
        }
        Ok(())
    }

    fn set_data_id128(&mut self, name: &CStr, id: [u8; 16]) -> Result<(), Code> {
        // SAFETY: malloc of 16 bytes; checked for NULL below.
        let p = unsafe { libc::malloc(id.len()) }.cast::<u8>();
        if p.is_null() {
            return Err(ffi::PAM_BUF_ERR);
        }
        // SAFETY: `p` has room for 16 bytes and does not overlap `id`.
        unsafe { std::ptr::copy_nonoverlapping(id.as_ptr(), p, id.len()) };
        // SAFETY: valid handle and name; `free_cleanup` frees exactly this malloc'ed block.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), p.cast(), Some(free_cleanup)) };
        if r != ffi::PAM_SUCCESS {
            // SAFETY: libpam did not take the block; it is ours to free.
            unsafe { libc::free(p.cast()) };
            return Err(r);
        }
        Ok(())
    }

    unsafe fn data_id128(&self, name: &CStr) -> Result<Option<[u8; 16]>, Code> {
        match self.data_ptr(name)? {
            Some(p) if !p.is_null() => {
                let mut id = [0u8; 16];
                // SAFETY: the caller promises 16 readable bytes under this key; copied at once.
                unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), id.as_mut_ptr(), id.len()) };
                Ok(Some(id))
            }
            _ => Ok(None),
        }
    }

    fn clear_data(&mut self, name: &CStr) -> Result<(), Code> {
        // SAFETY: valid handle and name; NULL data with no cleanup is what C passes.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), std::ptr::null_mut(), None) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }
}

/// libpam's `PAM_DATA_SILENT` (`_pam_types.h`): set in the cleanup's status when the payload
/// child calls `pam_end`.
pub const PAM_DATA_SILENT: c_int = 0x4000_0000;

/// The cleanup of [`Pam::set_data_fd`], as systemd's `pam_cleanup_close`: closes the fd stored as
/// fd + 1, except in the payload child (`PAM_DATA_SILENT`), whose fds are not ours to close.
unsafe extern "C" fn close_cleanup(_h: *mut PamHandle, data: *mut c_void, status: c_int) {
    if status & PAM_DATA_SILENT != 0 {
        return;
    }
    let fd = (data as usize).wrapping_sub(1);
    if let Ok(fd) = c_int::try_from(fd) {
        // SAFETY: the fd this module stored; libpam runs the cleanup once.
        unsafe { libc::close(fd) };
    }
}

/// The cleanup of [`Pam::set_data_string`]: `free()`, as systemd's `pam_cleanup_free`.
unsafe extern "C" fn free_cleanup(_h: *mut PamHandle, data: *mut c_void, _status: c_int) {
    // SAFETY: `data` is the malloc'ed block handed to pam_set_data (free(NULL) is a no-op).
    unsafe { libc::free(data) };
}

#[cfg(test)]
pub(crate) mod fake;
