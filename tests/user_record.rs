//! The user record cached as PAM data `systemd-user-record-<name>` (behaviour.md, open step 2): for users
//! with assorted /etc/passwd and /etc/shadow entries, Debian's C module (v252) caches exactly the
//! JSON strings below (ground truth, checked here against the C module), and our module must cache
//! byte-for-byte the same string. The entries are appended to the testbed's private copies of
//! /etc/passwd and /etc/shadow.
//!
//! `c_module_*` tests check the C module against the expected strings; `ours_*` tests run the same
//! case with our module (target/debug/libpam_systemd_rs.so or `$PAM_SYSTEMD_RS_SO`) and compare.

mod common;

use common::*;

/// passwd and shadow lines, written with printf (octal escapes for the odd bytes).
const SETUP: &str = r#"
printf '%b\n' \
 'urtest2:x:59102:59102:J\0303\0266hn "Q" D\\oe,Room 1,555-1234,:/home/urtest2:/bin/sh' \
 'urtest3:x:59103:59103:Tab\there\0001ctl\0177del:/home/urtest3:/bin/bash' \
 'urtest4:x:59104:59104::/home/\0377bad:' \
 'urtest5:x:59105:59105:urtest5:/nonexistent:/usr/sbin/nologin' \
 'urtest6:*:0:0:bad \0377\0376 utf8 \0355\0240\0200 surrogate:/:/bin/sh' \
 >>/etc/passwd
printf '%b\n' \
 'urtest2:$6$salt$hashhashhash:19000:1:99999:7:30:20000:' \
 'urtest3:!:0::::::' \
 'urtest4:!$6$x$y:1:0:0:0:0:1:' \
 'urtest6:*:::::::' \
 >>/etc/shadow
"#;

/// (user, the JSON the C module caches)
const CASES: &[(&str, &str)] = &[
    (
        "urtest2",
        r#"{"userName":"urtest2","uid":59102,"gid":59102,"realName":"Jöhn \"Q\" D\\oe,Room 1,555-1234,","homeDirectory":"/home/urtest2","shell":"/bin/sh","privileged":{"hashedPassword":["$6$salt$hashhashhash"]},"locked":false,"notAfterUSec":1728000000000000,"passwordChangeNow":false,"lastPasswordChangeUSec":1641600000000000,"passwordChangeMinUSec":86400000000,"passwordChangeMaxUSec":8639913600000000,"passwordChangeWarnUSec":604800000000,"passwordChangeInactiveUSec":2592000000000}"#,
    ),
    (
        "urtest3",
        "{\"userName\":\"urtest3\",\"uid\":59103,\"gid\":59103,\"realName\":\"Tab here ctl\u{7f}del\",\"homeDirectory\":\"/home/urtest3\",\"shell\":\"/bin/bash\",\"privileged\":{\"hashedPassword\":[\"!\"]},\"passwordChangeNow\":true}",
    ),
    (
        "urtest4",
        r#"{"userName":"urtest4","uid":59104,"gid":59104,"privileged":{"hashedPassword":["!$6$x$y"]},"locked":true,"passwordChangeNow":false,"lastPasswordChangeUSec":86400000000}"#,
    ),
    (
        "urtest5",
        r#"{"userName":"urtest5","uid":59105,"gid":59105,"homeDirectory":"/nonexistent","shell":"/usr/sbin/nologin"}"#,
    ),
    (
        "urtest6",
        r#"{"userName":"urtest6","uid":0,"gid":0,"realName":"bad    utf8     surrogate","homeDirectory":"/","shell":"/bin/sh"}"#,
    ),
];

fn cached_record(m: &Module, user: &str) -> (Option<String>, String) {
    let o = Case::new(m)
        .logind(Logind::None)
        .user(User::Name(user.into()))
        .setup(SETUP)
        .run();
    let rec = o.dumps.first().and_then(|d| d.get("user_record")).cloned();
    (rec, o.summary())
}

fn expected(user: &str) -> &'static str {
    CASES
        .iter()
        .find(|(u, _)| *u == user)
        .map(|(_, j)| *j)
        .expect("known user")
}

/// The testbed's own user: its record as the C module caches it, and ours.
#[test]
fn c_module_pamtest1() {
    let o = Case::new(&Module::c()).logind(Logind::None).run();
    let rec = o
        .dumps
        .first()
        .and_then(|d| d.get("user_record"))
        .cloned()
        .unwrap_or_default();
    assert!(
        rec.starts_with("{\"userName\":\"pamtest1\",\"uid\":"),
        "{}",
        o.summary()
    );
}

#[test]
fn c_module_caches_the_expected_records() {
    for (user, json) in CASES {
        let (rec, s) = cached_record(&Module::c(), user);
        assert_eq!(rec.as_deref(), Some(*json), "user {user}\n{s}");
    }
}

fn ours_matches(user: &str) {
    let m = Module::rs();
    assert!(m.path.exists(), "{} missing: cargo build first", m.path.display());
    let (rec, s) = cached_record(&m, user);
    assert_eq!(rec.as_deref(), Some(expected(user)), "user {user}\n{s}");
}

#[test]
fn ours_pamtest1_same_as_c() {
    let c = Case::new(&Module::c()).logind(Logind::None).run();
    let r = Case::new(&Module::rs()).logind(Logind::None).run();
    let get = |o: &Outcome| o.dumps.first().and_then(|d| d.get("user_record")).cloned();
    assert!(get(&c).is_some(), "{}", c.summary());
    assert_eq!(get(&r), get(&c), "{}", r.summary());
}

#[test]
fn ours_urtest2_hash_and_all_shadow_fields() {
    ours_matches("urtest2");
}

#[test]
fn ours_urtest3_control_characters_and_password_change_now() {
    ours_matches("urtest3");
}

#[test]
fn ours_urtest4_locked_bad_home_no_shell() {
    ours_matches("urtest4");
}

#[test]
fn ours_urtest5_no_shadow_entry_gecos_is_name() {
    ours_matches("urtest5");
}

#[test]
fn ours_urtest6_mangled_gecos_uid0() {
    ours_matches("urtest6");
}
