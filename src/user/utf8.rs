//! systemd's UTF-8 and name rules (`src/basic/utf8.c`, `src/basic/user-util.c`), as the user
//! record writer and reader apply them: what counts as a valid character, a valid GECOS field and
//! a valid user name.

/// `unichar_is_valid()`: below 0x110000, no UTF-16 surrogates, not U+FDD0..U+FDEF, and not
/// U+xxFFFE / U+xxFFFF.
pub(crate) fn unichar_is_valid(ch: u32) -> bool {
    ch < 0x11_0000 && (ch & 0xFFFF_F800) != 0xD800 && !(0xFDD0..=0xFDEF).contains(&ch) && (ch & 0xFFFE) != 0xFFFE
}

/// `utf8_encoded_valid_unichar(s, SIZE_MAX)`: the length of the valid character at the start of `s`
/// (non-empty), or None. Overlong forms, 5/6-byte forms and truncated sequences are invalid.
pub(crate) fn utf8_char_len(s: &[u8]) -> Option<usize> {
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
pub(crate) fn utf8_is_valid(s: &[u8]) -> bool {
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
pub(crate) fn char_is_cc(c: u8) -> bool {
    c < b' ' || c == 127
}

/// `valid_gecos()` (src/basic/user-util.c): UTF-8, no control characters (incl. DEL), no ':'.
pub(super) fn valid_gecos(d: &[u8]) -> bool {
    utf8_is_valid(d) && !d.iter().any(|&c| char_is_cc(c) || c == b':')
}

/// `mangle_gecos()`: bytes below ' ', ':' and each byte that does not start a valid UTF-8
/// character become ' ' (DEL is kept).
pub(super) fn mangle_gecos(d: &[u8]) -> Vec<u8> {
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

/// `valid_user_group_name(name, VALID_USER_RELAX)`: also the first check of `userdb_by_name()`
/// (an invalid name fails with EINVAL: "Failed to get user record: Invalid argument", PAM_USER_UNKNOWN).
pub fn valid_user_name_relaxed(u: &[u8]) -> bool {
    let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    !u.is_empty()
        && u.first() != Some(&b' ')
        && u.last() != Some(&b' ')
        && utf8_is_valid(u)
        && !u.iter().any(|&c| char_is_cc(c) || c == b':' || c == b'/')
        && !all_digits(u)
        && !(u.first() == Some(&b'-') && all_digits(u.get(1..).unwrap_or_default()))
        && u != b"."
        && u != b".."
}
