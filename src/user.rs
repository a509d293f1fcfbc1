//! The user record (spec §3A step 2): `userdb_by_name()` as it behaves for the accounts of a
//! Debian system, i.e. systemd's name validation followed by an NSS `getpwnam_r` lookup.

use std::ffi::CString;

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

/// A passwd entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub passwd: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub gecos: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// Looks `name` up through NSS.
pub fn lookup(name: &[u8]) -> Result<User, LookupError> {
    if !crate::user_record::valid_user_name_relaxed(name) {
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
        return Ok(User {
            name: field(pwd.pw_name),
            passwd: field(pwd.pw_passwd),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: field(pwd.pw_gecos),
            home: field(pwd.pw_dir),
            shell: field(pwd.pw_shell),
        });
    }
}

impl User {
    /// The entry as `user_record` takes it.
    pub fn as_passwd(&self) -> crate::user_record::Passwd<'_> {
        crate::user_record::Passwd {
            name: &self.name,
            passwd: &self.passwd,
            uid: self.uid,
            gid: self.gid,
            gecos: &self.gecos,
            dir: &self.home,
            shell: &self.shell,
        }
    }
}

#[cfg(test)]
mod tests;
