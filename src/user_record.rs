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

/// The PAM data key is this prefix + the user name; the value is the JSON as a C string.
pub const DATA_KEY_PREFIX: &str = "systemd-user-record-";

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
    if let Some(sp) = sp
        && cstr(sp.name) != name
    {
        return None;
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
                    // SAFETY: see above: a non-NULL field is a NUL-terminated string in buf.
                    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
                }
            };
            // `long` is i64 here but not on every target.
            #[allow(clippy::useless_conversion)]
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

// ---------------------------------------------------------------------------------------------
// Reading a cached record: json_parse(JSON_PARSE_SENSITIVE) + user_record_load(
// USER_RECORD_LOAD_REFUSE_SECRET|USER_RECORD_PERMISSIVE), reduced to what pam_systemd uses next:
// `userName` and `uid`.
// ---------------------------------------------------------------------------------------------

/// What a cached record's `perMachine` and `binding` sections are matched against: the machine ID
/// (`sd_id128_get_machine()`) and the host name (`gethostname_malloc()`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    /// None when /etc/machine-id is missing, invalid or all-zero.
    pub machine_id: Option<[u8; 16]>,
    pub hostname: Option<Vec<u8>>,
}

impl Machine {
    /// This machine: /etc/machine-id and uname's nodename ("localhost" when empty or "(none)").
    pub fn current() -> Machine {
        let machine_id = std::fs::read("/etc/machine-id").ok().and_then(|b| {
            let t = b.strip_suffix(b"\n").unwrap_or(&b);
            if t.len() != 32 {
                return None;
            }
            parse_id128(t).filter(|id| id.iter().any(|&x| x != 0))
        });
        // SAFETY: utsname is plain data; uname fills it with NUL-terminated strings.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: a valid out-pointer to a utsname.
        let hostname = if unsafe { libc::uname(&mut u) } == 0 {
            let n: Vec<u8> = u.nodename.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
            Some(if n.is_empty() || n == b"(none)" {
                b"localhost".to_vec()
            } else {
                n
            })
        } else {
            None
        };
        Machine { machine_id, hostname }
    }
}

/// `sd_id128_from_string()`: 32 hex digits (either case), or the 36-character UUID form with
/// dashes at positions 8, 13, 18, 23.
fn parse_id128(s: &[u8]) -> Option<[u8; 16]> {
    let digits: Vec<u8> = match s.len() {
        32 => s.to_vec(),
        36 => {
            let mut d = Vec::with_capacity(32);
            for (i, &c) in s.iter().enumerate() {
                if matches!(i, 8 | 13 | 18 | 23) {
                    if c != b'-' {
                        return None;
                    }
                } else {
                    d.push(c);
                }
            }
            d
        }
        _ => return None,
    };
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// A parsed JSON value; containers nested deeper than [`KEEP_DEPTH`] are validated but not kept.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Bool,
    Unsigned(u64),
    Integer(i64),
    Real(f64),
    Str(Vec<u8>),
    Array(Vec<Value>),
    Object(Vec<(Vec<u8>, Value)>),
    /// A container below KEEP_DEPTH (its content is irrelevant here).
    Deep,
}

/// json.c's DEPTH_MAX: a value nested more than this many levels below the top-level value is an
/// error (measured against libsystemd-shared-252).
const DEPTH_MAX: usize = 2048;
/// How many levels of containers are kept (top object, perMachine array, entry, matchMachineId
/// array / binding entry object).
const KEEP_DEPTH: usize = 4;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    /// json.c skips " \t\n\r" only.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s.get(self.pos..).is_some_and(|r| r.starts_with(lit)) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }
    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = char::from(self.peek()?).to_digit(16)?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Some(v)
    }

    /// A string (after the opening quote): escapes \" \\ \/ \b \f \n \r \t \uXXXX (surrogate
    /// pairs combined; lone surrogates, \u0000 and non-characters refused); raw bytes below 0x20
    /// and DEL refused; raw bytes must be valid UTF-8 by systemd's rules.
    fn string(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            match c {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek()?;
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(0x08),
                        b'f' => Some(0x0c),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return None,
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        continue;
                    }
                    let x = self.hex4()?;
                    let ch = if (0xD800..=0xDBFF).contains(&x) {
                        if !self.eat(b"\\u") {
                            return None;
                        }
                        let y = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&y) {
                            return None;
                        }
                        0x10000 + ((x - 0xD800) << 10) + (y - 0xDC00)
                    } else {
                        x
                    };
                    if ch == 0 || !unichar_is_valid(ch) {
                        return None;
                    }
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(char::from_u32(ch)?.encode_utf8(&mut buf).as_bytes());
                }
                c if char_is_cc(c) => return None,
                _ => {
                    let n = utf8_char_len(self.s.get(self.pos..)?)?;
                    out.extend_from_slice(self.s.get(self.pos..self.pos + n)?);
                    self.pos += n;
                }
            }
        }
    }

    /// json_parse_number(): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; integers that overflow
    /// 64 bits become reals.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.eat(b"-");
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let int_end = self.pos;
        let mut real = false;
        if self.eat(b".") {
            real = true;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            real = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(self.s.get(start..self.pos)?).ok()?;
        if !real {
            let digits = std::str::from_utf8(self.s.get(int_start..int_end)?).ok()?;
            if negative {
                if let Ok(i) = text.parse::<i64>() {
                    return Some(Value::Integer(i));
                }
            } else if let Ok(u) = digits.parse::<u64>() {
                return Some(Value::Unsigned(u));
            }
        }
        // Note: systemd computes reals in long double with exp10l(), which is not always exact
        // (1e3 comes out below 1000); this is the correctly rounded value.
        text.parse::<f64>().ok().map(Value::Real)
    }

    /// A value at nesting `level` (the top-level value is level 0).
    fn value(&mut self, level: usize) -> Option<Value> {
        if level > DEPTH_MAX {
            return None;
        }
        self.skip_ws();
        let c = self.peek()?;
        match c {
            b'{' | b'[' if level >= KEEP_DEPTH => {
                self.skip_container(level)?;
                Some(Value::Deep)
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.eat(b"}") {
                    return Some(Value::Object(members));
                }
                loop {
                    self.skip_ws();
                    if !self.eat(b"\"") {
                        return None;
                    }
                    let k = self.string()?;
                    self.skip_ws();
                    if !self.eat(b":") {
                        return None;
                    }
                    let v = self.value(level + 1)?;
                    members.push((k, v));
                    self.skip_ws();
                    if self.eat(b"}") {
                        return Some(Value::Object(members));
                    }
                    if !self.eat(b",") {
                        return None;
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.eat(b"]") {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(level + 1)?);
                    self.skip_ws();
                    if self.eat(b"]") {
                        return Some(Value::Array(items));
                    }
                    if !self.eat(b",") {
                        return None;
                    }
                }
            }
            _ => self.scalar(),
        }
    }

    fn scalar(&mut self) -> Option<Value> {
        let c = self.peek()?;
        let v = match c {
            b'"' => {
                self.pos += 1;
                Value::Str(self.string()?)
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ if self.eat(b"true") || self.eat(b"false") => Value::Bool,
            _ if self.eat(b"null") => Value::Null,
            _ => return None,
        };
        // What may follow a value: whitespace, ',', ']', '}', ':' or the end ("1x", "truex" fail).
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b':') => Some(v),
            Some(_) => None,
        }
    }

    /// Validates a container starting at the current '{' or '[' (at nesting `level`) without
    /// recursion.
    fn skip_container(&mut self, level: usize) -> Option<()> {
        // Stack of open containers: true = object.
        let mut stack: Vec<bool> = Vec::new();
        let open = |p: &mut Parser, stack: &mut Vec<bool>| -> Option<()> {
            let is_obj = p.peek()? == b'{';
            p.pos += 1;
            stack.push(is_obj);
            Some(())
        };
        open(self, &mut stack)?;
        // After opening: the first member or the close.
        let mut expect_first = true;
        while let Some(&is_obj) = stack.last() {
            self.skip_ws();
            if expect_first && self.eat(if is_obj { b"}" } else { b"]" }) {
                stack.pop();
                expect_first = false;
                continue;
            }
            if !expect_first {
                if self.eat(if is_obj { b"}" } else { b"]" }) {
                    stack.pop();
                    continue;
                }
                if !self.eat(b",") {
                    return None;
                }
                self.skip_ws();
            }
            if is_obj {
                if !self.eat(b"\"") {
                    return None;
                }
                self.string()?;
                self.skip_ws();
                if !self.eat(b":") {
                    return None;
                }
                self.skip_ws();
            }
            // A member value at level + stack.len().
            if level + stack.len() > DEPTH_MAX {
                return None;
            }
            if matches!(self.peek(), Some(b'{' | b'[')) {
                open(self, &mut stack)?;
                expect_first = true;
            } else {
                self.scalar()?;
                expect_first = false;
            }
        }
        Some(())
    }
}

/// `json_parse()`: one value, surrounded by optional " \t\n\r" only.
fn parse_json(s: &[u8]) -> Option<Value> {
    let mut p = Parser { s, pos: 0 };
    let v = p.value(0)?;
    p.skip_ws();
    (p.pos == s.len()).then_some(v)
}

fn members(v: &Value) -> &[(Vec<u8>, Value)] {
    match v {
        Value::Object(m) => m,
        _ => &[],
    }
}

/// `json_variant_by_key()`: the first member with that key.
fn by_key<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    members(v)
        .iter()
        .find(|(k, _)| k.as_slice() == key.as_bytes())
        .map(|(_, v)| v)
}

/// `json_variant_has_type(v, JSON_VARIANT_UNSIGNED)` + `json_variant_unsigned()`.
fn as_unsigned(v: &Value) -> Option<u64> {
    match *v {
        Value::Unsigned(u) => Some(u),
        Value::Integer(i) => u64::try_from(i).ok(),
        // (double)(uint64_t) r == r; -0.0 passes.
        Value::Real(r) if r.fract() == 0.0 && r > -1.0 && r < 18_446_744_073_709_551_616.0 => Some(r as u64),
        _ => None,
    }
}

/// `uid_is_valid()`: not (uid_t) -1 and not the 16-bit -1.
pub fn uid_is_valid(u: u32) -> bool {
    u != u32::MAX && u != 0xFFFF
}

/// `json_dispatch()` of a "uid" field in permissive mode: the first member whose type is right
/// (unsigned) decides; a value out of range or invalid leaves `uid` unchanged.
fn dispatch_uid(obj: &Value, uid: &mut Option<u32>) {
    let first = members(obj)
        .iter()
        .find(|(k, v)| k.as_slice() == b"uid" && as_unsigned(v).is_some());
    if let Some(u) = first
        .and_then(|(_, v)| as_unsigned(v))
        .and_then(|u| u32::try_from(u).ok())
        && uid_is_valid(u)
    {
        *uid = Some(u);
    }
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

/// `per_machine_match()`: matchMachineId (a string or an array of strings, each a 128-bit ID in
/// either form; others ignored) or matchHostname (a string compared exactly). Err where v252 fails
/// or crashes (a matchHostname array: it calls strcmp on NULL).
fn per_machine_match(entry: &Value, machine: &Machine) -> Result<bool, ()> {
    if let Some(m) = by_key(entry, "matchMachineId") {
        let ids: Vec<&Value> = match m {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        };
        for id in ids {
            if let Value::Str(s) = id
                && let Some(id) = parse_id128(s)
                && Some(id) == machine.machine_id
            {
                return Ok(true);
            }
        }
        if machine.machine_id.is_none() {
            return Err(());
        }
    }
    if let Some(m) = by_key(entry, "matchHostname") {
        match m {
            Value::Str(s) => {
                let hn = machine.hostname.as_deref().ok_or(())?;
                if s.as_slice() == hn {
                    return Ok(true);
                }
            }
            Value::Array(_) => return Err(()),
            _ => {}
        }
    }
    Ok(false)
}

/// Reads a user record cached as PAM data the way pam_systemd v252 does (`json_parse` +
/// `user_record_load(..., USER_RECORD_LOAD_REFUSE_SECRET|USER_RECORD_PERMISSIVE)`), for the two
/// fields it uses next. `json` is the C string stored (bytes after a NUL are ignored).
///
/// Err(()) where the C module fails with PAM_SERVICE_ERR before comparing names: a parse error
/// ("Failed to parse JSON user record") or a load error ("Failed to load user record"): not an
/// object, a `secret` section, no regular field, a `perMachine` that is not an array of objects,
/// a `binding` or `status` that is not an object, no valid `userName` (relaxed user-name rules).
/// Ok((userName, uid)): the caller compares userName with the PAM user ("Acquired user record
/// does not match user name.") and needs a uid (None: "... does not have a UID.").
///
/// The uid is the top-level `uid`, overridden by matching `perMachine` entries (in order) and
/// then by `binding.<machine-id>.uid`, which is why this needs the [`Machine`].
#[cfg(test)]
pub fn cached_identity_for(json: &[u8], machine: &Machine) -> Result<(String, Option<u32>), ()> {
    identity(json, || machine.clone())
        .map(|r| (r.name, r.uid))
        .map_err(drop)
}

/// [`cached_identity_for`] on this machine ([`Machine::current`], read only when the record has a
/// `perMachine` or `binding` section).
#[allow(clippy::result_unit_err)] // one outcome only: the C module's PAM_SERVICE_ERR
pub fn cached_identity(json: &[u8]) -> Result<(String, Option<u32>), ()> {
    identity(json, Machine::current).map(|r| (r.name, r.uid)).map_err(drop)
}

/// What the session needs of a cached record: name, uid and the declared disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRecord {
    pub name: String,
    pub uid: Option<u32>,
    /// The first string `disposition` member, if it names a disposition.
    pub disposition: Option<crate::context::Disposition>,
}

/// Why a cached record was refused: its C line and errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// `Failed to parse JSON user record: %m`
    Parse(i32),
    /// `Failed to load user record: %m`
    Load(i32),
}

/// [`cached_identity`] with the C module's two failures told apart.
pub fn load_cached(json: &[u8]) -> Result<CachedRecord, RecordError> {
    identity(json, Machine::current)
}

fn identity(json: &[u8], get_machine: impl FnOnce() -> Machine) -> Result<CachedRecord, RecordError> {
    // sd_json_parse() fails with EINVAL for anything that is not JSON.
    let v = parse_json(cstr(json)).ok_or(RecordError::Parse(libc::EINVAL))?;
    // user_record_load(): structural problems are EBADMSG (user_group_record_mangle()), the
    // sections' dispatchers and the missing name EINVAL.
    let bad_msg = RecordError::Load(libc::EBADMSG);
    let inval = RecordError::Load(libc::EINVAL);
    let Value::Object(top) = &v else { return Err(bad_msg) };
    // user_group_record_mangle(): sections; REQUIRE_REGULAR, secret not allowed.
    let mut regular = false;
    for (k, _) in top {
        match k.as_slice() {
            b"secret" => return Err(bad_msg),
            b"privileged" | b"perMachine" | b"binding" | b"status" | b"signature" => {}
            _ => regular = true,
        }
    }
    if !regular {
        return Err(bad_msg);
    }
    // json_dispatch(): the first string "userName" decides; an invalid name is dropped.
    let name = top
        .iter()
        .find(|(k, v)| k.as_slice() == b"userName" && matches!(v, Value::Str(_)))
        .and_then(|(_, v)| match v {
            Value::Str(s) if valid_user_name_relaxed(s) => Some(s.clone()),
            _ => None,
        });
    // The same for "disposition"; an unknown value leaves it undeclared (permissive).
    let disposition = top
        .iter()
        .find(|(k, v)| k.as_slice() == b"disposition" && matches!(v, Value::Str(_)))
        .and_then(|(_, v)| match v {
            Value::Str(s) => crate::context::Disposition::from_name(s),
            _ => None,
        });
    let mut uid = None;
    dispatch_uid(&v, &mut uid);
    let machine = if by_key(&v, "perMachine").is_some() || by_key(&v, "binding").is_some() {
        get_machine()
    } else {
        Machine::default()
    };
    let machine = &machine;
    if let Some(pm) = by_key(&v, "perMachine") {
        let Value::Array(entries) = pm else { return Err(inval) };
        for e in entries {
            if !matches!(e, Value::Object(_)) {
                return Err(inval);
            }
            if per_machine_match(e, machine).map_err(|()| inval)? {
                dispatch_uid(e, &mut uid);
            }
        }
    }
    if let Some(b) = by_key(&v, "binding") {
        if !matches!(b, Value::Object(_)) {
            return Err(inval);
        }
        let mid = machine.machine_id.ok_or(inval)?;
        let key: String = mid.iter().map(|x| format!("{x:02x}")).collect();
        if let Some(entry) = by_key(b, &key) {
            dispatch_uid(entry, &mut uid);
        }
    }
    if let Some(s) = by_key(&v, "status")
        && !matches!(s, Value::Object(_))
    {
        return Err(inval);
    }
    // "User name field missing, refusing."
    let name = name.ok_or(inval)?;
    let name = String::from_utf8(name).map_err(|_| inval)?;
    Ok(CachedRecord { name, uid, disposition })
}

#[cfg(test)]
mod tests {
    //! Expected values generated with Debian 12's libsystemd-shared-252.so (the code the C
    //! module is built from): `nss_passwd_to_user_record()` + `json_variant_format(json, 0)`, and
    //! `json_parse()` + `user_record_load(REFUSE_SECRET|PERMISSIVE)` on machine
    //! 3d1219c7c4c5404aaa1f6d2a48adfda4 with host name "vm".
    use super::*;

    struct RecordCase {
        name: &'static [u8],
        uid: u32,
        gid: u32,
        gecos: &'static [u8],
        dir: &'static [u8],
        shell: &'static [u8],
        sp: Option<(&'static [u8], &'static [u8], [i64; 6])>,
        expected: Option<&'static [u8]>,
    }

    const RECORD_CASES: &[RecordCase] = &[
        RecordCase { name: b"pamtest1", uid: 59001, gid: 59001, gecos: b"PAM test user 1", dir: b"/home/pamtest1", shell: b"/bin/bash", sp: Some((b"pamtest1", b"*", [19000, 0, 99999, 7, -1, -1])), expected: Some(b"{\"userName\":\"pamtest1\",\"uid\":59001,\"gid\":59001,\"realName\":\"PAM test user 1\",\"homeDirectory\":\"/home/pamtest1\",\"shell\":\"/bin/bash\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":1641600000000000,\"passwordChangeMaxUSec\":8639913600000000,\"passwordChangeWarnUSec\":604800000000}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"u", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"Doe, John,Room 1,555,666", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"Doe, John,Room 1,555,666\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\"q\" \\b\\", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\\\"q\\\" \\\\b\\\\\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"a\x01b\x1fc", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"a b c\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"del\x7f", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"del\x7f\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"col:on", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"col on\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc3\xa9t\xc3\xa9", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xc3\xa9t\xc3\xa9\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"bad\xffutf8", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"bad utf8\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc0\xaf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"  \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xed\xa0\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xef\xbf\xbe", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xef\xb7\x90", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf0\x9f\x98\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xf0\x9f\x98\x80\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf4\x8f\xbf\xbf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"    \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf4\x90\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"    \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf8\x88\x80\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"     \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"trunc\xe2\x82", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"trunc  \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\x08\x0c\x0a\x0d\x09", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"     \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xe0\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc2\x80\xdf\xbf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xc2\x80\xdf\xbf\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"", shell: b"", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0}") },
        RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/h\xff", shell: b"\xff", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0}") },
        RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/h\"o\\m\x01e", shell: b"/bin/\x1b", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"homeDirectory\":\"/h\\\"o\\\\m\\u0001e\",\"shell\":\"/bin/\\u001b\"}") },
        RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/x\x7f", shell: b"sh:x", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"homeDirectory\":\"/x\x7f\",\"shell\":\"sh:x\"}") },
        RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/\xef\xbf\xbf", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
        RecordCase { name: b"bad\xff", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
        RecordCase { name: b"\xed\xa0\x80", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
        RecordCase { name: b"p\"q\\r", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"p\\\"q\\\\r\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"ctl\x01", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"ctl\\u0001\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"\xc3\xa9", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"\xc3\xa9\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
        RecordCase { name: b"u", uid: 4294967295, gid: 4294967295, gecos: b"", dir: b"/", shell: b"", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":4294967295,\"gid\":4294967295,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"!\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"!!\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$6$salt$hash", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$6$salt$hash\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!!x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"x!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"x!\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"**", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"**\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"bad\xff", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"\"\\", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\\\"\\\\\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"\x01", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\\u0001\"]}}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [0, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":true}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":86400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [2, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-2, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503981, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503982, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":18446744044800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503983, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [9223372036854775807, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-9223372036854775808, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 0, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":86400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 2, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -2, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503981, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503982, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":18446744044800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503983, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 9223372036854775807, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -9223372036854775808, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 0, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":86400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 2, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -2, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503981, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503982, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":18446744044800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503983, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 9223372036854775807, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -9223372036854775808, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 0, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":86400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 2, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -2, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503981, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503982, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":18446744044800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503983, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 9223372036854775807, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -9223372036854775808, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 0, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":86400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 2, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -2, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503981, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503982, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":18446744044800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503983, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 9223372036854775807, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -9223372036854775808, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 0])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":true}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":true}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 2])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false,\"notAfterUSec\":172800000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -2])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503981])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false,\"notAfterUSec\":18446743958400000000}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503982])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503983])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 9223372036854775807])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -9223372036854775808])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"v", b"*", [1, 1, 1, 1, 1, 1])), expected: None },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$1$a$b", [0, 0, 0, 0, 0, 0])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$1$a$b\"]},\"locked\":true,\"passwordChangeNow\":true}") },
        RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$1$a$b", [3, 4, 5, 6, 7, 8])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$1$a$b\"]},\"locked\":false,\"notAfterUSec\":691200000000,\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":259200000000,\"passwordChangeMinUSec\":345600000000,\"passwordChangeMaxUSec\":432000000000,\"passwordChangeWarnUSec\":518400000000,\"passwordChangeInactiveUSec\":604800000000}") },
    ];

    #[test]
    fn record_json_matches_libsystemd_shared() {
        for (i, c) in RECORD_CASES.iter().enumerate() {
            let pw = Passwd {
                name: c.name,
                passwd: b"x",
                uid: c.uid,
                gid: c.gid,
                gecos: c.gecos,
                dir: c.dir,
                shell: c.shell,
            };
            let sp = c.sp.map(
                |(name, password, [last_change, min, max, warn, inactive, expire])| Shadow {
                    name,
                    password,
                    last_change,
                    min,
                    max,
                    warn,
                    inactive,
                    expire,
                },
            );
            let got = record_json(&pw, sp.as_ref());
            assert_eq!(
                got.as_deref().map(String::from_utf8_lossy),
                c.expected.map(String::from_utf8_lossy),
                "case {i}: name {:?} gecos {:?}",
                String::from_utf8_lossy(c.name),
                String::from_utf8_lossy(c.gecos)
            );
        }
    }

    #[test]
    fn record_json_stops_at_nul() {
        let pw = Passwd {
            name: b"u\0x",
            passwd: b"x",
            uid: 1,
            gid: 2,
            gecos: b"\0a",
            dir: b"/h\0\xff",
            shell: b"",
        };
        assert_eq!(
            record_json(&pw, None).as_deref(),
            Some(&br#"{"userName":"u","uid":1,"gid":2,"homeDirectory":"/h"}"#[..])
        );
    }

    #[test]
    fn shadow_lookup_of_unknown_user_is_none() {
        let name = c"no-such-user-pam-systemd-rs";
        assert_eq!(shadow_by_name(name), None);
    }

    fn vm() -> Machine {
        Machine {
            machine_id: parse_id128(b"3d1219c7c4c5404aaa1f6d2a48adfda4"),
            hostname: Some(b"vm".to_vec()),
        }
    }

    type Identity = Option<(&'static str, Option<u32>)>;
    const CACHED_CASES: &[(&[u8], Identity)] = &[
        (b"{\"userName\":\"pamtest1\",\"uid\":59001}", Some(("pamtest1", Some(59001)))), // OK
        (b"{\"userName\":\"pamtest1\"}", Some(("pamtest1", None))), // OK
        (b"{\"uid\":5}", None), // LOADERR
        (b"{}", None), // LOADERR
        (b"[]", None), // LOADERR
        (b"\"x\"", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":59001,\"secret\":{}}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":-1}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":65535}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":4294967295}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":4294967296}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":\"5\"}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":5.0}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":5.5}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":5e0}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":null}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":5,\"uid\":5}", None), // LOADERR
        (b"{\"userName\":null,\"uid\":5}", None), // LOADERR
        (b"{\"userName\":\"123\",\"uid\":5}", None), // LOADERR
        (b"{\"userName\":\"a/b\",\"uid\":5}", None), // LOADERR
        (b"{\"userName\":\" a\",\"uid\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":5,\"uid\":6}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"a\",\"userName\":\"b\",\"uid\":5}", Some(("a", Some(5)))), // OK
        (b" {\"userName\":\"pamtest1\",\"uid\":59001} ", Some(("pamtest1", Some(59001)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":59001} x", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":059001}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":59001,}", None), // PARSEERR
        (b"{\"userName\":\"pamt\\u0065st1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":{\"hashedPassword\":[\"x\"]}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}}}", Some(("pamtest1", Some(78)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":79}}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":[]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"foo\":{\"bar\":[1,2,{\"a\":null}]}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"disposition\":\"bogus\"}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"realName\":5}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"privileged\":{}}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":5}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"vm\",\"uid\":80}]}", Some(("pamtest1", Some(80)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"00000000000000000000000000000001\",\"uid\":81}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"other\"}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":-5}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":-5}}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":5}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[5]}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"uid\":82}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":\"x\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":null,\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"bad/\",\"userName\":\"pamtest1\",\"uid\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":5}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":5}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}},\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(78)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}],\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}}}", Some(("pamtest1", Some(78)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77},{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":79}]}", Some(("pamtest1", Some(79)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":null}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3D1219C7C4C5404AAA1F6D2A48ADFDA4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"bogus\",\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":5,\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[\"bogus\",\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[5,\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[\"00000000000000000000000000000001\",\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":[\"vm\"],\"uid\":77}]}", None), // CRASH
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":5,\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"VM\",\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"other\",\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3D1219C7C4C5404AAA1F6D2A48ADFDA4\":{\"uid\":78}}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78,\"uid\":79}}}", Some(("pamtest1", Some(78)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":\"x\"}}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":null}}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78},\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":79}}}", Some(("pamtest1", Some(78)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":null}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":null}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":null}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":null}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":{},\"secret\":{}}", None), // LOADERR
        (b"{\"privileged\":{},\"userName\":\"pamtest1\"}", Some(("pamtest1", None))), // OK
        (b"{\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"pamtest1\",\"uid\":5}]}", None), // LOADERR
        (b"{\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":5}},\"userName\":\"pamtest1\"}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":5.0}]}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":65535}]}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":-0}", Some(("pamtest1", Some(0)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":0}", Some(("pamtest1", Some(0)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":-0.0}", Some(("pamtest1", Some(0)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":4294967294}", Some(("pamtest1", Some(4294967294)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":4294967294.0}", Some(("pamtest1", Some(4294967294)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":18446744073709551615}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":18446744073709551616}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1e400}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1.}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":.5}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":+1}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":01}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":0.5e1}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1e-0}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1e+2}", Some(("pamtest1", Some(100)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":100e-2}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1x}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1 }", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":true}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":tru}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":truex}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":nul}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[1 2]}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[,]}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[1,]}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{\"a\"}}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{\"a\":1 \"b\":2}}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{1:2}}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\a\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u00e9\"}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u00E9\"}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u0000\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud800\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\udc00\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud83d\\ude00\"}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud83dx\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ufffe\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\uFDD0\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u12\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u12g4\"}", None), // PARSEERR
        (b"{\"userName\":\"pam\\u0074est1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1}\x09", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\x01b\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\x7fb\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\xffb\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\xef\xbf\xbe\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\xed\xa0\x80\"}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1}\x0b", None), // PARSEERR
        (b"\x0c{\"userName\":\"pamtest1\",\"uid\":1}", None), // PARSEERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1}\x0a", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\x09\"}", None), // PARSEERR
        (b"", None), // PARSEERR
        (b" ", None), // PARSEERR
        (b"{\"userName\":\"p\xc3\xa9\",\"uid\":1}", Some(("pé", Some(1)))), // OK
        (b"{\"userName\":\"p\x7f\",\"uid\":1}", None), // PARSEERR
        (b"{\"userName\":\"-12\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"+12\",\"uid\":1}", Some(("+12", Some(1)))), // OK
        (b"{\"userName\":\"+4294967296\",\"uid\":1}", Some(("+4294967296", Some(1)))), // OK
        (b"{\"userName\":\".\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"..\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"a b\",\"uid\":1}", Some(("a b", Some(1)))), // OK
        (b"{\"userName\":\"a \",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"a:b\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"a@b\",\"uid\":1}", Some(("a@b", Some(1)))), // OK
        (b"{\"userName\":\"\\u0001a\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"-\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"-1a\",\"uid\":1}", Some(("-1a", Some(1)))), // OK
        (b"{\"userName\":\"0x10\",\"uid\":1}", Some(("0x10", Some(1)))), // OK
        (b"{\"userName\":\"4294967295\",\"uid\":1}", None), // LOADERR
        (b"{\"userName\":\"+0\",\"uid\":1}", Some(("+0", Some(1)))), // OK
        (b"{\"userName\":\"+-1\",\"uid\":1}", Some(("+-1", Some(1)))), // OK
        (b"{\"userName\":\"+65535\",\"uid\":1}", Some(("+65535", Some(1)))), // OK
        (b"{\"userName\":\"+4294967295\",\"uid\":1}", Some(("+4294967295", Some(1)))), // OK
        (b"{\"userName\":\"+18446744073709551616\",\"uid\":1}", Some(("+18446744073709551616", Some(1)))), // OK
        (b"{\"userName\":\"\xc2\xa0a\",\"uid\":1}", Some((" a", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":65535,\"uid\":5}", Some(("pamtest1", None))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":null}", None), // LOADERR
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":{}}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":null}", Some(("pamtest1", Some(1)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":\"x\",\"uid\":7}]}", Some(("pamtest1", Some(7)))), // OK
        (b"{\"userName\":5,\"userName\":\"pamtest1\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":null,\"userName\":\"pamtest1\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
        (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"matchMachineId\":\"00000000000000000000000000000001\",\"uid\":7}]}", Some(("pamtest1", Some(7)))), // OK
    ];

    #[test]
    fn cached_identity_matches_libsystemd_shared() {
        for (json, expected) in CACHED_CASES {
            let got = cached_identity_for(json, &vm());
            let got = got.as_ref().ok().map(|(n, u)| (n.as_str(), *u));
            assert_eq!(got, *expected, "{:?}", String::from_utf8_lossy(json));
        }
    }

    fn nested(open: &str, inner: &str, close: &str, n: usize) -> Vec<u8> {
        format!(
            r#"{{"userName":"pamtest1","uid":1,"x":{}{}{}}}"#,
            open.repeat(n),
            inner,
            close.repeat(n)
        )
        .into_bytes()
    }

    #[test]
    fn nesting_limit() {
        let ok = Ok(("pamtest1".to_string(), Some(1)));
        assert_eq!(cached_identity_for(&nested("[", "", "]", 2048), &vm()), ok);
        assert_eq!(cached_identity_for(&nested("[", "", "]", 2049), &vm()), Err(()));
        assert_eq!(cached_identity_for(&nested(r#"{"a":"#, "1", "}", 2047), &vm()), ok);
        assert_eq!(cached_identity_for(&nested(r#"{"a":"#, "1", "}", 2048), &vm()), Err(()));
        assert_eq!(cached_identity_for(&nested("[", "", "]", 100_000), &vm()), Err(()));
        assert_eq!(cached_identity_for(&nested("[", "", "", 100_000), &vm()), Err(()));
    }

    #[test]
    fn cached_identity_stops_at_nul_and_reads_the_pam_systemd_record() {
        let rec = br#"{"userName":"pamtest1","uid":59001,"gid":59001,"realName":"PAM test user 1","homeDirectory":"/home/pamtest1","shell":"/bin/bash","passwordChangeNow":false,"lastPasswordChangeUSec":1641600000000000,"passwordChangeMaxUSec":8639913600000000,"passwordChangeWarnUSec":604800000000}"#;
        assert_eq!(cached_identity(rec), Ok(("pamtest1".to_string(), Some(59001))));
        let mut with_nul = rec.to_vec();
        with_nul.extend_from_slice(b"\0garbage");
        assert_eq!(cached_identity(&with_nul), Ok(("pamtest1".to_string(), Some(59001))));
    }

    #[test]
    fn relaxed_user_names_match_libsystemd_shared() {
        let cases: &[(&[u8], bool)] = &[
            (b"", false),
            (b" ", false),
            (b"a", true),
            (b" a", false),
            (b"a ", false),
            (b"a b", true),
            (b".", false),
            (b"..", false),
            (b"...", true),
            (b"-", false),
            (b"-1", false),
            (b"-01", false),
            (b"--1", true),
            (b"+1", true),
            (b"+", true),
            (b"0", false),
            (b"00", false),
            (b"4294967295", false),
            (b"65535", false),
            (b"a:b", false),
            (b"a/b", false),
            (b"a\x7f", false),
            (b"a\x01", false),
            (b"\xff", false),
            (b"\xc3\xa9", true),
            (b"\xef\xbf\xbe", false),
            (b"\x091", false),
            (b"1 ", false),
            (b" 1", false),
            (b"0x1", true),
            (b"1e3", true),
            (b"_", true),
            (b"a@b.c", true),
            (b"\xc2\xa0", true),
        ];
        for (name, valid) in cases {
            assert_eq!(
                valid_user_name_relaxed(name),
                *valid,
                "{:?}",
                String::from_utf8_lossy(name)
            );
        }
    }
}
