//! Pure, panic-free re-implementations of the systemd 252 parsers whose behaviour is
//! observable through `pam_systemd` (Debian 12, systemd 252.38).
//!
//! Every function mirrors one C function of systemd v252 (named in its doc comment) together with
//! the glibc 2.36 `strto*()` semantics it relies on. Inputs that come from PAM (items, PAM data,
//! environment) are taken as `&[u8]` because they need not be UTF-8. C strings end at the first
//! NUL byte, so every parser here also stops at the first NUL byte it sees, exactly like the C
//! code would.
//!
//! The behaviour was checked differentially against the real functions exported by Debian 12's
//! `libsystemd-shared-252.so` (`parse_size`, `parse_sec`, `safe_atou_full`, `safe_atollu_full`,
//! `parse_permyriad`, `cg_weight_parse`, `cg_cpu_weight_parse`, `is_localhost`,
//! `path_startswith_full`, `parse_boolean`).

// ---------------------------------------------------------------------------------------------
// Small C helpers
// ---------------------------------------------------------------------------------------------

/// systemd's `WHITESPACE` set (`" \t\n\r"`), used by `strspn(s, WHITESPACE)`.
const WHITESPACE: &[u8] = b" \t\n\r";

/// `USEC_INFINITY` / `UINT64_MAX`.
pub const USEC_INFINITY: u64 = u64::MAX;

/// `CGROUP_WEIGHT_INVALID` (what `cg_weight_parse("")` stores).
pub const CGROUP_WEIGHT_INVALID: u64 = u64::MAX;
/// `CGROUP_WEIGHT_MIN`.
pub const CGROUP_WEIGHT_MIN: u64 = 1;
/// `CGROUP_WEIGHT_MAX`.
pub const CGROUP_WEIGHT_MAX: u64 = 10000;
/// `CGROUP_WEIGHT_IDLE` (what `cg_cpu_weight_parse("idle")` stores).
pub const CGROUP_WEIGHT_IDLE: u64 = 0;

/// The bytes of a C string: everything before the first NUL byte.
fn cstr(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or(s)
}

/// C `isspace()` in the C/UTF-8 locales: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `s + strspn(s, set)`.
fn skip_set<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let n = s.iter().take_while(|b| set.contains(b)).count();
    s.get(n..).unwrap_or(&[])
}

/// `s + strspn(s, WHITESPACE)`.
fn skip_ws(s: &[u8]) -> &[u8] {
    skip_set(s, WHITESPACE)
}

/// `*s` for a C string (NUL when at the end).
fn first(s: &[u8]) -> u8 {
    s.first().copied().unwrap_or(0)
}

/// Value of an alphanumeric digit as glibc's `strto*()` sees it (36 = not a digit).
fn digit_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'a'..=b'z' => u32::from(b - b'a') + 10,
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        _ => 36,
    }
}

/// The raw result of glibc's `____strtoul_l_internal()` scan (shared by `strtoul`, `strtoull`,
/// `strtol` and `strtoll`).
struct StrtoScan {
    /// A leading `-` was seen.
    negative: bool,
    /// Magnitude of the digits (saturated; see `overflow`).
    magnitude: u64,
    /// The magnitude did not fit into 64 bits.
    overflow: bool,
    /// `endptr - nptr`: 0 when no conversion was performed.
    end: usize,
}

/// glibc `strtou?ll?(nptr, &endptr, base)` scan for `base` in {0, 2, 8, 10, 16}: skips
/// `isspace()`, accepts one `+`/`-`, the `0x`/`0X` prefix for bases 0/16, the `0` octal prefix for
/// base 0 (glibc 2.36 has no `0b` prefix), then digits.
fn strto_scan(s: &[u8], base: u32) -> StrtoScan {
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let mut negative = false;
    match s.get(i) {
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        Some(b'+') => i += 1,
        _ => {}
    }
    let mut base = base;
    let mut hex_prefix = false;
    if s.get(i) == Some(&b'0') {
        if (base == 0 || base == 16) && matches!(s.get(i + 1), Some(b'x' | b'X')) {
            i += 2;
            base = 16;
            hex_prefix = true;
        } else if base == 0 {
            base = 8;
        }
    } else if base == 0 {
        base = 10;
    }
    let start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while let Some(&b) = s.get(i) {
        let d = digit_value(b);
        if d >= base {
            break;
        }
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => {
                overflow = true;
                magnitude = u64::MAX;
            }
        }
        i += 1;
    }
    if i == start {
        // No digits. glibc special case: "0x" not followed by a hex digit parses as "0" and
        // leaves endptr pointing at the 'x'.
        let end = if hex_prefix { start - 1 } else { 0 };
        return StrtoScan {
            negative: false,
            magnitude: 0,
            overflow: false,
            end,
        };
    }
    StrtoScan {
        negative,
        magnitude,
        overflow,
        end: i,
    }
}

/// glibc `strtoul()`/`strtoull()` (64-bit `unsigned long`): `Err(())` for ERANGE, otherwise the
/// (possibly wrapped, for a leading `-`) value and `endptr - nptr`.
fn c_strtoull(s: &[u8], base: u32) -> Result<(u64, usize), ()> {
    let r = strto_scan(s, base);
    if r.overflow {
        return Err(());
    }
    let v = if r.negative {
        r.magnitude.wrapping_neg()
    } else {
        r.magnitude
    };
    Ok((v, r.end))
}

/// glibc `strtol()`/`strtoll()` (64-bit `long`): `Err(())` for ERANGE.
fn c_strtoll(s: &[u8], base: u32) -> Result<(i64, usize), ()> {
    let r = strto_scan(s, base);
    if r.overflow {
        return Err(());
    }
    let v = if r.negative {
        if r.magnitude > i64::MAX.unsigned_abs() + 1 {
            return Err(());
        }
        0i64.wrapping_sub_unsigned(r.magnitude)
    } else {
        i64::try_from(r.magnitude).map_err(|_| ())?
    };
    Ok((v, r.end))
}

/// parse-util.c `mangle_base()` for base 0: the Python-style `0b`/`0B` and `0o`/`0O` prefixes.
fn mangle_base(s: &[u8]) -> (&[u8], u32) {
    match s {
        [b'0', b'b' | b'B', rest @ ..] => (rest, 2),
        [b'0', b'o' | b'O', rest @ ..] => (rest, 8),
        _ => (s, 0),
    }
}

/// Case-insensitive (ASCII, as glibc `strcasecmp()` in a UTF-8 or C locale) equality.
fn eq_no_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

// ---------------------------------------------------------------------------------------------
// Booleans and integers
// ---------------------------------------------------------------------------------------------

/// Mirrors systemd v252 `parse_boolean()` (parse-util.c): case-insensitive
/// `1 yes y true t on` → `true`, `0 no n false f off` → `false`, anything else → `None`.
/// No whitespace trimming.
pub fn parse_boolean(v: &str) -> Option<bool> {
    let v = v.as_bytes();
    let v = cstr(v);
    const YES: [&[u8]; 6] = [b"1", b"yes", b"y", b"true", b"t", b"on"];
    const NO: [&[u8]; 6] = [b"0", b"no", b"n", b"false", b"f", b"off"];
    if YES.iter().any(|w| eq_no_case(v, w)) {
        Some(true)
    } else if NO.iter().any(|w| eq_no_case(v, w)) {
        Some(false)
    } else {
        None
    }
}

/// Shared body of `safe_atou_full(s, 0, …)` / `safe_atollu_full(s, 0, …)` (parse-util.c, v252):
/// skip `WHITESPACE`, `mangle_base()`, glibc `strtoul(s, &x, base)`, then: ERANGE fails, no
/// conversion or trailing bytes fail, a non-zero result whose (mangled) string starts with `-`
/// fails.
fn safe_atou_base0(s: &[u8]) -> Option<u64> {
    let s = skip_ws(cstr(s));
    let (s, base) = mangle_base(s);
    let (l, end) = c_strtoull(s, base).ok()?;
    if end == 0 || end != s.len() {
        return None;
    }
    if l != 0 && first(s) == b'-' {
        return None;
    }
    Some(l)
}

/// Mirrors systemd v252 `safe_atou32()` = `safe_atou_full(s, 0, …)` (parse-util.c).
///
/// glibc `strtoul()` base-0 syntax plus systemd's rules: leading `" \t\n\r"` skipped by systemd
/// (and any `isspace()` by glibc), optional `+`, `0x` hex, `0` octal, `0b`/`0o` prefixes
/// (systemd's `mangle_base()`), `-` refused unless the value is 0, trailing bytes refused,
/// values above `u32::MAX` refused. Quirk kept from C: a `-` hidden behind `\v`/`\f` (which
/// systemd does not skip but glibc does) is not seen by systemd's `-` check, so the value wraps
/// like `strtoul()`'s (`"\v-1"` → `None` here, but `u64::MAX` for [`safe_atou64`]).
pub fn safe_atou32(s: &[u8]) -> Option<u32> {
    u32::try_from(safe_atou_base0(s)?).ok()
}

/// Mirrors systemd v252 `safe_atou64()` = `safe_atollu_full(s, 0, …)` (parse-util.c). Same
/// syntax as [`safe_atou32`], 64-bit range (overflow → ERANGE → `None`).
pub fn safe_atou64(s: &[u8]) -> Option<u64> {
    safe_atou_base0(s)
}

/// Mirrors systemd v252 `safe_atoi()` (parse-util.c): skip `WHITESPACE`, `mangle_base()`,
/// glibc `strtol(s, &x, base)`, no trailing bytes, must fit into `int`. Negative values allowed.
pub fn safe_atoi(s: &[u8]) -> Option<i32> {
    let s = skip_ws(cstr(s));
    let (s, base) = mangle_base(s);
    let (l, end) = c_strtoll(s, base).ok()?;
    if end == 0 || end != s.len() {
        return None;
    }
    i32::try_from(l).ok()
}

/// Mirrors the use of `safe_atou32()` on `$XDG_VTNR` in v252 `pam_sm_open_session()`
/// (`(void) safe_atou32(cvtnr, &vtnr)`): a parse failure leaves the VT number at 0.
/// (The caller only calls it for a non-empty value; for an empty one it returns 0 too.)
pub fn parse_vtnr(s: &[u8]) -> u32 {
    safe_atou32(s).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Percentages (percent-util.c)
// ---------------------------------------------------------------------------------------------

/// `endswith(p, symbol)`: the part before the symbol.
fn strip_suffix<'a>(p: &'a [u8], symbol: &[u8]) -> Option<&'a [u8]> {
    p.strip_suffix(symbol)
}

/// v252 `parse_parts_value_whole()`.
fn parts_whole(p: &[u8], symbol: &[u8]) -> Option<i32> {
    let n = strip_suffix(p, symbol)?;
    let v = safe_atoi(n)?;
    (v >= 0).then_some(v)
}

/// v252 `parse_parts_value_with_tenths_place()`.
fn parts_tenths(p: &[u8], symbol: &[u8]) -> Option<i32> {
    let body = strip_suffix(p, symbol)?;
    let (n, q) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let (n, frac) = body.split_at(dot);
            match frac {
                [b'.', d @ b'0'..=b'9'] => (n, i32::from(*d - b'0')),
                _ => return None,
            }
        }
        None => (body, 0),
    };
    let v = safe_atoi(n)?;
    if v < 0 || v > (i32::MAX - q) / 10 {
        return None;
    }
    v.checked_mul(10)?.checked_add(q)
}

/// v252 `parse_parts_value_with_hundredths_place()`.
fn parts_hundredths(p: &[u8], symbol: &[u8]) -> Option<i32> {
    let body = strip_suffix(p, symbol)?;
    let (n, q) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let (n, frac) = body.split_at(dot);
            match frac {
                [b'.', d1 @ b'0'..=b'9', d2 @ b'0'..=b'9'] => (n, i32::from(*d1 - b'0') * 10 + i32::from(*d2 - b'0')),
                [b'.', d1 @ b'0'..=b'9'] => (n, i32::from(*d1 - b'0') * 10),
                _ => return None,
            }
        }
        None => (body, 0),
    };
    let v = safe_atoi(n)?;
    if v < 0 || v > (i32::MAX - q) / 100 {
        return None;
    }
    v.checked_mul(100)?.checked_add(q)
}

/// Mirrors systemd v252 `parse_permyriad()` (percent-util.c): `N‱`, `N‰`/`N.N‰`,
/// `N%`/`N.N%`/`N.NN%`, result in permyriad, at most 10000 (100%). The integer part is parsed
/// with `safe_atoi()` (so leading whitespace, `+`, `0x`, `0b`, `0o` and `-0` are accepted,
/// negatives refused); no whitespace is allowed before the symbol.
pub fn parse_permyriad(p: &[u8]) -> Option<u32> {
    let p = cstr(p);
    let v = if p.ends_with("‱".as_bytes()) {
        parts_whole(p, "‱".as_bytes())?
    } else if p.ends_with("‰".as_bytes()) {
        parts_tenths(p, "‰".as_bytes())?
    } else {
        parts_hundredths(p, b"%")?
    };
    if v > 10000 {
        return None;
    }
    u32::try_from(v).ok()
}

/// Mirrors systemd v252 `UINT32_SCALE_FROM_PERMYRIAD()` (percent-util.h):
/// `((uint64_t) CLAMP(p, 0, 10000) * UINT32_MAX + 5000) / 10000` — rounds to nearest.
/// 5000 → 2147483648, 1234 → 529998964.
pub fn permyriad_to_scale(permyriad: u32) -> u32 {
    let p = u64::from(permyriad.min(10000));
    let v = (p * u64::from(u32::MAX) + 5000) / 10000;
    u32::try_from(v).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Sizes (parse-util.c parse_size)
// ---------------------------------------------------------------------------------------------

/// Base-1024 suffix table of v252 `parse_size()`, in its search order.
const IEC: [(&[u8], u64); 8] = [
    (b"E", 1 << 60),
    (b"P", 1 << 50),
    (b"T", 1 << 40),
    (b"G", 1 << 30),
    (b"M", 1 << 20),
    (b"K", 1 << 10),
    (b"B", 1),
    (b"", 1),
];

/// Mirrors systemd v252 `parse_size(t, 1024, &v)` (parse-util.c).
///
/// Sum of components `NUMBER[.FRACTION][ws]SUFFIX`, suffixes strictly decreasing (`E P T G M K B`
/// or none), leading whitespace per component, `-` refused, overflow refused. Quirks kept from C:
/// the fraction is applied through a `double` and truncated; trailing whitespace after a suffix
/// fails (`"1G "`), after a bare number it does not (`"1 "`); `"10.M"` is valid; a `-` hidden
/// behind `\v`/`\f` wraps like `strtoull()`.
pub fn parse_size_1024(t: &[u8]) -> Option<u64> {
    let t = cstr(t);
    let mut p = t;
    let mut r: u64 = 0;
    let mut start_pos = 0usize;
    loop {
        p = skip_ws(p);
        let (l, end) = c_strtoull(p, 10).ok()?;
        if end == 0 {
            return None;
        }
        if first(p) == b'-' {
            return None;
        }
        let mut e = p.get(end..).unwrap_or(&[]);
        let mut frac: f64 = 0.0;
        if first(e) == b'.' {
            e = e.get(1..).unwrap_or(&[]);
            if first(e).is_ascii_digit() {
                let (l2, end2) = c_strtoull(e, 10).ok()?;
                // Ignore failure. E.g. 10.M is valid
                #[allow(clippy::cast_precision_loss)]
                {
                    frac = l2 as f64;
                }
                for _ in 0..end2 {
                    frac /= 10.0;
                }
                e = e.get(end2..).unwrap_or(&[]);
            }
        }
        e = skip_ws(e);
        let (i, (suffix, factor)) = IEC
            .iter()
            .enumerate()
            .skip(start_pos)
            .find(|(_, (suffix, _))| e.starts_with(suffix))?;
        let bump = u64::from(frac > 0.0);
        if l.wrapping_add(bump) > u64::MAX / factor {
            return None;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let frac_part = (frac * (*factor as f64)) as u64;
        let tmp = l.wrapping_mul(*factor).wrapping_add(frac_part);
        if tmp > u64::MAX - r {
            return None;
        }
        r += tmp;
        p = e.get(suffix.len()..).unwrap_or(&[]);
        start_pos = i + 1;
        if p.is_empty() {
            break;
        }
    }
    Some(r)
}

// ---------------------------------------------------------------------------------------------
// Time spans (time-util.c parse_time / parse_sec)
// ---------------------------------------------------------------------------------------------

const USEC_PER_MSEC: u64 = 1_000;
const USEC_PER_SEC: u64 = 1_000_000;
const USEC_PER_MINUTE: u64 = 60 * USEC_PER_SEC;
const USEC_PER_HOUR: u64 = 60 * USEC_PER_MINUTE;
const USEC_PER_DAY: u64 = 24 * USEC_PER_HOUR;
const USEC_PER_WEEK: u64 = 7 * USEC_PER_DAY;
/// 30.44 days.
const USEC_PER_MONTH: u64 = 2_629_800 * USEC_PER_SEC;
/// 365.25 days.
const USEC_PER_YEAR: u64 = 31_557_600 * USEC_PER_SEC;

/// `extract_multiplier()` table of time-util.c, in its search order (first prefix match wins).
/// Debian's 252.38 accepts both `μs` (U+03BC) and `µs` (U+00B5), checked against the library.
const TIME_UNITS: [(&str, u64); 30] = [
    ("seconds", USEC_PER_SEC),
    ("second", USEC_PER_SEC),
    ("sec", USEC_PER_SEC),
    ("s", USEC_PER_SEC),
    ("minutes", USEC_PER_MINUTE),
    ("minute", USEC_PER_MINUTE),
    ("min", USEC_PER_MINUTE),
    ("months", USEC_PER_MONTH),
    ("month", USEC_PER_MONTH),
    ("M", USEC_PER_MONTH),
    ("msec", USEC_PER_MSEC),
    ("ms", USEC_PER_MSEC),
    ("m", USEC_PER_MINUTE),
    ("hours", USEC_PER_HOUR),
    ("hour", USEC_PER_HOUR),
    ("hr", USEC_PER_HOUR),
    ("h", USEC_PER_HOUR),
    ("days", USEC_PER_DAY),
    ("day", USEC_PER_DAY),
    ("d", USEC_PER_DAY),
    ("weeks", USEC_PER_WEEK),
    ("week", USEC_PER_WEEK),
    ("w", USEC_PER_WEEK),
    ("years", USEC_PER_YEAR),
    ("year", USEC_PER_YEAR),
    ("y", USEC_PER_YEAR),
    ("usec", 1),
    ("us", 1),
    ("\u{03bc}s", 1),
    ("\u{00b5}s", 1),
];

/// time-util.c `extract_multiplier()`: the rest after a matched unit, and its multiplier.
fn extract_multiplier(p: &[u8]) -> Option<(&[u8], u64)> {
    TIME_UNITS
        .iter()
        .find_map(|(suffix, usec)| p.strip_prefix(suffix.as_bytes()).map(|rest| (rest, *usec)))
}

/// Mirrors systemd v252 `parse_time(t, &usec, default_unit)` (time-util.c).
///
/// `[ws]infinity[ws]` → `USEC_INFINITY`; otherwise one or more `NUMBER[.DIGITS][ws][UNIT]`
/// components (a bare number uses `default_unit`), whitespace between components optional,
/// `-` refused, sums ≥ `USEC_INFINITY` refused. `default_unit` must be > 0 (0 → `None`).
pub fn parse_time(t: &[u8], default_unit: u64) -> Option<u64> {
    if default_unit == 0 {
        return None;
    }
    let t = cstr(t);
    let mut p = skip_ws(t);
    if let Some(s) = p.strip_prefix(b"infinity") {
        return skip_ws(s).is_empty().then_some(USEC_INFINITY);
    }
    let mut usec: u64 = 0;
    let mut something = false;
    loop {
        let mut multiplier = default_unit;
        p = skip_ws(p);
        if p.is_empty() {
            if !something {
                return None;
            }
            break;
        }
        if first(p) == b'-' {
            return None; // Don't allow "-0"
        }
        let (l, end) = c_strtoll(p, 10).ok()?;
        if l < 0 {
            return None;
        }
        let l = l.unsigned_abs();
        // e: what strtoll() left (p itself when nothing was converted).
        let e = p.get(end..).unwrap_or(&[]);
        let frac_digits: &[u8];
        if first(e) == b'.' {
            let after_dot = e.get(1..).unwrap_or(&[]);
            let nd = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
            frac_digits = after_dot.get(..nd).unwrap_or(&[]);
            p = after_dot.get(nd..).unwrap_or(&[]);
        } else if end == 0 {
            return None;
        } else {
            frac_digits = &[];
            p = e;
        }
        let after_ws = skip_ws(p);
        let s = match extract_multiplier(after_ws) {
            Some((rest, m)) => {
                multiplier = m;
                rest
            }
            None => after_ws,
        };
        // Don't allow '12.34.56', but accept '12.34 .56' or '12.34s.56'
        if s.len() == p.len() && !s.is_empty() {
            return None;
        }
        p = s;
        if l >= USEC_INFINITY / multiplier {
            return None;
        }
        let k = l * multiplier;
        if k >= USEC_INFINITY - usec {
            return None;
        }
        usec += k;
        something = true;
        if first(e) == b'.' {
            let mut m = multiplier / 10;
            for &b in frac_digits {
                let k = u64::from(b - b'0') * m;
                if k >= USEC_INFINITY - usec {
                    return None;
                }
                usec += k;
                m /= 10;
            }
            // Don't allow "0.-0", "3.+1", "3. 1", "3.sec" or "3.hoge"
            if frac_digits.is_empty() {
                return None;
            }
        }
    }
    Some(usec)
}

/// Mirrors systemd v252 `parse_sec()` = `parse_time(t, &usec, USEC_PER_SEC)` (time-util.c):
/// a time span in microseconds; a bare number means seconds. `1h30min` → 5400000000,
/// `5` → 5000000, `infinity` → `u64::MAX`.
pub fn parse_sec(t: &[u8]) -> Option<u64> {
    parse_time(t, USEC_PER_SEC)
}

/// Same as [`parse_sec`]; named for the module's own `timeout=`-style arguments, which systemd
/// parses with `parse_sec()` too.
pub fn parse_timespan_default_sec(t: &[u8]) -> Option<u64> {
    parse_sec(t)
}

// ---------------------------------------------------------------------------------------------
// cgroup weights (cgroup-util.c)
// ---------------------------------------------------------------------------------------------

/// Mirrors systemd v252 `cg_weight_parse()` (cgroup-util.c): empty → `CGROUP_WEIGHT_INVALID`
/// (`u64::MAX`, success — pam_systemd never gets here with an empty string), otherwise
/// `safe_atou64()` in `1..=10000`.
pub fn cgroup_weight(s: &[u8]) -> Option<u64> {
    let s = cstr(s);
    if s.is_empty() {
        return Some(CGROUP_WEIGHT_INVALID);
    }
    let u = safe_atou64(s)?;
    (CGROUP_WEIGHT_MIN..=CGROUP_WEIGHT_MAX).contains(&u).then_some(u)
}

/// Mirrors systemd v252 `cg_cpu_weight_parse()` (cgroup-util.c): exactly `idle`
/// (case-sensitive) → `CGROUP_WEIGHT_IDLE` (0), otherwise [`cgroup_weight`].
pub fn cpu_weight(s: &[u8]) -> Option<u64> {
    if cstr(s) == b"idle" {
        return Some(CGROUP_WEIGHT_IDLE);
    }
    cgroup_weight(s)
}

// ---------------------------------------------------------------------------------------------
// The CreateSession a(sv) limits (pam_systemd.c append_session_*)
// ---------------------------------------------------------------------------------------------

/// A D-Bus variant value of one a(sv) entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropValue {
    /// `u`
    U32(u32),
    /// `t`
    U64(u64),
}

/// The five `systemd.*` PAM data strings (NUL-terminated in C; pass the bytes before the NUL).
/// `None` = the PAM data item is not set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits<'a> {
    /// `systemd.memory_max`
    pub memory_max: Option<&'a [u8]>,
    /// `systemd.tasks_max`
    pub tasks_max: Option<&'a [u8]>,
    /// `systemd.cpu_weight`
    pub cpu_weight: Option<&'a [u8]>,
    /// `systemd.io_weight`
    pub io_weight: Option<&'a [u8]>,
    /// `systemd.runtime_max_sec`
    pub runtime_max_sec: Option<&'a [u8]>,
}

/// What one `append_session_*()` helper does with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitOutcome {
    /// Nothing appended, nothing logged (unset, empty, or a skipped `infinity`).
    Skip,
    /// One `(sv)` entry appended.
    Value(&'static str, PropValue),
    /// Nothing appended; a LOG_WARNING line with this text is logged.
    Warn(String),
}

/// Renders a C string for `%s`: the raw bytes, lossily converted (invalid UTF-8 becomes
/// U+FFFD; the C module would write the raw bytes to syslog).
fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(cstr(s)).into_owned()
}

/// `isempty()`: NULL or "".
fn is_empty(v: Option<&[u8]>) -> Option<&[u8]> {
    v.map(cstr).filter(|s| !s.is_empty())
}

/// Mirrors v252 `append_session_memory_max()`: empty → skip; exactly `infinity` →
/// `MemoryMax t UINT64_MAX`; `parse_permyriad()` → `MemoryMaxScale u
/// UINT32_SCALE_FROM_PERMYRIAD(p)`; `parse_size(…, 1024)` → `MemoryMax t`; otherwise WARNING
/// `Failed to parse systemd.memory_max, ignoring: %s`.
pub fn memory_max_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = is_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Value("MemoryMax", PropValue::U64(u64::MAX));
    }
    if let Some(p) = parse_permyriad(limit) {
        return LimitOutcome::Value("MemoryMaxScale", PropValue::U32(permyriad_to_scale(p)));
    }
    match parse_size_1024(limit) {
        Some(v) => LimitOutcome::Value("MemoryMax", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.memory_max, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_runtime_max_sec()`: empty or exactly `infinity` → skip;
/// `parse_sec()` → `RuntimeMaxUSec t`; otherwise WARNING
/// `Failed to parse systemd.runtime_max_sec: %s, ignoring.`
pub fn runtime_max_sec_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = is_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Skip;
    }
    match parse_sec(limit) {
        Some(v) => LimitOutcome::Value("RuntimeMaxUSec", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!(
            "Failed to parse systemd.runtime_max_sec: {}, ignoring.",
            show(limit)
        )),
    }
}

/// Mirrors v252 `append_session_tasks_max()`: empty or exactly `infinity` → skip;
/// `safe_atou64()` → `TasksMax t`; otherwise WARNING
/// `Failed to parse systemd.tasks_max, ignoring: %s`.
pub fn tasks_max_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = is_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Skip;
    }
    match safe_atou64(limit) {
        Some(v) => LimitOutcome::Value("TasksMax", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.tasks_max, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_cpu_weight()`: empty → skip; `cg_cpu_weight_parse()` →
/// `CPUWeight t`; otherwise WARNING `Failed to parse systemd.cpu_weight, ignoring: %s`.
pub fn cpu_weight_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = is_empty(limit) else {
        return LimitOutcome::Skip;
    };
    match cpu_weight(limit) {
        Some(v) => LimitOutcome::Value("CPUWeight", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.cpu_weight, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_io_weight()`: empty → skip; `cg_weight_parse()` →
/// `IOWeight t`; otherwise WARNING `Failed to parse systemd.io_weight, ignoring: %s`.
pub fn io_weight_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = is_empty(limit) else {
        return LimitOutcome::Skip;
    };
    match cgroup_weight(limit) {
        Some(v) => LimitOutcome::Value("IOWeight", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.io_weight, ignoring: {}", show(limit))),
    }
}

/// Mirrors the a(sv) part of v252 `pam_sm_open_session()` (the `append_session_*()` calls in
/// the order memory_max, runtime_max_sec, tasks_max, cpu_weight, io_weight).
///
/// Returns the entries in wire order and the LOG_WARNING lines in log order. Warning texts are
/// exact; non-UTF-8 bytes in an echoed value are rendered with `String::from_utf8_lossy` (the C
/// module passes the raw bytes to `pam_syslog("%s")`).
pub fn session_properties(l: &Limits) -> (Vec<(&'static str, PropValue)>, Vec<String>) {
    let mut props = Vec::with_capacity(5);
    let mut warnings = Vec::new();
    for outcome in [
        memory_max_outcome(l.memory_max),
        runtime_max_sec_outcome(l.runtime_max_sec),
        tasks_max_outcome(l.tasks_max),
        cpu_weight_outcome(l.cpu_weight),
        io_weight_outcome(l.io_weight),
    ] {
        match outcome {
            LimitOutcome::Skip => {}
            LimitOutcome::Value(name, v) => props.push((name, v)),
            LimitOutcome::Warn(w) => warnings.push(w),
        }
    }
    (props, warnings)
}

// ---------------------------------------------------------------------------------------------
// Hosts and paths
// ---------------------------------------------------------------------------------------------

/// `endswith_no_case()`.
fn ends_with_no_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
}

/// Mirrors systemd v252 `is_localhost()` (hostname-util.c): case-insensitively `localhost`,
/// `localhost.`, `localhost.localdomain`, `localhost.localdomain.`, or ending in `.localhost`,
/// `.localhost.`, `.localhost.localdomain`, `.localhost.localdomain.`. IP literals are not
/// localhost. (ASCII case folding, as glibc `strcasecmp()` in the C and UTF-8 locales.)
pub fn is_localhost(hostname: &[u8]) -> bool {
    let h = cstr(hostname);
    [
        &b"localhost"[..],
        b"localhost.",
        b"localhost.localdomain",
        b"localhost.localdomain.",
    ]
    .iter()
    .any(|w| h.eq_ignore_ascii_case(w))
        || [
            &b".localhost"[..],
            b".localhost.",
            b".localhost.localdomain",
            b".localhost.localdomain.",
        ]
        .iter()
        .any(|w| ends_with_no_case(h, w))
}

/// `NAME_MAX`.
const NAME_MAX: usize = 255;

/// path-util.c `skip_slash_or_dot()`: skips `/` and `./`.
fn skip_slash_or_dot(mut p: &[u8]) -> &[u8] {
    loop {
        match p {
            [b'/', rest @ ..] => p = rest,
            [b'.', b'/', rest @ ..] => p = rest,
            _ => return p,
        }
    }
}

/// path-util.c `path_find_first_component(&p, accept_dot_dot = true, &ret)`:
/// `Err(())` for a component longer than `NAME_MAX`; otherwise `(component, rest)` where the
/// component is `None` when the path is exhausted (`/`, `.`, empty).
#[allow(clippy::type_complexity)]
fn path_find_first_component(p: &[u8]) -> Result<(Option<(&[u8], &[u8])>, &[u8]), ()> {
    let first = skip_slash_or_dot(p);
    if first.is_empty() {
        return Ok((None, first));
    }
    if first == b"." {
        return Ok((None, first.get(1..).unwrap_or(&[])));
    }
    let len = first.iter().position(|&b| b == b'/').unwrap_or(first.len());
    if len > NAME_MAX {
        return Err(());
    }
    let comp = first.get(..len).unwrap_or(&[]);
    let next = skip_slash_or_dot(first.get(len..).unwrap_or(&[]));
    let next = if next == b"." {
        next.get(1..).unwrap_or(&[])
    } else {
        next
    };
    // `first` (pointer to the start of the component, running to the end of the string) is what
    // path_startswith() returns; keep it alongside the component itself.
    Ok((Some((comp, first)), next))
}

/// Mirrors systemd v252 `path_startswith(path, prefix)` = `path_startswith_full(path, prefix,
/// /* accept_dot_dot= */ true)` (path-util.c): component-wise match, ignoring duplicate `/` and
/// `.` components; returns the rest of `path` starting at its first unmatched component (empty
/// when everything matched), or `None`.
pub fn path_startswith<'a>(path: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let mut path = cstr(path);
    let mut prefix = cstr(prefix);
    if (first(path) == b'/') != (first(prefix) == b'/') {
        return None;
    }
    loop {
        let (pc, path_next) = path_find_first_component(path).ok()?;
        let (qc, prefix_next) = path_find_first_component(prefix).ok()?;
        let Some((q, _)) = qc else {
            return Some(match pc {
                Some((_, from_component)) => from_component,
                None => path_next,
            });
        };
        let (p, _) = pc?;
        if p != q {
            return None;
        }
        path = path_next;
        prefix = prefix_next;
    }
}

/// Mirrors systemd v252 `skip_dev_prefix()` (path-util.h): `path_startswith(p, "/dev/")`, or
/// `p` unchanged when that does not match. `/dev/pts/1` → `pts/1`, `//dev//pts/1` → `pts/1`,
/// `/dev/./tty3` → `tty3`, `/dev` → ``, `dev/pts/1` unchanged.
pub fn skip_dev_prefix(tty: &[u8]) -> &[u8] {
    let tty = cstr(tty);
    path_startswith(tty, b"/dev/").unwrap_or(tty)
}

// ---------------------------------------------------------------------------------------------
// Tests. Every expected value below was produced by the real functions of Debian 12's
// libsystemd-shared-252.so (252.38), or observed through the real pam_systemd.so (spec §8).
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn boolean() {
        let rows: &[(&str, Option<bool>)] = &[
            ("1", Some(true)),
            ("yes", Some(true)),
            ("YES", Some(true)),
            ("y", Some(true)),
            ("t", Some(true)),
            ("True", Some(true)),
            ("On", Some(true)),
            ("0", Some(false)),
            ("no", Some(false)),
            ("n", Some(false)),
            ("f", Some(false)),
            ("FALSE", Some(false)),
            ("oFf", Some(false)),
            ("maybe", None), // §8 case 29
            ("2", None),
            ("yess", None),
            (" yes", None),
            ("", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_boolean(s), *want, "{s:?}");
        }
    }

    #[test]
    fn atou32_atou64() {
        // (input, safe_atou32, safe_atou64)
        let rows: &[(&[u8], Option<u32>, Option<u64>)] = &[
            (b"0x10", Some(16), Some(16)), // §8 case 8
            (b"010", Some(8), Some(8)),
            (b" 7", Some(7), Some(7)),
            (b"+5", Some(5), Some(5)),
            (b"abc", None, None),
            (b"-1", None, None),
            (b"4294967296", None, Some(4294967296)),
            (b"4294967295", Some(u32::MAX), Some(4294967295)),
            (b"", None, None),
            (b" ", None, None),
            (b"0x", None, None),
            (b"1 ", None, None),
            (b"-0", Some(0), Some(0)),
            (b" -0", Some(0), Some(0)),
            (b"\t\n\r 42", Some(42), Some(42)),
            (b"\x0c5", Some(5), Some(5)),
            (b"\x0b-1", None, Some(u64::MAX)), // \v is not systemd WHITESPACE: '-' check missed
            (b"0b101", Some(5), Some(5)),
            (b"0B11", Some(3), Some(3)),
            (b"0o17", Some(15), Some(15)),
            (b"0O17", Some(15), Some(15)),
            (b"0b", None, None),
            (b"0o8", None, None),
            (b"08", None, None),
            (b"0x1g", None, None),
            (b"0xFFFFFFFF", Some(u32::MAX), Some(0xFFFF_FFFF)),
            (b"0x100000000", None, Some(0x1_0000_0000)),
            (b"18446744073709551615", None, Some(u64::MAX)),
            (b"18446744073709551616", None, None),
            (b"0b-1", None, None),
            (b"0b+1", Some(1), Some(1)),
            (b"+-1", None, None),
            (b"1\x00junk", Some(1), Some(1)),
            (b"\xff1", None, None),
        ];
        for (s, w32, w64) in rows {
            assert_eq!(safe_atou32(s), *w32, "u32 {s:?}");
            assert_eq!(safe_atou64(s), *w64, "u64 {s:?}");
        }
    }

    #[test]
    fn vtnr() {
        // §8 case 8
        let rows: &[(&[u8], u32)] = &[
            (b"0x10", 16),
            (b"010", 8),
            (b" 7", 7),
            (b"+5", 5),
            (b"abc", 0),
            (b"-1", 0),
            (b"4294967296", 0),
            (b"", 0),
            (b"7 ", 0),
            (b"0b11", 3),
            (b"\xc3\x28", 0),
        ];
        for (s, want) in rows {
            assert_eq!(parse_vtnr(s), *want, "{s:?}");
        }
    }

    #[test]
    fn permyriad() {
        let rows: &[(&str, Option<u32>)] = &[
            ("50%", Some(5000)),
            ("12.34%", Some(1234)),
            ("100%", Some(10000)),
            ("100.0%", Some(10000)),
            ("100.01%", None),
            ("0%", Some(0)),
            ("0.5%", Some(50)),
            ("-0.5%", Some(50)), // safe_atoi("-0") == 0
            (".5%", None),
            ("5.%", None),
            ("5.123%", None),
            ("1.2.3%", None),
            ("5 %", None),
            (" 5%", Some(500)),
            ("+5%", Some(500)),
            ("0x10%", Some(1600)),
            ("5‰", Some(50)),
            ("5.5‰", Some(55)),
            ("1000‰", Some(10000)),
            ("1000.1‰", None),
            ("5‱", Some(5)),
            ("10000‱", Some(10000)),
            ("10001‱", None),
            ("5.5‱", None),
            ("%", None),
            ("-1%", None),
            ("101%", None),
            ("", None),
            ("50", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_permyriad(s.as_bytes()), *want, "{s:?}");
        }
    }

    #[test]
    fn scale() {
        let rows: &[(u32, u32)] = &[
            (5000, 2147483648), // §8 case 12
            (1234, 529998964),  // §8 case 15
            (0, 0),
            (10000, u32::MAX),
            (20000, u32::MAX), // clamped
            (1, 429497),
            (9999, 4294537798),
            (2500, 1073741824),
            (7500, 3221225471),
            (3333, 1431512599),
        ];
        for (p, want) in rows {
            assert_eq!(permyriad_to_scale(*p), *want, "{p}");
        }
    }

    #[test]
    fn size() {
        let rows: &[(&[u8], Option<u64>)] = &[
            (b"1G", Some(1073741824)), // §8 case 13
            (b"1G 512M", Some(1610612736)),
            (b"1.5G", Some(1610612736)),
            (b"1M 1G", None),
            (b"1 2", None),
            (b"1G ", None),
            (b"1 ", Some(1)),
            (b"10.M", Some(10485760)),
            (b"1.", Some(1)),
            (b".", None),
            (b" 1K", Some(1024)),
            (b"1 K", Some(1024)),
            (b"1B", Some(1)),
            (b"1KB", None),
            (b"1k", None),
            (b"+1K", Some(1024)),
            (b"16E", None),
            (b"15E", Some(17293822569102704640)),
            (b"15.5E", None),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"18446744073709551615.5", Some(u64::MAX)),
            (b"1.0009765625K", Some(1025)),
            (b"0.5K", Some(512)),
            (b"1.1K", Some(1126)),
            (b"3.7M", Some(3879731)),
            (b"-0", None),
            (b"-1", None),
            (b"\x0b-1", Some(u64::MAX)),
            (b"08", Some(8)),
            (b"0x10", None),
            (b"", None),
            (b" ", None),
            (b"50%", None),
            (b"infinity", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_size_1024(s), *want, "{s:?}");
        }
    }

    #[test]
    fn sec() {
        let rows: &[(&str, Option<u64>)] = &[
            ("1h30min", Some(5400000000)), // §8 case 12
            ("1h 30min", Some(5400000000)),
            ("5", Some(5000000)), // §8 case 14
            ("5.5", Some(5500000)),
            ("5s", Some(5000000)),
            (".5", Some(500000)),
            ("-5", None),
            ("-0", None),
            ("+5", Some(5000000)),
            ("\x0b-0", Some(0)),
            ("infinity", Some(u64::MAX)),
            (" infinity ", Some(u64::MAX)),
            ("infinityx", None),
            ("1.s", None),
            ("3.sec", None),
            ("12.34.56", None),
            ("12.34 .56", Some(12900000)),
            ("12.34s.56", Some(12900000)),
            ("1y", Some(31557600000000)),
            ("1M", Some(2629800000000)),
            ("1month", Some(2629800000000)),
            ("1w", Some(604800000000)),
            ("1d", Some(86400000000)),
            ("1us", Some(1)),
            ("1ms", Some(1000)),
            ("1m", Some(60000000)),
            ("5µs", Some(5)),
            ("5μs", Some(5)),
            ("1 2", Some(3000000)),
            ("2 x", None),
            ("1mo", None),
            ("5secs", None),
            ("18446744073709551614us", None),
            ("584542y", None),
            ("1.0000001s", Some(1000000)),
            ("0.1234567ms", Some(123)),
            ("0x10", None),
            ("010", Some(10000000)),
            ("bogus", None), // §8 case 15
            ("", None),
            (" ", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_sec(s.as_bytes()), *want, "{s:?}");
            assert_eq!(parse_timespan_default_sec(s.as_bytes()), *want, "{s:?}");
        }
        assert_eq!(parse_time(b"5", 1), Some(5));
        assert_eq!(parse_time(b"5", 0), None);
    }

    #[test]
    fn weights() {
        // (input, cg_weight_parse, cg_cpu_weight_parse)
        let rows: &[(&[u8], Option<u64>, Option<u64>)] = &[
            (b"idle", None, Some(0)),
            (b"IDLE", None, None),
            (b"0", None, None),
            (b"1", Some(1), Some(1)),
            (b"100", Some(100), Some(100)),
            (b"10000", Some(10000), Some(10000)),
            (b"10001", None, None),
            (b"20000", None, None),
            (b" 100", Some(100), Some(100)),
            (b"0x64", Some(100), Some(100)),
            (b"abc", None, None),
            (b"-1", None, None),
            (b"", Some(CGROUP_WEIGHT_INVALID), Some(CGROUP_WEIGHT_INVALID)),
        ];
        for (s, w, cw) in rows {
            assert_eq!(cgroup_weight(s), *w, "w {s:?}");
            assert_eq!(cpu_weight(s), *cw, "cw {s:?}");
        }
    }

    fn lim<'a>(
        memory_max: &'a str,
        tasks_max: &'a str,
        cpu_weight: &'a str,
        io_weight: &'a str,
        runtime_max_sec: &'a str,
    ) -> Limits<'a> {
        Limits {
            memory_max: Some(memory_max.as_bytes()),
            tasks_max: Some(tasks_max.as_bytes()),
            cpu_weight: Some(cpu_weight.as_bytes()),
            io_weight: Some(io_weight.as_bytes()),
            runtime_max_sec: Some(runtime_max_sec.as_bytes()),
        }
    }

    #[test]
    fn session_properties_spec_cases() {
        use PropValue::{U32, U64};
        type Row<'a> = (Limits<'a>, Vec<(&'static str, PropValue)>, Vec<&'static str>);
        let rows: Vec<Row> = vec![
            // §8 case 12
            (
                lim("50%", "77", "idle", "20000", "1h30min"),
                vec![
                    ("MemoryMaxScale", U32(2147483648)),
                    ("RuntimeMaxUSec", U64(5400000000)),
                    ("TasksMax", U64(77)),
                    ("CPUWeight", U64(0)),
                ],
                vec!["Failed to parse systemd.io_weight, ignoring: 20000"],
            ),
            // §8 case 13
            (
                lim("1G", "infinity", "100", "abc", "infinity"),
                vec![("MemoryMax", U64(1073741824)), ("CPUWeight", U64(100))],
                vec!["Failed to parse systemd.io_weight, ignoring: abc"],
            ),
            // §8 case 14
            (
                lim("infinity", "0x10", "0", "1", "5"),
                vec![
                    ("MemoryMax", U64(u64::MAX)),
                    ("RuntimeMaxUSec", U64(5000000)),
                    ("TasksMax", U64(16)),
                    ("IOWeight", U64(1)),
                ],
                vec!["Failed to parse systemd.cpu_weight, ignoring: 0"],
            ),
            // §8 case 15
            (
                lim("12.34%", "-1", "10000", "", "bogus"),
                vec![("MemoryMaxScale", U32(529998964)), ("CPUWeight", U64(10000))],
                vec![
                    "Failed to parse systemd.runtime_max_sec: bogus, ignoring.",
                    "Failed to parse systemd.tasks_max, ignoring: -1",
                ],
            ),
            // nothing set
            (Limits::default(), vec![], vec![]),
            // everything empty
            (lim("", "", "", "", ""), vec![], vec![]),
            // bad memory_max; " infinity" is not the literal "infinity"
            (
                lim("lots", "", "", "", " infinity"),
                vec![("RuntimeMaxUSec", U64(u64::MAX))],
                vec!["Failed to parse systemd.memory_max, ignoring: lots"],
            ),
            // io_weight does not know "idle"; tasks_max does not take percentages
            (
                lim("101%", "10%", "", "idle", ""),
                vec![],
                vec![
                    "Failed to parse systemd.memory_max, ignoring: 101%",
                    "Failed to parse systemd.tasks_max, ignoring: 10%",
                    "Failed to parse systemd.io_weight, ignoring: idle",
                ],
            ),
            // all five present and valid: the wire order
            (
                lim("512M", "4096", "50", "200", "30s"),
                vec![
                    ("MemoryMax", U64(536870912)),
                    ("RuntimeMaxUSec", U64(30000000)),
                    ("TasksMax", U64(4096)),
                    ("CPUWeight", U64(50)),
                    ("IOWeight", U64(200)),
                ],
                vec![],
            ),
            // "INFINITY" is not special for memory_max and fails every parser
            (
                lim("INFINITY", "infinity", "", "", ""),
                vec![],
                vec!["Failed to parse systemd.memory_max, ignoring: INFINITY"],
            ),
        ];
        for (l, want_props, want_warn) in rows {
            let (props, warn) = session_properties(&l);
            assert_eq!(props, want_props, "{l:?}");
            assert_eq!(warn, want_warn, "{l:?}");
        }
    }

    #[test]
    fn non_utf8_warning_is_lossy() {
        let l = Limits {
            io_weight: Some(b"h\xff"),
            ..Limits::default()
        };
        let (props, warn) = session_properties(&l);
        assert!(props.is_empty());
        assert_eq!(
            warn,
            vec!["Failed to parse systemd.io_weight, ignoring: h\u{fffd}".to_string()]
        );
        assert_eq!(io_weight_outcome(None), LimitOutcome::Skip);
        assert_eq!(
            cpu_weight_outcome(Some(b"idle")),
            LimitOutcome::Value("CPUWeight", PropValue::U64(0))
        );
    }

    #[test]
    fn localhost() {
        let rows: &[(&[u8], bool)] = &[
            // §8 case 9
            (b"localhost", true),
            (b"LOCALHOST.", true),
            (b"foo.localhost", true),
            (b"localhost.localdomain", true),
            (b"127.0.0.1", false),
            (b"::1", false),
            (b"", false),
            // more
            (b"LocalHost.LocalDomain.", true),
            (b"x.LOCALHOST.localdomain.", true),
            (b".localhost", true),
            (b"localhostx", false),
            (b"xlocalhost", false),
            (b"localhost..", false),
            (b"localdomain", false),
            (b"h\xff.localhost", true),
        ];
        for (s, want) in rows {
            assert_eq!(is_localhost(s), *want, "{s:?}");
        }
    }

    #[test]
    fn dev_prefix() {
        let long = [&b"/dev/"[..], &[b'a'; 256][..]].concat();
        let ok255 = [&b"/dev/"[..], &[b'a'; 255][..], b"/x"].concat();
        let rows: Vec<(&[u8], &[u8])> = vec![
            // §6 / §8 case 30
            (b"/dev/pts/3", b"pts/3"),
            (b"", b""),
            (b"/dev/", b""),
            (b"/dev", b""),
            (b"//dev//pts/1", b"pts/1"),
            (b"dev/pts/1", b"dev/pts/1"),
            (b"/dev/./tty3", b"tty3"),
            (b"/dev/cron", b"cron"),
            (b"console", b"console"),
            // more
            (b"/dev/../tty", b"../tty"),
            (b"/./dev/tty1", b"tty1"),
            (b"/devices", b"/devices"),
            (b"/dev/.", b""),
            (b"/dev/tty1/", b"tty1/"),
            (b"/dev//", b""),
            (b"/", b"/"),
            (b"/dev/pts/./1", b"pts/./1"),
            (&long, &long),
            (&ok255, &ok255[5..]),
            (b"/dev/tty\xff", b"tty\xff"),
        ];
        for (s, want) in rows {
            assert_eq!(skip_dev_prefix(s), want, "{s:?}");
        }
        assert_eq!(path_startswith(b"/a/b/c", b"/a//b/"), Some(&b"c"[..]));
        assert_eq!(path_startswith(b"a/b", b"/a"), None);
    }

    #[test]
    fn atoi() {
        let rows: &[(&[u8], Option<i32>)] = &[
            (b"-5", Some(-5)),
            (b"2147483647", Some(i32::MAX)),
            (b"2147483648", None),
            (b"-2147483648", Some(i32::MIN)),
            (b"-2147483649", None),
            (b"0x10", Some(16)),
            (b"0b11", Some(3)),
            (b" 1", Some(1)),
            (b"1 ", None),
            (b"", None),
        ];
        for (s, want) in rows {
            assert_eq!(safe_atoi(s), *want, "{s:?}");
        }
    }
}
