//! Unit tests of the user record: NSS look-ups, and the golden tables of the writer and the
//! reader. Expected values come from Debian 12's libsystemd-shared-252.so, the code the C module is
//! built from (`tests/golden/gen.c` regenerates them; see tests/golden/README.md).

use super::nss::*;
use super::record_read::*;
use super::record_write::*;
use super::utf8::*;

#[test]
#[cfg_attr(miri, ignore)] // NSS and sockets are not available under miri
fn lookup_root_and_missing() {
    let root = lookup(b"root").unwrap();
    assert_eq!((root.uid, root.name.as_slice()), (0, &b"root"[..]));
    assert_eq!(lookup(b"no-such-user-pam-systemd-rs"), Err(LookupError::NotFound));
    assert_eq!(lookup(b"0"), Err(LookupError::InvalidName));
}

/// The uid → name look-up (the diagnosis' and the doctor's): root, and a uid nobody has.
#[test]
#[cfg_attr(miri, ignore)] // NSS is not available under miri
fn name_of_uid_root_and_missing() {
    assert_eq!(name_of_uid(0).as_deref(), Some("root"));
    assert_eq!(name_of_uid(4_000_000_123), None);
}

// Expected values generated with Debian 12's libsystemd-shared-252.so (the code the C
// module is built from): `nss_passwd_to_user_record()` + `json_variant_format(json, 0)`, and
// `json_parse()` + `user_record_load(REFUSE_SECRET|PERMISSIVE)` on machine
// 3d1219c7c4c5404aaa1f6d2a48adfda4 with host name "vm".

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

/// A few writer cases, so that the writer also runs under miri; the full table (111 cases, same
/// source) is in tests/golden/cases.tsv, checked by `cargo test --test golden`.
const RECORD_CASES: &[RecordCase] = &[
    RecordCase { name: b"pamtest1", uid: 59001, gid: 59001, gecos: b"PAM test user 1", dir: b"/home/pamtest1", shell: b"/bin/bash", sp: Some((b"pamtest1", b"*", [19000, 0, 99999, 7, -1, -1])), expected: Some(b"{\"userName\":\"pamtest1\",\"uid\":59001,\"gid\":59001,\"realName\":\"PAM test user 1\",\"homeDirectory\":\"/home/pamtest1\",\"shell\":\"/bin/bash\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":1641600000000000,\"passwordChangeMaxUSec\":8639913600000000,\"passwordChangeWarnUSec\":604800000000}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"u", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"Doe, John,Room 1,555,666", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"Doe, John,Room 1,555,666\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
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
    let pw: Passwd<&[u8]> = Passwd {
        name: b"u\0x",
        passwd: b"x",
        uid: 1,
        gid: 2,
        gecos: b"\0a",
        dir: b"/h\0\xff",
        shell: b"",
    };
    assert_eq!(
        record_json(&pw, None::<&Shadow>).as_deref(),
        Some(&br#"{"userName":"u","uid":1,"gid":2,"homeDirectory":"/h"}"#[..])
    );
}

#[test]
#[cfg_attr(miri, ignore)] // NSS and sockets are not available under miri
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
/// The reader cases that depend on this machine (`perMachine`, `binding`: machine
/// 3d1219c7c4c5404aaa1f6d2a48adfda4, host name "vm"); the machine-independent
/// table (129 cases, same source) is in tests/golden/cases.tsv, checked by `cargo test --test golden`.
const CACHED_CASES: &[(&[u8], Identity)] = &[
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}}}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"vm\",\"uid\":80}]}", Some(("pamtest1", Some(80)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"00000000000000000000000000000001\",\"uid\":81}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"other\"}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":-5}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":-5}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":5}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[5]}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"uid\":82}]}", Some(("pamtest1", Some(1)))), // OK
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
    (b"{\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"pamtest1\",\"uid\":5}]}", None), // LOADERR
    (b"{\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":5}},\"userName\":\"pamtest1\"}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":5.0}]}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":65535}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1}\x0a", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":\"x\",\"uid\":7}]}", Some(("pamtest1", Some(7)))), // OK
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

/// The record's environment settings, read as `user_record_load()` dispatches them: the first
/// member of the right type decides (a refused value leaves the field unset), `environment` keeps
/// one entry per name, matching `perMachine` entries override all but `emailAddress`.
#[test]
fn cached_record_settings() {
    use super::settings::RecordSettings;
    let read = |json: &str| load_cached_for(json.as_bytes(), &vm()).unwrap().settings;
    let s = read(
        r#"{"userName":"a","uid":1000,"environment":["FOO=1","BAR=2","FOO=3"],"emailAddress":"a@x.org","timeZone":"Europe/Berlin","preferredLanguage":"de_DE.UTF-8","additionalLanguages":["fr_FR"]}"#,
    );
    assert_eq!(s.environment, [&b"FOO=3"[..], b"BAR=2"].map(<[u8]>::to_vec));
    assert_eq!(s.email.as_deref(), Some(&b"a@x.org"[..]));
    assert_eq!(s.time_zone.as_deref(), Some(&b"Europe/Berlin"[..]));
    assert_eq!(s.preferred_language.as_deref(), Some(&b"de_DE.UTF-8"[..]));
    assert_eq!(s.preferred_locale.as_deref(), Some(&b"de_DE.UTF-8"[..]));
    assert_eq!(s.additional_languages, [b"fr_FR".to_vec()]);
    // An NSS-like record has none.
    assert!(read(r#"{"userName":"a","uid":1000}"#).is_empty());
    // One invalid entry refuses the whole array; wrong types are skipped, the first of the right
    // type decides even when refused.
    let s = read(
        r#"{"userName":"a","uid":1,"environment":["OK=1","1BAD=2"],"timeZone":7,"timeZone":"Etc/UTC","emailAddress":"a\"b","emailAddress":"c@x"}"#,
    );
    assert_eq!(
        s,
        RecordSettings {
            time_zone: Some(b"Etc/UTC".to_vec()),
            ..RecordSettings::default()
        }
    );
    // 252 takes any safe string as the language, 257 only a locale name.
    let s = read(r#"{"userName":"a","uid":1,"preferredLanguage":"en US","additionalLanguages":["ok","no way"]}"#);
    assert_eq!(s.preferred_language.as_deref(), Some(&b"en US"[..]));
    assert_eq!(s.preferred_locale, None);
    assert!(s.additional_languages.is_empty());
    // perMachine: this machine's entry overrides; the other machine's does not; no emailAddress.
    let s = read(
        r#"{"userName":"a","uid":1,"environment":["A=top"],"timeZone":"UTC","emailAddress":"top@x","perMachine":[{"matchHostname":"vm","environment":["B=vm"],"timeZone":"Europe/Paris","emailAddress":"pm@x"},{"matchHostname":"other","timeZone":"Asia/Tokyo"}]}"#,
    );
    assert_eq!(s.environment, [b"B=vm".to_vec()]);
    assert_eq!(s.time_zone.as_deref(), Some(&b"Europe/Paris"[..]));
    assert_eq!(s.email.as_deref(), Some(&b"top@x"[..]));
}

/// A record's process settings as `user_record_show()` prints them (`UMask: 0%03o`, `Nice: %i`,
/// `Limit: RLIMIT_%s=cur:max` in resource order), or LOADERR.
fn process_shown(json: &[u8], umask_as_access_mode: bool) -> String {
    let Ok(r) = load_cached_for(json, &vm()) else {
        return "LOADERR".into();
    };
    let p = &r.process;
    let mut parts = Vec::new();
    if let Some(u) = if umask_as_access_mode {
        p.umask_as_access_mode
    } else {
        p.umask
    } {
        parts.push(format!("UMask: 0{u:03o}"));
    }
    if let Some(n) = p.nice {
        parts.push(format!("Nice: {n}"));
    }
    for ((name, _), l) in super::process::RLIMITS.iter().zip(p.rlimits.iter()) {
        if let Some(l) = l {
            parts.push(format!("Limit: RLIMIT_{name}={}:{}", l.cur, l.max));
        }
    }
    parts.join(" ")
}

/// The process settings of cached records as 252 reads them: each row's expectation is what
/// Debian 12's libsystemd-shared-252.so shows after `json_parse()` +
/// `user_record_load(REFUSE_SECRET|PERMISSIVE)` (`user_record_show()`'s UMask, Nice and Limit
/// lines) on machine 3d1219c7c4c5404aaa1f6d2a48adfda4, host name "vm". It covers the value
/// ranges, the first-member rule (a refused first value still hides later duplicates; for
/// `umask`, typed unsigned, members of another type are skipped), partial limit tables (the limits
/// before a bad member stay), null clearing, and `perMachine` entries applied over the regular
/// section in order. (Not here: reals in exponent form, which systemd computes in long double,
/// `2e3` coming out below 2000; the parser documents that.)
const PROCESS_252: &[(&[u8], &str)] = &[
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":511}", "UMask: 0777"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":512}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":0}", "UMask: 0000"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":\"0022\"}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":null,\"umask\":18}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"umask\":23}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":600,\"umask\":18}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":-1,\"umask\":7}", "UMask: 0007"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18.0}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18.5}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":-0}", "UMask: 0000"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":19}", "Nice: 19"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":20}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":-20}", "Nice: -20"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":-21}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":\"5\"}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5.0}", "Nice: 5"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":-5.0}", "Nice: -5"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5.5}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":null}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5,\"niceLevel\":6}", "Nice: 5"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":\"x\",\"niceLevel\":6}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":9223372036854775808}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":-0}", "Nice: 0"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}}}", "Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"max\":2,\"cur\":1}}}", "Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CORE\":{\"cur\":null,\"max\":null}}}", "Limit: RLIMIT_CORE=18446744073709551615:18446744073709551615"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CORE\":{\"cur\":18446744073709551615,\"max\":null}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CORE\":{\"cur\":18446744073709551614,\"max\":null}}}", "Limit: RLIMIT_CORE=18446744073709551614:18446744073709551615"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CPU\":{\"cur\":1,\"max\":2},\"BOGUS\":{\"cur\":1,\"max\":2},\"RLIMIT_CORE\":{\"cur\":3,\"max\":4}}}", "Limit: RLIMIT_CPU=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CPU\":{\"cur\":1,\"max\":2,\"x\":3}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CPU\":{\"cur\":1,\"foo\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_CPU\":{\"cur\":1}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_nofile\":{\"cur\":1,\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_7\":{\"cur\":1,\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"NOFILE\":{\"cur\":1,\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":[1,2]}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":-1,\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1.0,\"max\":2.0}}}", "Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":\"1\",\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2},\"RLIMIT_NOFILE\":{\"cur\":3,\"max\":4}}}", "Limit: RLIMIT_NOFILE=3:4"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":5,\"max\":2}}}", "Limit: RLIMIT_NOFILE=5:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":[]}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":null}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":5,\"resourceLimits\":{\"RLIMIT_AS\":{\"cur\":1,\"max\":2}}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_RTTIME\":{\"cur\":1,\"max\":2},\"RLIMIT_CPU\":{\"cur\":3,\"max\":4},\"RLIMIT_SIGPENDING\":{\"cur\":5,\"max\":6},\"RLIMIT_NICE\":{\"cur\":7,\"max\":8}}}", "Limit: RLIMIT_CPU=3:4 Limit: RLIMIT_SIGPENDING=5:6 Limit: RLIMIT_NICE=7:8 Limit: RLIMIT_RTTIME=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_FSIZE\":{\"cur\":1,\"max\":1},\"RLIMIT_DATA\":{\"cur\":1,\"max\":1},\"RLIMIT_STACK\":{\"cur\":1,\"max\":1},\"RLIMIT_RSS\":{\"cur\":1,\"max\":1},\"RLIMIT_NPROC\":{\"cur\":1,\"max\":1},\"RLIMIT_MEMLOCK\":{\"cur\":1,\"max\":1},\"RLIMIT_LOCKS\":{\"cur\":1,\"max\":1},\"RLIMIT_MSGQUEUE\":{\"cur\":1,\"max\":1},\"RLIMIT_RTPRIO\":{\"cur\":1,\"max\":1}}}", "Limit: RLIMIT_FSIZE=1:1 Limit: RLIMIT_DATA=1:1 Limit: RLIMIT_STACK=1:1 Limit: RLIMIT_RSS=1:1 Limit: RLIMIT_NPROC=1:1 Limit: RLIMIT_MEMLOCK=1:1 Limit: RLIMIT_LOCKS=1:1 Limit: RLIMIT_MSGQUEUE=1:1 Limit: RLIMIT_RTPRIO=1:1"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"umask\":63}]}", "UMask: 0077"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"umask\":null}]}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"umask\":\"077\"}]}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":[{\"matchMachineId\":\"00000000000000000000000000000001\",\"umask\":63}]}", "UMask: 0022"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":[{\"matchHostname\":\"vm\",\"umask\":63},{\"matchHostname\":\"vm\",\"umask\":7}]}", "UMask: 0007"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5,\"perMachine\":[{\"matchHostname\":\"vm\",\"niceLevel\":null}]}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5,\"perMachine\":[{\"matchHostname\":\"vm\",\"niceLevel\":30}]}", "Nice: 5"),
    (b"{\"userName\":\"a\",\"uid\":1,\"niceLevel\":5,\"perMachine\":[{\"matchHostname\":\"vm\",\"niceLevel\":-3}]}", "Nice: -3"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"vm\",\"resourceLimits\":{\"RLIMIT_CORE\":{\"cur\":0,\"max\":0}}}]}", "Limit: RLIMIT_CORE=0:0 Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"vm\",\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":3,\"max\":4}}}]}", "Limit: RLIMIT_NOFILE=3:4"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"vm\",\"resourceLimits\":null}]}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"vm\",\"resourceLimits\":{\"RLIMIT_CORE\":{\"cur\":0,\"max\":0},\"X\":1}}]}", "Limit: RLIMIT_CORE=0:0 Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"other\",\"resourceLimits\":null}]}", "Limit: RLIMIT_NOFILE=1:2"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"niceLevel\":1,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":1,\"max\":2}},\"perMachine\":[{\"matchHostname\":\"vm\",\"umask\":63,\"niceLevel\":2,\"resourceLimits\":{\"RLIMIT_NOFILE\":{\"cur\":9,\"max\":9}}}]}", "UMask: 0077 Nice: 2 Limit: RLIMIT_NOFILE=9:9"),
    (b"{\"userName\":\"a\",\"uid\":1,\"umask\":18,\"perMachine\":5}", "LOADERR"),
    (b"{\"uid\":1,\"umask\":18}", "LOADERR"),
    (b"{\"userName\":\"a\",\"uid\":1,\"privileged\":{\"umask\":18,\"niceLevel\":3}}", ""),
    (b"{\"userName\":\"a\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"umask\":18,\"niceLevel\":3}}}", ""),
];

#[test]
fn process_settings_read_as_252() {
    for (json, want) in PROCESS_252 {
        assert_eq!(process_shown(json, false), *want, "{}", String::from_utf8_lossy(json));
    }
}

/// 262 reads `umask` with `json_dispatch_access_mode()` (`SD_JSON_STRICT`) for any type: null
/// clears an earlier value, a string is an octal mode, and the first member decides whatever its
/// type. 252/257's reading of the same records is shown beside it.
#[test]
fn umask_read_as_262() {
    let rows: &[(&[u8], &str, &str)] = &[
        (br#"{"userName":"a","uid":1,"umask":18}"#, "UMask: 0022", "UMask: 0022"),
        (br#"{"userName":"a","uid":1,"umask":"0022"}"#, "", "UMask: 0022"),
        (br#"{"userName":"a","uid":1,"umask":"077"}"#, "", "UMask: 0077"),
        (br#"{"userName":"a","uid":1,"umask":"0o22"}"#, "", ""),
        (br#"{"userName":"a","uid":1,"umask":"1777"}"#, "", ""),
        (br#"{"userName":"a","uid":1,"umask":512}"#, "", ""),
        (
            br#"{"userName":"a","uid":1,"umask":null,"umask":18}"#,
            "UMask: 0022",
            "",
        ),
        (br#"{"userName":"a","uid":1,"umask":"x","umask":18}"#, "UMask: 0022", ""),
        (br#"{"userName":"a","uid":1,"umask":-1,"umask":7}"#, "UMask: 0007", ""),
        (
            br#"{"userName":"a","uid":1,"umask":18,"perMachine":[{"matchHostname":"vm","umask":null}]}"#,
            "UMask: 0022",
            "",
        ),
        (
            br#"{"userName":"a","uid":1,"umask":18,"perMachine":[{"matchHostname":"vm","umask":"007"}]}"#,
            "UMask: 0022",
            "UMask: 0007",
        ),
        (
            br#"{"userName":"a","uid":1,"umask":"007","perMachine":[{"matchHostname":"vm","umask":true}]}"#,
            "",
            "UMask: 0007",
        ),
    ];
    for (json, v252, v262) in rows {
        let shown = String::from_utf8_lossy(json);
        assert_eq!(process_shown(json, false), *v252, "252: {shown}");
        assert_eq!(process_shown(json, true), *v262, "262: {shown}");
    }
}

/// A perMachine entry's limits sit five levels deep (top, perMachine, entry, resourceLimits,
/// RLIMIT_*): the reader keeps that level.
#[test]
fn per_machine_limits_are_kept_in_full() {
    let json = br#"{"userName":"a","uid":1,"perMachine":[{"matchHostname":"vm","resourceLimits":{"RLIMIT_NOFILE":{"cur":null,"max":5}}}]}"#;
    assert_eq!(
        process_shown(json, false),
        "Limit: RLIMIT_NOFILE=18446744073709551615:5"
    );
    // A value that is itself a container is refused (C: not an unsigned integer).
    let json = br#"{"userName":"a","uid":1,"perMachine":[{"matchHostname":"vm","resourceLimits":{"RLIMIT_NOFILE":{"cur":{},"max":5}}}]}"#;
    assert_eq!(process_shown(json, false), "");
}
