//! The user record cached as PAM data `systemd-user-record-<name>`: another module's input
//! (docs/behaviour.md, "The user record"; SECURITY.md).
//!
//! 1. Arbitrary bytes → the JSON reader (`load_cached`): never panics, a name it accepts passes
//!    systemd's relaxed user-name rules, and the environment settings it keeps are what the PAM
//!    env may get: valid `NAME=VALUE` entries, one per name; safe strings for EMAIL and TZ.
//! 2. Writer → reader round trip: the same bytes read as a passwd entry and an optional shadow
//!    entry; whenever `record_json` produces a record for a name pam_systemd can look up, reading
//!    it back gives the same name and uid (None for the two invalid uids) — except for a record
//!    with a raw DEL, which systemd's writer emits and its reader refuses (found by this target;
//!    the C module behaves the same, see docs/behaviour.md "The user record").
//!
//! Layout for 2: uid (4 bytes LE), gid (4), a flag byte (bit 0: a shadow entry), six i64 LE
//! shadow numbers when bit 0 is set, then NUL-separated name, gecos, dir, shell, shadow password.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{
    Passwd, Shadow, cached_identity, env_assignment_is_valid, load_cached, record_json, string_is_safe, uid_is_valid,
    valid_user_name_relaxed,
};

fn take<const N: usize>(d: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = d.split_first_chunk::<N>()?;
    *d = rest;
    Some(*head)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = load_cached(data) {
        assert!(valid_user_name_relaxed(r.name.as_bytes()), "accepted name {:?}", r.name);
        let s = &r.settings;
        let names: Vec<&[u8]> = s.environment.iter().map(|e| e.split(|&c| c == b'=').next().unwrap_or(e)).collect();
        for (i, e) in s.environment.iter().enumerate() {
            assert!(env_assignment_is_valid(e), "kept {e:?}");
            assert!(!names[..i].contains(&names[i]), "name twice: {e:?}");
        }
        for v in [&s.email, &s.time_zone, &s.preferred_language].into_iter().flatten() {
            assert!(string_is_safe(v), "kept {v:?}");
        }
    }

    let mut d = data;
    let (Some(uid), Some(gid), Some([flags])) = (take::<4>(&mut d), take::<4>(&mut d), take::<1>(&mut d)) else {
        return;
    };
    let (uid, gid) = (u32::from_le_bytes(uid), u32::from_le_bytes(gid));
    let mut numbers = [-1i64; 6];
    if flags & 1 != 0 {
        for n in &mut numbers {
            let Some(b) = take::<8>(&mut d) else { return };
            *n = i64::from_le_bytes(b);
        }
    }
    let mut fields = d.split(|&b| b == 0);
    let mut next = || fields.next().unwrap_or_default();
    let (name, gecos, dir, shell, password) = (next(), next(), next(), next(), next());
    let pw: Passwd<&[u8]> = Passwd { name, passwd: b"x", uid, gid, gecos, dir, shell };
    let [last_change, min, max, warn, inactive, expire] = numbers;
    let sp = Shadow { name, password, last_change, min, max, warn, inactive, expire };
    let sp = (flags & 1 != 0).then_some(&sp);

    let Some(json) = record_json(&pw, sp) else { return };
    // userdb_by_name() refuses other names before any record is built or cached.
    if !valid_user_name_relaxed(name) {
        return;
    }
    let back = cached_identity(&json);
    if json.contains(&0x7f) {
        // systemd's own asymmetry, kept on purpose: the writer passes DEL through raw (a GECOS,
        // home or shell containing it), and json_parse() refuses a raw DEL in a string, so such
        // a record does not read back (tests/golden/cases.tsv pins both halves).
        assert_eq!(back, Err(()), "a raw DEL read back: {}", String::from_utf8_lossy(&json));
        return;
    }
    let want_uid = uid_is_valid(uid).then_some(uid);
    let want_name = std::str::from_utf8(name).expect("record_json only writes UTF-8 names");
    assert_eq!(
        back,
        Ok((want_name.to_owned(), want_uid)),
        "round trip of {}",
        String::from_utf8_lossy(&json)
    );
});
