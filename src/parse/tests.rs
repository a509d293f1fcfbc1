//! Table tests of systemd's parsers. Every expected value was produced by the real functions of
//! Debian 12's libsystemd-shared-252.so (252.38) (`tests/golden/gen.c` regenerates them; see
//! tests/golden/README.md), or observed through the real pam_systemd.so 252.

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
        ("maybe", None), // behaviour.md case 29
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
        (b"0x10", Some(16), Some(16)), // behaviour.md case 8
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

/// `parse_vtnr` beyond behaviour.md case 8, whose table is tested once, through the request
/// derivation (`context/tests.rs`, `vtnr_table`): systemd's `0b` prefix, and bytes that are not
/// UTF-8.
#[test]
fn vtnr() {
    let rows: &[(&[u8], u32)] = &[(b"0b11", 3), (b"0o17", 15), (b"\xc3\x28", 0), (b"-0", 0)];
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
        (5000, 2147483648), // behaviour.md case 12
        (1234, 529998964),  // behaviour.md case 15
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
        (b"1G", Some(1073741824)), // behaviour.md case 13
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
        ("1h30min", Some(5400000000)), // behaviour.md case 12
        ("1h 30min", Some(5400000000)),
        ("5", Some(5000000)), // behaviour.md case 14
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
        ("bogus", None), // behaviour.md case 15
        ("", None),
        (" ", None),
    ];
    for (s, want) in rows {
        assert_eq!(parse_sec(s.as_bytes()), *want, "{s:?}");
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

#[test]
fn localhost() {
    let rows: &[(&[u8], bool)] = &[
        // behaviour.md case 9
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
        // behaviour.md case 30
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
