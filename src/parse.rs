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
pub(crate) fn cstr(s: &[u8]) -> &[u8] {
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
    parts_scaled(p, symbol, 10, |frac| match frac {
        [d @ b'0'..=b'9'] => Some(i32::from(*d - b'0')),
        _ => None,
    })
}

/// v252 `parse_parts_value_with_hundredths_place()`.
fn parts_hundredths(p: &[u8], symbol: &[u8]) -> Option<i32> {
    parts_scaled(p, symbol, 100, |frac| match frac {
        [d1 @ b'0'..=b'9', d2 @ b'0'..=b'9'] => Some(i32::from(*d1 - b'0') * 10 + i32::from(*d2 - b'0')),
        [d1 @ b'0'..=b'9'] => Some(i32::from(*d1 - b'0') * 10),
        _ => None,
    })
}

/// What the two share: `N` or `N.F` before `symbol`, in units of `1/scale`; `fraction` turns the
/// digits after the dot into such units (`None`: not a fraction this rule accepts).
fn parts_scaled(p: &[u8], symbol: &[u8], scale: i32, fraction: impl Fn(&[u8]) -> Option<i32>) -> Option<i32> {
    let body = strip_suffix(p, symbol)?;
    let (n, q) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => (body.get(..dot)?, fraction(body.get(dot + 1..)?)?),
        None => (body, 0),
    };
    let v = safe_atoi(n)?;
    if v < 0 || v > (i32::MAX - q) / scale {
        return None;
    }
    v.checked_mul(scale)?.checked_add(q)
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

#[cfg(test)]
mod tests;
