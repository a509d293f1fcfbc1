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

/// The parts of a passwd entry the module uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub gecos: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// systemd's `valid_user_group_name(name, VALID_USER_RELAX)` (user-util.c), which
/// `userdb_by_name()` applies before any lookup.
pub fn valid_user_name_relaxed(name: &[u8]) -> bool {
    let Some((&first, _)) = name.split_first() else {
        return false;
    };
    if first == b' ' || name.last() == Some(&b' ') {
        return false;
    }
    if first == b'+' || first == b'-' {
        return false;
    }
    if std::str::from_utf8(name).is_err() {
        return false;
    }
    if name.iter().any(|&c| c < b' ' || c == 127) {
        return false;
    }
    if name.iter().any(|&c| c == b':' || c == b'/') {
        return false;
    }
    // All digits: a UID-looking name (parse_uid, and the "fully numeric" rule); the forms
    // parse_uid also takes (leading space, `+`) are refused above.
    if name.iter().all(u8::is_ascii_digit) {
        return false;
    }
    name != b"." && name != b".."
}

/// Looks `name` up through NSS.
pub fn lookup(name: &[u8]) -> Result<User, LookupError> {
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
        let r = unsafe {
            libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), size, &mut result)
        };
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
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: field(pwd.pw_gecos),
            home: field(pwd.pw_dir),
            shell: field(pwd.pw_shell),
        });
    }
}

/// `uid_is_valid()`: neither `(uid_t)-1` nor the 16-bit `(uid_t)-1`, 65535.
pub fn uid_is_valid(uid: u32) -> bool {
    uid != u32::MAX && uid != 65535
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_name_table() {
        let rows: &[(&[u8], bool)] = &[
            (b"root", true),
            (b"alice", true),
            (b"Alice.Smith@EXAMPLE", true),
            (b"a b", true),
            (b"", false),
            (b"0", false),
            (b"1000", false),
            (b"99999999999", false),
            (b" alice", false),
            (b"alice ", false),
            (b"+nis", false),
            (b"-1", false),
            (b"-alice", false),
            (b"al:ice", false),
            (b"a/b", false),
            (b"a\nb", false),
            (b"a\x7fb", false),
            (b"\xff", false),
            (b".", false),
            (b"..", false),
            (b"...", true),
            (b"1a", true),
        ];
        for &(name, ok) in rows {
            assert_eq!(valid_user_name_relaxed(name), ok, "{:?}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn lookup_root_and_missing() {
        let root = lookup(b"root").unwrap();
        assert_eq!((root.uid, root.name.as_slice()), (0, &b"root"[..]));
        assert_eq!(lookup(b"no-such-user-pam-systemd-rs"), Err(LookupError::NotFound));
        assert_eq!(lookup(b"0"), Err(LookupError::InvalidName));
    }

    #[test]
    fn uid_validity() {
        assert!(uid_is_valid(0));
        assert!(uid_is_valid(1000));
        assert!(!uid_is_valid(65535));
        assert!(!uid_is_valid(u32::MAX));
    }
}
