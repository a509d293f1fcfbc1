//! userdb_by_name() against a temporary socket directory served by test threads (threads only
//! here) and temporary drop-in directories.

use super::*;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

const V257: Flavour = Flavour {
    xattr_filter: false,
    non_matching: false,
    unknown_is_esrch: false,
    no_uid_unknown: false,
};
const V262: Flavour = Flavour {
    xattr_filter: true,
    non_matching: true,
    unknown_is_esrch: true,
    no_uid_unknown: true,
};

/// A temporary directory tree (sockets/, etc/, lib/), removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new() -> Tree {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pam-systemd-rs-userdb-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        for d in ["sockets", "etc", "lib"] {
            std::fs::create_dir_all(p.join(d)).unwrap();
        }
        Tree(p)
    }
    fn places(&self) -> Places {
        Places {
            sockets: self.0.join("sockets"),
            dropins: vec![self.0.join("etc"), self.0.join("lib")],
        }
    }
    /// A service at sockets/<name> that reads one call and answers `reply` (None: stays mute
    /// until the client hangs up). Joins to the call it read.
    fn serve(&self, name: &str, reply: Option<&'static [u8]>) -> JoinHandle<Vec<u8>> {
        let listener = UnixListener::bind(self.0.join("sockets").join(name)).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let call = read_call(&mut s);
            match reply {
                Some(r) => {
                    let _ = s.write_all(r);
                }
                None => {
                    let mut rest = Vec::new();
                    let _ = s.read_to_end(&mut rest);
                }
            }
            call
        })
    }
    fn file(&self, rel: &str, text: &str) {
        std::fs::write(self.0.join(rel), text).unwrap();
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_call(s: &mut UnixStream) -> Vec<u8> {
    let mut call = Vec::new();
    let mut b = [0u8; 1];
    while s.read(&mut b).unwrap_or(0) == 1 && b[0] != 0 {
        call.push(b[0]);
    }
    call
}

fn soon(ms: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(ms))
}

fn no_nss(_: &[u8]) -> Result<NssUser, i32> {
    Err(libc::ESRCH)
}

fn nss_panics(_: &[u8]) -> Result<NssUser, i32> {
    panic!("NSS must not be asked")
}

fn nss_alice(name: &[u8]) -> Result<NssUser, i32> {
    assert_eq!(name, b"alice");
    Ok(NssUser {
        json: br#"{"userName":"alice","uid":1000}"#.to_vec(),
        uid: 1000,
    })
}

const RECORD_REPLY: &[u8] = b"{\"parameters\": {\"record\" : {\"userName\":\"alice\", \"uid\":1000,\n\"service\":\"io.systemd.DropIn\",\"umask\":63,\"deep\":[[[[[[{\"a\":\"\\u0041\"}]]]]]]},\"incomplete\":false}}\0";
const RECORD_CANONICAL: &[u8] =
    br#"{"userName":"alice","uid":1000,"service":"io.systemd.DropIn","umask":63,"deep":[[[[[[{"a":"A"}]]]]]]}"#;

#[test]
fn multiplexer_alone_is_asked_and_its_record_cached_in_canonical_form() {
    let t = Tree::new();
    t.file("etc/alice.user", r#"{"userName":"alice","uid":2000}"#);
    let other = t.0.join("sockets/io.systemd.Other");
    std::fs::write(&other, "").unwrap();
    let h = t.serve("io.systemd.Multiplexer", Some(RECORD_REPLY));
    let found = by_name(b"alice", V257, &t.places(), soon(5000), &nss_panics).unwrap();
    assert_eq!(found.json, RECORD_CANONICAL);
    assert_eq!(found.source, Source::Service("io.systemd.Multiplexer".into()));
    assert_eq!(
        h.join().unwrap(),
        br#"{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"alice","service":"io.systemd.Multiplexer"}}"#
    );
}

#[test]
fn multiplexer_covers_drop_ins_and_nss() {
    for (flavour, reply, want) in [
        (
            V257,
            &b"{\"error\":\"io.systemd.UserDatabase.NoRecordFound\"}\0"[..],
            libc::ESRCH,
        ),
        (
            V257,
            b"{\"error\":\"io.systemd.UserDatabase.ServiceNotAvailable\"}\0",
            libc::EHOSTDOWN,
        ),
        (
            V262,
            b"{\"error\":\"io.systemd.UserDatabase.ServiceNotAvailable\"}\0",
            libc::ESRCH,
        ),
        (
            V257,
            b"{\"error\":\"io.systemd.UserDatabase.NonMatchingRecordFound\"}\0",
            libc::EIO,
        ),
        (
            V262,
            b"{\"error\":\"io.systemd.UserDatabase.NonMatchingRecordFound\"}\0",
            libc::ENOEXEC,
        ),
        (V257, b"{\"error\":\"io.systemd.TimedOut\"}\0", libc::ETIMEDOUT),
        (
            V257,
            b"{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"userName\"}}\0",
            libc::ESRCH,
        ),
        (
            V257,
            b"{\"error\":\"org.varlink.service.InvalidParameter\"}\0",
            libc::EIO,
        ),
        (V257, b"this is not json\0", libc::EIO),
        (V257, b"{\"parameters\":{}}\0", libc::EIO),
        (
            V257,
            b"{\"parameters\":{\"record\":{\"userName\":\"alice\",\"uid\":1000}}}\0",
            libc::EINVAL,
        ),
        (V257, b"{\"parameters\":{\"record\":[1]}}\0", libc::EBADMSG),
        (
            V257,
            b"{\"parameters\":{\"record\":{\"userName\":\"alice\",\"service\":\"x\"},\"incomplete\":1}}\0",
            libc::EINVAL,
        ),
    ] {
        let t = Tree::new();
        t.file("etc/alice.user", r#"{"userName":"alice","uid":2000}"#);
        let h = t.serve("io.systemd.Multiplexer", Some(reply));
        let r = by_name(b"alice", flavour, &t.places(), soon(5000), &nss_panics);
        assert_eq!(r, Err(want), "{}", String::from_utf8_lossy(reply));
        h.join().unwrap();
    }
}

#[test]
fn without_multiplexer_services_then_drop_in_with_privileged_section() {
    let t = Tree::new();
    let h = t.serve(
        "io.systemd.Machine",
        Some(b"{\"error\":\"io.systemd.UserDatabase.NoRecordFound\"}\0"),
    );
    t.file(
        "lib/alice.user",
        "{ \"userName\" : \"alice\", \"uid\" : 1000, \"privileged\" : {\"x\":1}, \"niceLevel\": 5 }\n",
    );
    t.file(
        "lib/alice.user-privileged",
        r#"{"privileged":{"hashedPassword":["!"]}}"#,
    );
    let found = by_name(b"alice", V257, &t.places(), soon(5000), &nss_panics).unwrap();
    assert_eq!(
        found.json,
        br#"{"userName":"alice","uid":1000,"niceLevel":5,"privileged":{"hashedPassword":["!"]}}"#
    );
    assert_eq!(found.source, Source::DropIn(t.0.join("lib/alice.user")));
    assert!(String::from_utf8_lossy(&h.join().unwrap()).contains(r#""service":"io.systemd.Machine""#));
}

#[test]
fn first_drop_in_directory_wins_and_its_name_must_match() {
    let t = Tree::new();
    t.file("etc/alice.user", r#"{"userName":"bob","uid":1000}"#);
    t.file("lib/alice.user", r#"{"userName":"alice","uid":1000}"#);
    assert_eq!(dropin_by_name(b"alice", &t.places().dropins), Err(libc::EINVAL));
    std::fs::remove_file(t.0.join("etc/alice.user")).unwrap();
    assert!(dropin_by_name(b"alice", &t.places().dropins).is_ok());
    t.file("etc/alice.user", "{\"userName\":");
    assert_eq!(dropin_by_name(b"alice", &t.places().dropins), Err(libc::EINVAL));
    assert_eq!(dropin_by_name(b"carol", &t.places().dropins), Err(libc::ESRCH));
}

#[test]
fn nss_is_last_and_the_error_is_the_generations() {
    let t = Tree::new();
    std::fs::remove_dir(t.0.join("sockets")).unwrap();
    let found = by_name(b"alice", V257, &t.places(), soon(5000), &nss_alice).unwrap();
    assert_eq!(found.source, Source::Nss);
    let nss_eio = |_: &[u8]| Err(libc::EIO);
    assert_eq!(
        by_name(b"alice", V257, &t.places(), soon(5000), &nss_eio),
        Err(libc::EIO)
    );
    assert_eq!(
        by_name(b"alice", V262, &t.places(), soon(5000), &nss_eio),
        Err(libc::ESRCH)
    );
    assert_eq!(
        by_name(b"alice", V257, &t.places(), soon(5000), &no_nss),
        Err(libc::ESRCH)
    );
    assert_eq!(
        by_name(b"a/b", V257, &t.places(), soon(5000), &nss_panics),
        Err(libc::EINVAL)
    );
    assert_eq!(
        by_name(b"", V262, &t.places(), soon(5000), &nss_panics),
        Err(libc::EINVAL)
    );
}

#[test]
fn a_mute_service_is_bounded_by_the_deadline_then_fallbacks_run() {
    let t = Tree::new();
    let h = t.serve("io.systemd.Mute", None);
    let start = Instant::now();
    let found = by_name(b"alice", V257, &t.places(), soon(300), &nss_alice).unwrap();
    assert_eq!(found.source, Source::Nss);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    h.join().unwrap();
}

#[test]
fn a_dead_socket_and_garbage_fall_back() {
    let t = Tree::new();
    // A socket file nobody listens on: connect fails (ECONNREFUSED), nothing connected.
    drop(UnixListener::bind(t.0.join("sockets/io.systemd.Dead")).unwrap());
    let found = by_name(b"alice", V257, &t.places(), soon(2000), &nss_alice).unwrap();
    assert_eq!(found.source, Source::Nss);
    assert_eq!(
        by_name(b"alice", V257, &t.places(), soon(2000), &no_nss),
        Err(libc::ESRCH)
    );
    let h = t.serve("io.systemd.Garbage", Some(b"\xff\xfe{{{\0"));
    let found = by_name(b"alice", V257, &t.places(), soon(2000), &nss_alice).unwrap();
    assert_eq!(found.source, Source::Nss);
    h.join().unwrap();
}

#[test]
fn connected_name_service_switch_and_drop_in_services_cover_the_fallbacks() {
    let t = Tree::new();
    t.file("etc/alice.user", r#"{"userName":"alice","uid":2000}"#);
    let a = t.serve(
        "io.systemd.DropIn",
        Some(b"{\"error\":\"io.systemd.UserDatabase.NoRecordFound\"}\0"),
    );
    let b = t.serve(
        "io.systemd.NameServiceSwitch",
        Some(b"{\"error\":\"io.systemd.UserDatabase.ServiceNotAvailable\"}\0"),
    );
    // ESRCH beats the other error whatever the directory order.
    assert_eq!(
        by_name(b"alice", V257, &t.places(), soon(5000), &nss_panics),
        Err(libc::ESRCH)
    );
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn merge_is_sd_json_merge_object() {
    assert_eq!(
        merge(br#"{"a":1,"b":{"x":[2]},"c":3}"#, br#" {"b":null,"d":"e"} "#).unwrap(),
        br#"{"a":1,"c":3,"b":null,"d":"e"}"#
    );
    assert_eq!(merge(b"[1]", b"{}"), Err(libc::EINVAL));
    assert_eq!(merge(b"{}", b"{}").unwrap(), b"{}");
}

#[test]
fn xattr_patterns_filter_by_name() {
    let t = Tree::new();
    let p = t.0.join("etc/probe");
    std::fs::write(&p, "").unwrap();
    assert!(xattr_admits(&p, b"alice"), "no xattr admits");
    let cpath = CString::new(p.as_os_str().as_bytes()).unwrap();
    let value = b"bob*\0ali?e\0";
    // SAFETY: NUL-terminated path and name, value valid for its length.
    let r = unsafe {
        libc::setxattr(
            cpath.as_ptr(),
            c"user.userdb.username".as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(
        r,
        0,
        "user xattrs are needed in the temp directory: {}",
        std::io::Error::last_os_error()
    );
    assert!(xattr_admits(&p, b"alice"));
    assert!(xattr_admits(&p, b"bobby"));
    assert!(!xattr_admits(&p, b"carol"));
}

/// sd-json reads `\u007f` and writes it back raw (which its reader then refuses): the record is
/// cached with the raw byte, as C caches it, and still applies (read from the text received).
#[test]
fn escaped_del_is_cached_raw_and_the_record_still_reads() {
    let t = Tree::new();
    let h = t.serve(
        "io.systemd.Multiplexer",
        Some(b"{\"parameters\":{\"record\":{\"userName\":\"alice\",\"uid\":1000,\"realName\":\"a\\u007fb\",\"service\":\"s\",\"niceLevel\":4}}}\0"),
    );
    let found = by_name(b"alice", V257, &t.places(), soon(5000), &nss_panics).unwrap();
    assert_eq!(
        found.json,
        b"{\"userName\":\"alice\",\"uid\":1000,\"realName\":\"a\x7fb\",\"service\":\"s\",\"niceLevel\":4}"
    );
    assert_eq!(found.record.uid, Some(1000));
    assert_eq!(found.record.process.nice, Some(4));
    h.join().unwrap();
}

#[test]
fn service_is_at_the_top_or_in_this_machines_status() {
    let mid = [0xab; 16];
    let key = "ab".repeat(16);
    let v = |s: &str| json::parse(s.as_bytes()).unwrap();
    assert!(carries_service(&v(r#"{"service":"x"}"#), None));
    assert!(carries_service(
        &v(&format!(
            r#"{{"status":{{"{key}":{{"service":"io.systemd.DropIn"}}}}}}"#
        )),
        Some(mid)
    ));
    assert!(!carries_service(
        &v(&format!(r#"{{"status":{{"{key}":{{"service":"x"}}}}}}"#)),
        Some([0xcd; 16])
    ));
    assert!(!carries_service(
        &v(&format!(r#"{{"status":{{"{key}":{{"service":1}}}}}}"#)),
        Some(mid)
    ));
    assert!(!carries_service(&v(r#"{"service":null}"#), Some(mid)));
}

/// The record read from the parsed reply (one parse) is the record read alone from its text:
/// the same cached JSON (`format_canonical` of the text) and the same record, or the same errno.
#[test]
fn the_record_in_a_reply_reads_as_the_record_alone() {
    let machine = record_read::Machine::current();
    let mid = machine
        .machine_id
        .map(|m| String::from_utf8(record_read::id128_hex(&m).to_vec()).unwrap());
    let mid = mid.as_deref().unwrap_or("00000000000000000000000000000001");
    let deep = format!("{}1.5e3{}", "[ {\"x\" : ".repeat(9), " } ]".repeat(9));
    let records = [
        r#"{"userName":"alice","uid":1000,"service":"s"}"#.to_owned(),
        r#" { "userName" : "al\u0069ce" , "uid" : 1000.0 , "service" : "s" , "realName" : "a\u007fb\n\"c\"é" } "#
            .to_owned(),
        format!(
            r#"{{"userName":"alice","uid":1000,"status":{{"{mid}":{{"service":"io.systemd.NameServiceSwitch"}}}}}}"#
        ),
        format!(
            r#"{{"userName":"alice","uid":7,"service":"s","umask":"0077","niceLevel":-3,"environment":["A=1","B=2","A=3"],
              "perMachine":[{{"matchMachineId":["{mid}","x"],"uid":1000,"niceLevel":5,
                "resourceLimits":{{"RLIMIT_NOFILE":{{"cur":1024,"max":4096}},"RLIMIT_CORE":{{"cur":null,"max":null}}}}}}],
              "binding":{{"{mid}":{{"uid":1001}}}},"extra":{deep}}}"#
        ),
        format!(
            r#"{{"userName":"alice","uid":1000,"service":"s","perMachine":[{{"matchMachineId":"{mid}","resourceLimits":{{"RLIMIT_NOFILE":{{"cur":[1],"max":2}}}}}}]}}"#
        ),
        r#"{"userName":"alice","uid":1000,"service":"s","perMachine":{}}"#.to_owned(),
        r#"{"userName":"alice","uid":1000,"service":"s","secret":{}}"#.to_owned(),
        r#"{"userName":"alice","uid":1000}"#.to_owned(),
        r#"{"uid":1000,"service":"s"}"#.to_owned(),
        r#"{"perMachine":[],"service":"s"}"#.to_owned(),
        r#"[{"userName":"alice"}]"#.to_owned(),
        r#""alice""#.to_owned(),
        "null".to_owned(),
    ];
    for record in &records {
        let message = format!(r#"{{"parameters":{{"record":{record},"incomplete":false}}}}"#);
        let reply = crate::varlink::read_reply(message.as_bytes()).expect(&message);
        let alone = record_read::load_cached(record.as_bytes())
            .map_err(|e| match e {
                record_read::RecordError::Parse(e) | record_read::RecordError::Load(e) => e,
            })
            .and_then(|r| {
                let v = json::parse(record.as_bytes()).unwrap();
                if carries_service(&v, machine.machine_id) {
                    Ok((json::format_canonical(record.as_bytes()).unwrap(), r))
                } else {
                    Err(libc::EINVAL)
                }
            });
        assert_eq!(record_of_reply("s", V262, &reply), alone, "{record}");
    }
    // The cases above are not all refusals.
    let kept = records.iter().filter(|r| {
        let m = format!(r#"{{"parameters":{{"record":{r}}}}}"#);
        record_of_reply("s", V262, &crate::varlink::read_reply(m.as_bytes()).unwrap()).is_ok()
    });
    assert!(kept.count() >= 4);
}
