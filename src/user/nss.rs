//! NSS: `getpwnam_r` and `getspnam_r`, as systemd's `nss_user_record_by_name()` calls them
//! (`src/shared/user-record-nss.c`) for the accounts of a Debian system.

use std::ffi::{CStr, CString};

use super::record_write::{Passwd, Shadow};
use super::utf8::valid_user_name_relaxed;

/// Why no record was found. Each maps to PAM_USER_UNKNOWN with
/// `Failed to get user record: <strerror>`, as in the C module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// The name fails systemd's relaxed user name check: `EINVAL`.
    InvalidName,
    /// No such user: userdb's `ESRCH`.
    NotFound,
    /// NSS failed with this errno.
    Errno(i32),
}

impl LookupError {
    pub fn errno(self) -> i32 {
        match self {
            LookupError::InvalidName => libc::EINVAL,
            LookupError::NotFound => libc::ESRCH,
            LookupError::Errno(e) => e,
        }
    }
}

/// Looks `name` up through NSS.
pub fn lookup(name: &[u8]) -> Result<Passwd, LookupError> {
    if !valid_user_name_relaxed(name) {
        return Err(LookupError::InvalidName);
    }
    let cname = CString::new(name).map_err(|_| LookupError::InvalidName)?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let hint = unsafe { libc::sysconf(libc::_SC_GETPW_R_SIZE_MAX) };
    let mut size = usize::try_from(hint).ok().filter(|&n| n > 0).unwrap_or(1024).max(256);
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: an all-zero passwd is a valid value for an out-parameter struct of pointers
        // and integers.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; buf has `size` writable bytes.
        let r = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), size, &mut result) };
        if r == libc::ERANGE && size < (1 << 20) {
            size = size.saturating_mul(2);
            continue;
        }
        if r != 0 {
            return Err(LookupError::Errno(r));
        }
        if result.is_null() {
            return Err(LookupError::NotFound);
        }
        let field = |p: *const libc::c_char| -> Vec<u8> {
            if p.is_null() {
                Vec::new()
            } else {
                // SAFETY: getpwnam_r filled `pwd` with NUL-terminated strings inside `buf`,
                // which is alive here.
                unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec()
            }
        };
        return Ok(Passwd {
            name: field(pwd.pw_name),
            passwd: field(pwd.pw_passwd),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: field(pwd.pw_gecos),
            dir: field(pwd.pw_dir),
            shell: field(pwd.pw_shell),
        });
    }
}

/// `nss_spwd_for_passwd()`: `getspnam_r(name)`, growing the buffer on ERANGE (from 4096 bytes).
/// None when there is no entry or on any error (not root: EACCES; ...): systemd ignores the
/// failure and builds the record without shadow data. Called for every NSS user, whatever the
/// passwd entry's password field says.
pub fn shadow_by_name(name: &CStr) -> Option<Shadow> {
    let mut buflen: usize = 4096;
    loop {
        let mut buf: Vec<libc::c_char> = vec![0; buflen];
        // SAFETY: an all-zero spwd (null pointers, zero numbers) is a valid value.
        let mut sp: libc::spwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::spwd = std::ptr::null_mut();
        // SAFETY: name is NUL-terminated; buf is valid for buflen bytes; sp and result are valid
        // out-pointers. On success result points to sp, whose strings point into buf.
        let r = unsafe { libc::getspnam_r(name.as_ptr(), &mut sp, buf.as_mut_ptr(), buf.len(), &mut result) };
        if r == 0 {
            if result.is_null() {
                return None;
            }
            let s = |p: *const libc::c_char| -> Vec<u8> {
                if p.is_null() {
                    Vec::new()
                } else {
                    // SAFETY: on success the string fields are NULL (handled above) or
                    // NUL-terminated strings in buf (or static storage), alive while buf is.
                    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
                }
            };
            // `long` is i64 here but not on every target.
            #[allow(clippy::useless_conversion)]
            return Some(Shadow {
                name: s(sp.sp_namp),
                password: s(sp.sp_pwdp),
                last_change: i64::from(sp.sp_lstchg),
                min: i64::from(sp.sp_min),
                max: i64::from(sp.sp_max),
                warn: i64::from(sp.sp_warn),
                inactive: i64::from(sp.sp_inact),
                expire: i64::from(sp.sp_expire),
            });
        }
        if r != libc::ERANGE || buflen > usize::MAX / 2 {
            return None;
        }
        buflen *= 2;
    }
}

/// `getpwuid_r(uid)`: the user's name, if NSS knows the uid (growing the buffer on ERANGE, from
/// 4096 bytes). The one uid → name look-up: the diagnosis' `loginctl enable-linger NAME` and the
/// doctor's `USER` given as a number.
pub fn name_of_uid(uid: u32) -> Option<String> {
    let mut buflen: usize = 4096;
    loop {
        let mut buf = vec![0u8; buflen];
        // SAFETY: an all-zero passwd is a valid out-parameter.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: valid pointers; buf has buf.len() writable bytes.
        let r = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
        if r == libc::ERANGE && buflen < (1 << 20) {
            buflen = buflen.saturating_mul(2);
            continue;
        }
        if r != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        return Some(String::from_utf8_lossy(name.to_bytes()).into_owned());
    }
}
