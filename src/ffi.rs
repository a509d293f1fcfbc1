//! Raw declarations of the libpam calls that pam-bindings does not wrap.
//!
//! Every libpam call returns a plain `c_int`: never a Rust enum, because libpam may return a
//! value such an enum does not have. The handle type is pam-bindings' opaque `PamHandle`.

use std::ffi::{c_char, c_int, c_void};

pub use pam::module::PamHandle;

pub const PAM_SUCCESS: c_int = 0;
pub const PAM_SERVICE_ERR: c_int = 3;
pub const PAM_SYSTEM_ERR: c_int = 4;
pub const PAM_BUF_ERR: c_int = 5;
pub const PAM_USER_UNKNOWN: c_int = 10;
pub const PAM_SESSION_ERR: c_int = 14;
pub const PAM_NO_MODULE_DATA: c_int = 18;
pub const PAM_BAD_ITEM: c_int = 29;

/// `PAM_TEXT_INFO`, the message style of `pam_info()`.
pub const PAM_TEXT_INFO: c_int = 4;
pub const PAM_SERVICE: c_int = 1;
pub const PAM_TTY: c_int = 3;
pub const PAM_RHOST: c_int = 4;
pub const PAM_RUSER: c_int = 8;
pub const PAM_XDISPLAY: c_int = 11;

/// The cleanup callback type of `pam_set_data`.
pub type Cleanup = unsafe extern "C" fn(pamh: *mut PamHandle, data: *mut c_void, error_status: c_int);

unsafe extern "C" {
    /// glibc's `secure_getenv(3)`: NULL in AT_SECURE (setuid/setcap) processes.
    pub fn secure_getenv(name: *const c_char) -> *mut c_char;
}

#[link(name = "pam")]
unsafe extern "C" {
    pub fn pam_get_item(pamh: *const PamHandle, item_type: c_int, item: *mut *const c_void) -> c_int;
    pub fn pam_get_user(pamh: *mut PamHandle, user: *mut *const c_char, prompt: *const c_char) -> c_int;
    pub fn pam_getenv(pamh: *mut PamHandle, name: *const c_char) -> *const c_char;
    pub fn pam_putenv(pamh: *mut PamHandle, name_value: *const c_char) -> c_int;
    pub fn pam_get_data(pamh: *const PamHandle, name: *const c_char, data: *mut *const c_void) -> c_int;
    pub fn pam_set_data(
        pamh: *mut PamHandle,
        name: *const c_char,
        data: *mut c_void,
        cleanup: Option<Cleanup>,
    ) -> c_int;
    pub fn pam_strerror(pamh: *mut PamHandle, errnum: c_int) -> *const c_char;
    /// `pam_prompt(3)` (pam_ext.h; `pam_info()` is a macro over it): a message through the
    /// conversation.
    pub fn pam_prompt(pamh: *mut PamHandle, style: c_int, response: *mut *mut c_char, fmt: *const c_char, ...)
    -> c_int;
}
