//! The settings rules, one table each (systemd 252/257's env-util, string-util, locale-util and
//! time-util functions of the same names).

use super::*;
use crate::rules::Generation;

/// `env_assignment_is_valid()`: a shell-style name, `=`, a UTF-8 value (control characters are
/// allowed in values).
#[test]
fn env_assignments() {
    let rows: &[(&[u8], bool)] = &[
        (b"FOO=bar", true),
        (b"_x1=", true),
        (b"FOO=a=b", true),
        (b"FOO=tab\there\nnl\x1b", true),
        (b"FOO=\xc3\xa9", true),
        (b"FOO", false),
        (b"=bar", false),
        (b"1X=y", false),
        (b"FO-O=y", false),
        (b"F O=y", false),
        (b"FOO=\xff", false),
        (b"FOO=\xed\xa0\x80", false),
    ];
    for (e, ok) in rows {
        assert_eq!(env_assignment_is_valid(e), *ok, "{}", String::from_utf8_lossy(e));
    }
}

/// `string_is_safe()`: no control characters, quotes, backslash or DEL; UTF-8 is fine.
#[test]
fn safe_strings() {
    let rows: &[(&[u8], bool)] = &[
        (b"a@example.org", true),
        (b"J\xc3\xb6rg <j@x>", true),
        (b"a\"b", false),
        (b"a'b", false),
        (b"a\\b", false),
        (b"a\x7fb", false),
        (b"a\tb", false),
        (b"", true),
    ];
    for (s, ok) in rows {
        assert_eq!(string_is_safe(s), *ok, "{}", String::from_utf8_lossy(s));
    }
}

/// `locale_is_valid()`: 252 wants a safe file name, 257 only `[A-Za-z0-9_.@-]`.
#[test]
fn locale_names() {
    let preferred = Generation::V252.rules().languages;
    let with_additional = Generation::V257.rules().languages;
    let rows: &[(&[u8], bool, bool)] = &[
        (b"de_DE.UTF-8", true, true),
        (b"sr_RS@latin", true, true),
        (b"C", true, true),
        (b"en US", true, false),
        (b"x+y", true, false),
        (b"", false, false),
        (b".", false, false),
        (b"..", false, false),
        (b"a/b", false, false),
        (b"a\"b", false, false),
    ];
    for (name, v252, v257) in rows {
        let shown = String::from_utf8_lossy(name);
        assert_eq!(locale_is_valid(name, preferred), *v252, "252 {shown}");
        assert_eq!(locale_is_valid(name, with_additional), *v257, "257 {shown}");
        assert_eq!(locale_is_name(name), *v257, "257's reading {shown}");
    }
    assert!(!locale_is_valid(&[b'a'; 128], preferred));
    assert!(locale_is_valid(&[b'a'; 127], preferred));
}

/// `verify_timezone()`'s name rules: the file to check, or none for `UTC`, or invalid.
#[test]
fn timezone_names() {
    assert_eq!(timezone_file(b"UTC"), Some(Vec::new()));
    assert_eq!(
        timezone_file(b"Europe/Berlin"),
        Some(b"/usr/share/zoneinfo/Europe/Berlin".to_vec())
    );
    assert_eq!(
        timezone_file(b"Etc/GMT+1"),
        Some(b"/usr/share/zoneinfo/Etc/GMT+1".to_vec())
    );
    for bad in [
        &b""[..],
        b"/etc/passwd",
        b"../x",
        b"a//b",
        b"a/",
        b"Europe/Ber lin",
        b"a.b",
    ] {
        assert_eq!(timezone_file(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

/// 257's languages: the preferred one first, then the additional ones not listed yet.
#[test]
fn languages_order() {
    let with_additional = Generation::V257.rules().languages;
    let s = RecordSettings {
        preferred_language: Some(b"en".to_vec()),
        preferred_locale: Some(b"de_DE.UTF-8".to_vec()),
        additional_languages: vec![
            b"fr_FR".to_vec(),
            b"de_DE.UTF-8".to_vec(),
            b"fr_FR".to_vec(),
            b"it_IT".to_vec(),
        ],
        ..RecordSettings::default()
    };
    assert_eq!(
        s.languages(with_additional),
        [&b"de_DE.UTF-8"[..], b"fr_FR", b"it_IT"].map(<[u8]>::to_vec)
    );
    // 252 reads the preferred language alone.
    assert_eq!(s.languages(Generation::V252.rules().languages), [b"en".to_vec()]);
    for g in Generation::ALL {
        assert!(RecordSettings::default().languages(g.rules().languages).is_empty());
    }
    assert!(RecordSettings::default().is_empty());
}
