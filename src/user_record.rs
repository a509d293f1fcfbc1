//! The user record that pam_systemd v252 caches as PAM data `systemd-user-record-<name>`.
//!
//! The C module (`acquire_user_record()`) either reuses a JSON record already cached under that key
//! (loaded permissively: [`cached_identity`]) or asks `userdb_by_name(name, 0)`. On Debian 12 without
//! systemd-userdbd and without JSON drop-ins that ends in `nss_user_record_by_name(name,
//! with_shadow=true)` (systemd `src/shared/userdb.c`, `src/shared/user-record-nss.c`): `getpwnam_r`,
//! then `getspnam_r` (always tried, whatever `pw_passwd` is; any failure is ignored and the record is
//! built without shadow data), then `nss_passwd_to_user_record()`, whose `json_build()` result is
//! formatted with `json_variant_format(json, 0)` and cached. [`record_json`] reproduces that string
//! byte for byte; [`shadow_by_name`] is the `nss_spwd_for_passwd()` lookup.
//!
//! All string fields are C strings: bytes after a NUL are ignored, as the C code would never see
//! them.

use std::ffi::CStr;

/// A passwd entry (`struct passwd`). `passwd` is unused by systemd (kept for completeness).
#[derive(Clone, Copy, Debug)]
pub struct Passwd<'a> {
    pub name: &'a [u8],
    pub passwd: &'a [u8],
    pub uid: u32,
    pub gid: u32,
    pub gecos: &'a [u8],
    pub dir: &'a [u8],
    pub shell: &'a [u8],
}

/// A shadow entry (`struct spwd`); the numbers are the `long` fields, -1 = unset.
#[derive(Clone, Copy, Debug)]
pub struct Shadow<'a> {
    pub name: &'a [u8],
    pub password: &'a [u8],
    pub last_change: i64,
    pub min: i64,
    pub max: i64,
    pub warn: i64,
    pub inactive: i64,
    pub expire: i64,
}

/// An owned shadow entry, as returned by [`shadow_by_name`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: Vec<u8>,
    pub password: Vec<u8>,
    pub last_change: i64,
    pub min: i64,
    pub max: i64,
    pub warn: i64,
    pub inactive: i64,
    pub expire: i64,
}

impl ShadowEntry {
    pub fn as_shadow(&self) -> Shadow<'_> {
        Shadow {
            name: &self.name,
            password: &self.password,
            last_change: self.last_change,
            min: self.min,
            max: self.max,
            warn: self.warn,
            inactive: self.inactive,
            expire: self.expire,
        }
    }
}

const USEC_PER_DAY: u64 = 86_400_000_000;

/// The bytes of a C string: up to the first NUL.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => b.get(..n).unwrap_or(b),
        None => b,
    }
}

// ---------------------------------------------------------------------------------------------
// systemd's UTF-8 rules (src/basic/utf8.c)
// ---------------------------------------------------------------------------------------------

/// `unichar_is_valid()`: below 0x110000, no UTF-16 surrogates, not U+FDD0..U+FDEF, and not
/// U+xxFFFE / U+xxFFFF.
fn unichar_is_valid(ch: u32) -> bool {
    ch < 0x11_0000 && (ch & 0xFFFF_F800) != 0xD800 && !(0xFDD0..=0xFDEF).contains(&ch) && (ch & 0xFFFE) != 0xFFFE
}

/// `utf8_encoded_valid_unichar(s, SIZE_MAX)`: the length of the valid character at the start of `s`
/// (non-empty), or None. Overlong forms, 5/6-byte forms and truncated sequences are invalid.
fn utf8_char_len(s: &[u8]) -> Option<usize> {
    let c0 = *s.first()?;
    let len = if c0 < 0x80 {
        return Some(1);
    } else if c0 & 0xe0 == 0xc0 {
        2
    } else if c0 & 0xf0 == 0xe0 {
        3
    } else if c0 & 0xf8 == 0xf0 {
        4
    } else {
        // 5- and 6-byte forms decode to values >= 0x200000, which are never valid; bare
        // continuation bytes and 0xfe/0xff have no length.
        return None;
    };
    let seq = s.get(..len)?;
    let mut ch: u32 = u32::from(c0) & (0x7f >> len);
    for &b in seq.iter().skip(1) {
        if b & 0xc0 != 0x80 {
            return None;
        }
        ch = (ch << 6) | u32::from(b & 0x3f);
    }
    let encoded_len = if ch < 0x80 {
        1
    } else if ch < 0x800 {
        2
    } else if ch < 0x1_0000 {
        3
    } else {
        4
    };
    if encoded_len != len || !unichar_is_valid(ch) {
        return None;
    }
    Some(len)
}

/// `utf8_is_valid()` on a C string.
fn utf8_is_valid(s: &[u8]) -> bool {
    let mut rest = s;
    while !rest.is_empty() {
        match utf8_char_len(rest) {
            Some(n) => rest = rest.get(n..).unwrap_or_default(),
            None => return false,
        }
    }
    true
}

/// `char_is_cc()`.
fn char_is_cc(c: u8) -> bool {
    c < b' ' || c == 127
}

/// `valid_gecos()` (src/basic/user-util.c): UTF-8, no control characters (incl. DEL), no ':'.
fn valid_gecos(d: &[u8]) -> bool {
    utf8_is_valid(d) && !d.iter().any(|&c| char_is_cc(c) || c == b':')
}

/// `mangle_gecos()`: bytes below ' ', ':' and each byte that does not start a valid UTF-8
/// character become ' ' (DEL is kept).
fn mangle_gecos(d: &[u8]) -> Vec<u8> {
    let mut out = d.to_vec();
    let mut i = 0;
    while let Some(rest) = out.get_mut(i..) {
        let Some(&c) = rest.first() else { break };
        if c < b' ' || c == b':' {
            if let Some(b) = rest.first_mut() {
                *b = b' ';
            }
            i += 1;
            continue;
        }
        match utf8_char_len(rest) {
            Some(n) => i += n,
            None => {
                if let Some(b) = rest.first_mut() {
                    *b = b' ';
                }
                i += 1;
            }
        }
    }
    out
}

/// `looks_like_hashed_password()` (src/shared/libcrypt-util.c): after skipping leading '!'s, not
/// "x" and not "*". So "", "!", "!!" and "!$6$..." count as hashed passwords.
fn looks_like_hashed_password(s: &[u8]) -> bool {
    let start = s.iter().position(|&c| c != b'!').unwrap_or(s.len());
    let rest = s.get(start..).unwrap_or_default();
    rest != b"x" && rest != b"*"
}

// ---------------------------------------------------------------------------------------------
// json_variant_format(v, 0) (src/shared/json.c)
// ---------------------------------------------------------------------------------------------

/// `json_format_string()`: `"`, `\`, \b \f \n \r \t escaped; other bytes below 0x20 as `\u00xx`
/// (lower-case hex); everything else (DEL, non-ASCII UTF-8) raw.
fn push_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'));
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// Appends `,"key":` (the comma only when the object already has a member).
fn push_key(out: &mut Vec<u8>, key: &str) {
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    push_json_string(out, key.as_bytes());
    out.push(b':');
}

fn push_u64(out: &mut Vec<u8>, key: &str, v: u64) {
    push_key(out, key);
    out.extend_from_slice(v.to_string().as_bytes());
}

fn push_bool(out: &mut Vec<u8>, key: &str, v: bool) {
    push_key(out, key);
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

fn push_str(out: &mut Vec<u8>, key: &str, v: &[u8]) {
    push_key(out, key);
    push_json_string(out, v);
}

/// `days * USEC_PER_DAY` when `days > 0` and `days <= (UINT64_MAX-1)/USEC_PER_DAY`.
fn days_usec(days: i64) -> Option<u64> {
    let d = u64::try_from(days)
        .ok()
        .filter(|&d| d > 0 && d <= (u64::MAX - 1) / USEC_PER_DAY)?;
    d.checked_mul(USEC_PER_DAY)
}

/// The JSON string that pam_systemd v252 caches as `systemd-user-record-<name>` for a user found
/// through NSS: `nss_passwd_to_user_record(pw, sp)` + `json_variant_format(json, 0)`.
///
/// `sp` is the shadow entry if `getspnam_r` found one (see [`shadow_by_name`]); None otherwise.
/// Returns None where systemd fails (`-EINVAL`): an empty user name, a shadow entry for another
/// name, or a user name that is not valid UTF-8 (systemd's JSON strings must be UTF-8; then
/// `userdb_by_name` fails and pam_systemd returns PAM_USER_UNKNOWN).
pub fn record_json(pw: &Passwd, sp: Option<&Shadow>) -> Option<Vec<u8>> {
    let name = cstr(pw.name);
    if name.is_empty() {
        return None;
    }
    if let Some(sp) = sp {
        if cstr(sp.name) != name {
            return None;
        }
    }
    // json_variant_new_stringn() refuses invalid UTF-8 (-EUCLEAN) and json_build() fails.
    if !utf8_is_valid(name) {
        return None;
    }

    let gecos = cstr(pw.gecos);
    let real_name: Option<Vec<u8>> = if gecos.is_empty() || gecos == name {
        None
    } else if valid_gecos(gecos) {
        Some(gecos.to_vec())
    } else {
        Some(mangle_gecos(gecos))
    };
    let utf8_only = |s: &'_ [u8]| -> Option<Vec<u8>> {
        let s = cstr(s);
        (!s.is_empty() && utf8_is_valid(s)).then(|| s.to_vec())
    };
    let home = utf8_only(pw.dir);
    let shell = utf8_only(pw.shell);
    let hashed = sp
        .map(|sp| cstr(sp.password))
        .filter(|p| utf8_is_valid(p) && looks_like_hashed_password(p));

    let mut out = Vec::with_capacity(256);
    out.push(b'{');
    push_str(&mut out, "userName", name);
    push_u64(&mut out, "uid", u64::from(pw.uid));
    push_u64(&mut out, "gid", u64::from(pw.gid));
    if let Some(r) = &real_name {
        push_str(&mut out, "realName", r);
    }
    if let Some(h) = &home {
        push_str(&mut out, "homeDirectory", h);
    }
    if let Some(s) = &shell {
        push_str(&mut out, "shell", s);
    }
    if let Some(h) = hashed {
        push_key(&mut out, "privileged");
        out.push(b'{');
        push_key(&mut out, "hashedPassword");
        out.push(b'[');
        push_json_string(&mut out, h);
        out.push(b']');
        out.push(b'}');
    }
    if let Some(sp) = sp {
        // "chage -E 0" (or 1) locks the account.
        if sp.expire >= 0 {
            push_bool(&mut out, "locked", sp.expire <= 1);
        }
        // Note the strict '<' here, unlike the other day counts.
        if let Ok(e) = u64::try_from(sp.expire) {
            if e > 1 && e < (u64::MAX - 1) / USEC_PER_DAY {
                if let Some(v) = e.checked_mul(USEC_PER_DAY) {
                    push_u64(&mut out, "notAfterUSec", v);
                }
            }
        }
        if sp.last_change >= 0 {
            push_bool(&mut out, "passwordChangeNow", sp.last_change == 0);
        }
        for (key, days) in [
            ("lastPasswordChangeUSec", sp.last_change),
            ("passwordChangeMinUSec", sp.min),
            ("passwordChangeMaxUSec", sp.max),
            ("passwordChangeWarnUSec", sp.warn),
            ("passwordChangeInactiveUSec", sp.inactive),
        ] {
            if let Some(v) = days_usec(days) {
                push_u64(&mut out, key, v);
            }
        }
    }
    out.push(b'}');
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// I/O: the shadow lookup
// ---------------------------------------------------------------------------------------------

/// `nss_spwd_for_passwd()`: `getspnam_r(name)`, growing the buffer on ERANGE (from 4096 bytes).
/// None when there is no entry or on any error (not root: EACCES; ...): systemd ignores the
/// failure and builds the record without shadow data. Called for every NSS user, whatever the
/// passwd entry's password field says.
pub fn shadow_by_name(name: &CStr) -> Option<ShadowEntry> {
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
            // SAFETY: on success the string fields are NULL or NUL-terminated strings in buf
            // (or static storage), alive while buf is.
            let s = |p: *const libc::c_char| -> Vec<u8> {
                if p.is_null() {
                    Vec::new()
                } else {
                    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
                }
            };
            return Some(ShadowEntry {
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
