//! The capability rules of pam_systemd 257, and (as root only) their effect on a process.

#![allow(clippy::type_complexity)]

use super::*;

const ALL: u64 = (1 << 41) - 1;

fn parse(value: &str, start: u64) -> (u64, Vec<String>, bool) {
    let mut caps = start;
    let mut unknown = Vec::new();
    let ok = parse_into(value.as_bytes(), &mut caps, ALL, |w| {
        unknown.push(String::from_utf8_lossy(w).into_owned())
    })
    .is_ok();
    (caps, unknown, ok)
}

/// Names (any case), numbers up to 62, `~` for "all but", empty words and unknown names warned
/// about, a trailing backslash an error after the words before it.
#[test]
fn parse_table() {
    let bit = |n: u32| 1u64 << n;
    let rows: &[(&str, u64, u64, &[&str], bool)] = &[
        ("cap_wake_alarm", UNSET, bit(35), &[], true),
        ("CAP_WAKE_ALARM,cap_chown", UNSET, bit(35) | bit(0), &[], true),
        ("35,0x1", UNSET, bit(35) | bit(1), &[], true),
        ("62", UNSET, bit(62), &[], true),
        ("63", UNSET, UNSET, &["63"], true),
        ("~cap_chown", UNSET, ALL & !bit(0), &[], true),
        ("~", UNSET, UNSET, &[""], true),
        ("", UNSET, UNSET, &[""], true),
        ("cap_chown,,cap_kill", UNSET, bit(0) | bit(5), &[""], true),
        ("cap_chown,", UNSET, bit(0), &[""], true),
        ("wake_alarm,cap_bogus", UNSET, UNSET, &["wake_alarm", "cap_bogus"], true),
        ("cap_kill", bit(0), bit(0) | bit(5), &[], true),
        ("~cap_kill", bit(0) | bit(5), bit(0), &[], true),
        ("cap_kill,cap_chown\\", UNSET, bit(5), &[], false),
        ("cap\\_kill", UNSET, bit(5), &[], true),
    ];
    for &(value, start, want, unknown, ok) in rows {
        let (got, warned, parsed) = parse(value, start);
        assert_eq!(got, want, "{value:?}");
        assert_eq!(warned, unknown, "{value:?}");
        assert_eq!(parsed, ok, "{value:?}");
    }
}

/// The sets applied at "success": the argument, else CAP_WAKE_ALARM for regular users in
/// user@.service's stack or on a seat; ambient masked by bounding; a complete bounding set is
/// not applied.
#[test]
fn change_table() {
    let wake = 1u64 << CAP_WAKE_ALARM;
    let rows: &[(u64, u64, bool, bool, &[u8], Option<u64>, Option<u64>)] = &[
        (UNSET, UNSET, true, false, b"seat0", Some(wake), None),
        (UNSET, UNSET, true, true, b"", Some(wake), None),
        (UNSET, UNSET, true, false, b"", None, None),
        (UNSET, UNSET, false, true, b"seat0", None, None),
        (0, UNSET, true, false, b"seat0", None, None),
        (1, UNSET, false, false, b"", Some(1), None),
        (UNSET, ALL, true, false, b"seat0", Some(wake), None),
        (UNSET, 1, true, false, b"seat0", Some(0), Some(1)),
        (3, 1, false, false, b"", Some(1), Some(1)),
    ];
    for &(a, b, regular, sdu, seat, want_a, want_b) in rows {
        let p = change(a, b, regular, sdu, seat, ALL);
        assert_eq!(
            (p.ambient, p.bounding),
            (want_a, want_b),
            "{a:#x} {b:#x} {regular} {sdu}"
        );
    }
}
