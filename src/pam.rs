//! A thin, safe layer over the libpam calls the module makes on one handle.
//!
//! Items and other modules' data are borrowed from libpam for as long as the `Pam` value is
//! borrowed: the module never sets an item nor those data keys, so libpam keeps them alive.
//! Environment values are copied out, because `pam_putenv` of the same name frees the old value.

use std::ffi::{CStr, CString, c_int, c_void};
use std::ptr::NonNull;

use crate::ffi::{self, PamHandle};

/// One PAM handle, for the duration of one hook call. `!Send`, like the handle.
pub struct Pam {
    h: NonNull<PamHandle>,
}

/// A libpam call's non-success return code.
pub type Code = c_int;

impl Pam {
    /// # Safety
    /// `h` must be the handle libpam passed to the running hook, valid until the hook returns.
    pub unsafe fn new(h: NonNull<PamHandle>) -> Self {
        Pam { h }
    }

    fn raw(&self) -> *mut PamHandle {
        self.h.as_ptr()
    }

    /// `pam_get_item` of a string item; `Ok(None)` when unset or unknown (PAM_BAD_ITEM).
    pub fn item(&self, item: c_int) -> Result<Option<&[u8]>, Code> {
        let mut p: *const c_void = std::ptr::null();
        // SAFETY: valid handle (see `new`); `p` is a valid out-pointer.
        let r = unsafe { ffi::pam_get_item(self.raw(), item, &mut p) };
        match r {
            ffi::PAM_SUCCESS if !p.is_null() => {
                // SAFETY: string items are NUL-terminated C strings owned by libpam, alive until
                // the item is set again, which this module never does.
                Ok(Some(unsafe { CStr::from_ptr(p.cast()) }.to_bytes()))
            }
            ffi::PAM_SUCCESS | ffi::PAM_BAD_ITEM => Ok(None),
            e => Err(e),
        }
    }

    /// `pam_get_user`: the user name, prompting through the conversation if unset.
    pub fn user(&self) -> Result<&[u8], Code> {
        let mut p: *const std::ffi::c_char = std::ptr::null();
        // SAFETY: valid handle; `p` is a valid out-pointer; a NULL prompt means libpam's default.
        let r = unsafe { ffi::pam_get_user(self.raw(), &mut p, std::ptr::null()) };
        if r != ffi::PAM_SUCCESS {
            return Err(r);
        }
        if p.is_null() {
            return Ok(b"");
        }
        // SAFETY: on success libpam returns its PAM_USER item, a NUL-terminated string that lives
        // until PAM_USER is set again, which this module never does.
        Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
    }

    /// `pam_getenv`, copied out. `None` when unset.
    pub fn getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        // SAFETY: valid handle and NUL-terminated name.
        let p = unsafe { ffi::pam_getenv(self.raw(), name.as_ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: libpam returned a NUL-terminated string from its environment; it is copied
        // before any later call could change that environment.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
    }

    /// `pam_putenv("NAME=VALUE")`. A value with a NUL byte cannot be represented: PAM_BUF_ERR.
    pub fn putenv(&self, name: &str, value: &[u8]) -> Result<(), Code> {
        let mut s = Vec::with_capacity(name.len() + 1 + value.len() + 1);
        s.extend_from_slice(name.as_bytes());
        s.push(b'=');
        s.extend_from_slice(value);
        let s = CString::new(s).map_err(|_| ffi::PAM_BUF_ERR)?;
        // SAFETY: valid handle; libpam copies the string.
        let r = unsafe { ffi::pam_putenv(self.raw(), s.as_ptr()) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }

    /// `pam_get_data` of a raw pointer. `Ok(None)` for PAM_NO_MODULE_DATA.
    pub fn data_ptr(&self, name: &CStr) -> Result<Option<*const c_void>, Code> {
        let mut p: *const c_void = std::ptr::null();
        // SAFETY: valid handle, NUL-terminated name, valid out-pointer.
        let r = unsafe { ffi::pam_get_data(self.raw(), name.as_ptr(), &mut p) };
        match r {
            ffi::PAM_SUCCESS => Ok(Some(p)),
            ffi::PAM_NO_MODULE_DATA => Ok(None),
            e => Err(e),
        }
    }

    /// `pam_get_data` of a NUL-terminated string stored by another module (such as
    /// `systemd.memory_max`). A NULL pointer reads as absent.
    pub fn data_str(&self, name: &CStr) -> Result<Option<&[u8]>, Code> {
        match self.data_ptr(name)? {
            Some(p) if !p.is_null() => {
                // SAFETY: by the pam_systemd convention these keys hold NUL-terminated strings,
                // owned by the module that set them until the key is set again or pam_end.
                Ok(Some(unsafe { CStr::from_ptr(p.cast()) }.to_bytes()))
            }
            _ => Ok(None),
        }
    }

    /// `pam_set_data` of a plain value with no cleanup function (the C module's
    /// `INT_TO_PTR`/`FD_TO_PTR` data: nothing to free).
    pub fn set_data_value(&self, name: &CStr, value: usize) -> Result<(), Code> {
        // SAFETY: valid handle and name; the "pointer" is an integer that is never dereferenced,
        // and with no cleanup libpam never frees it.
        let r = unsafe { ffi::pam_set_data(self.raw(), name.as_ptr(), value as *mut c_void, None) };
        if r == ffi::PAM_SUCCESS { Ok(()) } else { Err(r) }
    }

    /// `pam_set_data` of a string libpam frees with `free()` at `pam_end`.
    pub fn set_data_string(&self, name: &CStr, value: &[u8]) -> Result<(), Code> {
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

    /// `pam_strerror`, for log lines.
    pub fn strerror(&self, code: Code) -> String {
        // SAFETY: valid handle; libpam returns a static string (or NULL).
        let p = unsafe { ffi::pam_strerror(self.raw(), code) };
        if p.is_null() {
            return format!("PAM error {code}");
        }
        // SAFETY: NUL-terminated static string from libpam.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The cleanup of [`Pam::set_data_string`]: `free()`, as systemd's `pam_cleanup_free`.
unsafe extern "C" fn free_cleanup(_h: *mut PamHandle, data: *mut c_void, _status: c_int) {
    // SAFETY: `data` is the malloc'ed block handed to pam_set_data (free(NULL) is a no-op).
    unsafe { libc::free(data) };
}
