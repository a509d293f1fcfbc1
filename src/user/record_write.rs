//! The user record writer: the JSON string pam_systemd v252 caches as
//! `systemd-user-record-<name>` for a user found through NSS, byte for byte as
//! `nss_passwd_to_user_record()` + `json_variant_format(json, 0)` produce it
//! (`src/shared/user-record-nss.c`, `src/shared/json.c`); the JSON writing is `crate::json`'s.

use super::utf8::{mangle_gecos, utf8_is_valid, valid_gecos};
use crate::json::{push_bool, push_key, push_str, push_string as push_json_string, push_u64};
use crate::parse::cstr;

/// A passwd entry (`struct passwd`). `passwd` is unused by systemd (kept for completeness).
/// Owned (`Vec<u8>`, what `user::nss::lookup` returns) or borrowed (`&[u8]`, for tests and
/// fuzzing): the writer takes either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passwd<B = Vec<u8>> {
    pub name: B,
    pub passwd: B,
    pub uid: u32,
    pub gid: u32,
    pub gecos: B,
    pub dir: B,
    pub shell: B,
}

/// A shadow entry (`struct spwd`); the numbers are the `long` fields, -1 = unset. Owned (what
/// `user::nss::shadow_by_name` returns) or borrowed, as [`Passwd`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadow<B = Vec<u8>> {
    pub name: B,
    pub password: B,
    pub last_change: i64,
    pub min: i64,
    pub max: i64,
    pub warn: i64,
    pub inactive: i64,
    pub expire: i64,
}

const USEC_PER_DAY: u64 = 86_400_000_000;

/// `looks_like_hashed_password()` (src/shared/libcrypt-util.c): after skipping leading '!'s, not
/// "x" and not "*". So "", "!", "!!" and "!$6$..." count as hashed passwords.
fn looks_like_hashed_password(s: &[u8]) -> bool {
    let start = s.iter().position(|&c| c != b'!').unwrap_or(s.len());
    let rest = s.get(start..).unwrap_or_default();
    rest != b"x" && rest != b"*"
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
/// `sp` is the shadow entry if `getspnam_r` found one (`shadow_by_name`); None otherwise.
/// Returns None where systemd fails (`-EINVAL`): an empty user name, a shadow entry for another
/// name, or a user name that is not valid UTF-8 (systemd's JSON strings must be UTF-8; then
/// `userdb_by_name` fails and pam_systemd returns PAM_USER_UNKNOWN).
pub fn record_json<B: AsRef<[u8]>, C: AsRef<[u8]>>(pw: &Passwd<B>, sp: Option<&Shadow<C>>) -> Option<Vec<u8>> {
    let name = cstr(pw.name.as_ref());
    if name.is_empty() {
        return None;
    }
    if let Some(sp) = sp
        && cstr(sp.name.as_ref()) != name
    {
        return None;
    }
    // json_variant_new_stringn() refuses invalid UTF-8 (-EUCLEAN) and json_build() fails.
    if !utf8_is_valid(name) {
        return None;
    }

    let gecos = cstr(pw.gecos.as_ref());
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
    let home = utf8_only(pw.dir.as_ref());
    let shell = utf8_only(pw.shell.as_ref());
    let hashed = sp
        .map(|sp| cstr(sp.password.as_ref()))
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
        if let Ok(e) = u64::try_from(sp.expire)
            && e > 1
            && e < (u64::MAX - 1) / USEC_PER_DAY
            && let Some(v) = e.checked_mul(USEC_PER_DAY)
        {
            push_u64(&mut out, "notAfterUSec", v);
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
