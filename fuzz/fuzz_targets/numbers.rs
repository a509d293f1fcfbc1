//! Number, size, time-span and name parsers, with cross-checks between them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{local_display_number, tty_nr_from_stat, valid_user_name_relaxed, vtnr_from_tty};
use pam_systemd_rs::parse::*;

fuzz_target!(|data: &[u8]| {
    let a32 = safe_atou32(data);
    let a64 = safe_atou64(data);
    if let Some(v) = a32 {
        assert_eq!(a64, Some(u64::from(v)), "atou32 and atou64 disagree");
    }
    if let Some(v) = a64 {
        if v > u64::from(u32::MAX) {
            assert_eq!(a32, None);
        }
    }
    let _ = safe_atoi(data);
    let vt = parse_vtnr(data);
    assert_eq!(vt, a32.unwrap_or(0));
    if let Some(p) = parse_permyriad(data) {
        assert!(p <= 10000);
        let _ = permyriad_to_scale(p);
    }
    let _ = parse_size_1024(data);
    let s = parse_sec(data);
    if let (Some(s), Some(v)) = (s, a64) {
        // A bare decimal number is seconds (parse_sec reads decimal: "010" is 10 s, while
        // safe_atou64 reads it as octal 8, so leading zeros are left out of the check).
        let decimal = !data.is_empty() && data.iter().all(u8::is_ascii_digit) && (data.len() == 1 || data[0] != b'0');
        if decimal && v <= u64::MAX / 1_000_000 {
            assert_eq!(s, v * 1_000_000);
        }
    }
    let _ = parse_time(data, 1);
    if let Some(w) = cgroup_weight(data) {
        // u64::MAX is CGROUP_WEIGHT_INVALID, v252's answer for an empty string (up to a NUL).
        assert!((1..=10000).contains(&w) || (w == u64::MAX && data.split(|&b| b == 0).next() == Some(&[][..])));
    }
    let _ = cpu_weight(data);
    let _ = is_localhost(data);
    let t = skip_dev_prefix(data);
    assert!(t.len() <= data.len());
    let _ = path_startswith(data, b"/dev/");
    let _ = valid_user_name_relaxed(data);
    if let Some(n) = local_display_number(data) {
        assert!(!n.is_empty() && n.iter().all(u8::is_ascii_digit));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_boolean(s);
        let _ = tty_nr_from_stat(s);
        if let Some(n) = vtnr_from_tty(s) {
            assert!((1..=63).contains(&n), "vtnr {n}");
        }
    }
});
