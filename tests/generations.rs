//! Our module against logind of each generation, played by the recording fake: 257 (with
//! `CreateSessionWithPIDFD` and 257's classes), 255 (the method, but 252's classes) and 252
//! (neither). What the module sends, in which order, what it sets, and what it does to the
//! process (capabilities read from `/proc/<client>/status` after open). The decisions themselves
//! are unit-tested (`src/session/tests.rs`); this shows them on the wire with a real client.
//! Ours only: the C modules are each one generation (the differential suites compare those).

mod common;

use common::*;

/// The calling process's capability sets, printed by a child of the client after open.
const CAPS_AFTER_OPEN: &str = r#"sed -n 's/^\(CapInh\|CapAmb\|CapBnd\):\t/\1=/p' /proc/$PPID/status"#;

fn fake(generation: &str) -> Case {
    let c = Case::new(&Module::rs_built()).after_open(CAPS_AFTER_OPEN);
    match generation {
        "257" => c.fake_conf("pidfd", "1").fake_conf("classes", "257"),
        "255" => c.fake_conf("pidfd", "1").fake_conf("classes", "252"),
        _ => c.fake_conf("pidfd", "0").fake_conf("classes", "252"),
    }
}

fn root(c: Case) -> Case {
    c.user(User::Name("root".into()))
}

/// (method, class, error name or "") of every CreateSession* call, in order.
fn calls(o: &Outcome) -> Vec<(String, String, String)> {
    o.all_creates()
        .iter()
        .map(|r| {
            let s = |j: Option<&Value>| j.and_then(Value::as_str).unwrap_or("").to_string();
            let class = s(r.get("args").and_then(|a| a.get(4)));
            let err = s(r.get("reply").and_then(|x| x.get("error")));
            let err = if r.get("unknown").is_some() {
                "UnknownMethod".into()
            } else {
                err
            };
            (s(r.get("method")), class, err)
        })
        .collect()
}

fn c3(m: &str, class: &str, err: &str) -> (String, String, String) {
    (m.into(), class.into(), err.into())
}

fn cap(o: &Outcome, set: &str) -> u64 {
    let v = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{set}=")))
        .unwrap_or_else(|| panic!("no {set} line\n{}", o.summary()));
    u64::from_str_radix(v.trim(), 16).unwrap()
}

const WAKE_ALARM: u64 = 1 << 35;

/// logind 257: root on a terminal gets `user-early` in one CreateSessionWithPIDFD.
#[test]
fn logind_257_root_tty_is_user_early() {
    let o = root(fake("257")).item("tty", "pts/0").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(
        calls(&o),
        [c3("CreateSessionWithPIDFD", "user-early", "")],
        "{}",
        o.summary()
    );
    assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user-early"));
    assert!(
        o.logged(7, "logind generation 257 (CreateSessionWithPIDFD answered)."),
        "{}",
        o.summary()
    );
    // The pidfd names the client itself, flags are 0, and the session is set up as usual.
    let c = o.creates()[0];
    assert_eq!(c.get("pidfd_pid").and_then(Value::as_i64), o.pid, "{}", o.summary());
    assert_eq!(c.get("flags").and_then(Value::as_u64), Some(0), "{}", o.summary());
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{}", o.summary());
    assert_eq!(o.new_fifos().len(), 1, "{}", o.summary());
}

/// logind 255 has the method but not the class: once more with 252's class, same method.
#[test]
fn logind_255_refused_class_is_retried_with_252s() {
    let o = root(fake("255")).item("tty", "pts/0").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(
        calls(&o),
        [
            c3(
                "CreateSessionWithPIDFD",
                "user-early",
                "org.freedesktop.DBus.Error.InvalidArgs"
            ),
            c3("CreateSessionWithPIDFD", "user", ""),
        ],
        "{}",
        o.summary()
    );
    assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user"));
}

/// logind 252: the 252 request with CreateSession; `compat=257` fails there as Debian 13's
/// module does.
#[test]
fn logind_252() {
    let o = root(fake("252")).item("tty", "pts/0").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(
        calls(&o),
        [
            c3("CreateSessionWithPIDFD", "user-early", "UnknownMethod"),
            c3("CreateSession", "user", "")
        ],
        "{}",
        o.summary()
    );
    // The fallback passes pid 0 (the caller), as 252's module does.
    let last = o.all_creates()[1];
    assert_eq!(
        last.get("args").and_then(|a| a.get(1)).and_then(Value::as_u64),
        Some(0),
        "{}",
        o.summary()
    );
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{}", o.summary());

    let o = root(fake("252"))
        .item("tty", "pts/0")
        .args(&["debug", "compat=257"])
        .run();
    assert_eq!(o.open_rc, Some(14), "{}", o.summary());
    assert!(
        o.logged_detailed(3, "Failed to create session: Invalid session class user-early"),
        "{}",
        o.summary()
    );
    assert!(o.logged(
        7,
        "CreateSessionWithPIDFD() API is not available, retrying with CreateSession()."
    ));
}

/// user@.service's stack: a `manager` session with logind 257 (and CAP_WAKE_ALARM raised in the
/// client's inheritable and ambient sets, as for 257); nothing at all with logind 252.
#[test]
fn systemd_user_stack() {
    let o = fake("257").service("systemd-user").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(
        calls(&o),
        [c3("CreateSessionWithPIDFD", "manager", "")],
        "{}",
        o.summary()
    );
    assert_eq!(o.env_get("XDG_SESSION_TYPE"), Some("unspecified"));
    assert_eq!(cap(&o, "CapAmb") & WAKE_ALARM, WAKE_ALARM, "{}", o.summary());
    assert_eq!(cap(&o, "CapInh") & WAKE_ALARM, WAKE_ALARM, "{}", o.summary());

    let o = fake("252").service("systemd-user").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(
        calls(&o),
        [c3("CreateSessionWithPIDFD", "manager", "UnknownMethod")],
        "{}",
        o.summary()
    );
    assert_eq!(o.env_get("XDG_SESSION_ID"), None);
    assert_eq!(cap(&o, "CapAmb"), 0, "{}", o.summary());
}

/// The capability arguments change the client's sets after a 257 open: ambient (masked by
/// bounding) and bounding; a terminal login of a regular user without a seat gets no default.
#[test]
fn capability_arguments() {
    let o = fake("257")
        .item("tty", "pts/0")
        .args(&[
            "debug",
            "default-capability-ambient-set=cap_kill,cap_wake_alarm",
            "default-capability-bounding-set=~cap_wake_alarm,cap_sys_module",
        ])
        .run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(cap(&o, "CapAmb"), 1 << 5, "{}", o.summary());
    let bnd = cap(&o, "CapBnd");
    assert_eq!(bnd & (WAKE_ALARM | 1 << 16), 0, "{}", o.summary());
    assert_ne!(bnd & 1, 0, "{}", o.summary());

    let o = fake("257").item("tty", "pts/0").run();
    assert_eq!(cap(&o, "CapAmb"), 0, "{}", o.summary());
}

/// 257's credentials become environment variables after a created session, in order.
#[test]
fn credentials() {
    let o = fake("257")
        .item("tty", "pts/0")
        .setup("mkdir -p {STATE}/creds && printf '[dev] ' >{STATE}/creds/shell.prompt.prefix && printf 'hi\\n' >{STATE}/creds/shell.welcome")
        .env("CREDENTIALS_DIRECTORY", "{STATE}/creds")
        .run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(o.env_get("SHELL_PROMPT_PREFIX"), Some("[dev] "), "{}", o.summary());
    assert_eq!(o.env_get("SHELL_PROMPT_SUFFIX"), None);
    assert!(
        o.env_get("SHELL_WELCOME").is_some_and(|v| v.starts_with("hi")),
        "{}",
        o.summary()
    );

    let o = fake("252")
        .item("tty", "pts/0")
        .setup("mkdir -p {STATE}/creds && printf x >{STATE}/creds/shell.prompt.prefix")
        .env("CREDENTIALS_DIRECTORY", "{STATE}/creds")
        .run();
    assert_eq!(o.env_get("SHELL_PROMPT_PREFIX"), None, "{}", o.summary());
}

// ---------------------------------------------------------------------------------------------
// logind ≥ 258: io.systemd.Login on Varlink (the fake's Varlink face, `varlink=1`).
// ---------------------------------------------------------------------------------------------

/// (method, class, error name or "") of every Varlink call, in order.
fn varlink_calls(o: &Outcome) -> Vec<(String, String, String)> {
    o.records
        .iter()
        .filter(|r| r.get("varlink").is_some())
        .map(|r| {
            let s = |j: Option<&Value>| j.and_then(Value::as_str).unwrap_or("").to_string();
            let class = s(r.pointer("/parameters/Class"));
            let err = s(r.pointer("/reply/error"));
            (s(r.get("method")), class, err)
        })
        .collect()
}

/// D-Bus methods the fake got (CreateSession*, ReleaseSession), in order.
fn dbus_methods(o: &Outcome) -> Vec<String> {
    o.records
        .iter()
        .filter(|r| r.get("varlink").is_none())
        .filter_map(|r| r.get("method").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn with_varlink(c: Case) -> Case {
    c.fake_conf("varlink", "1")
}

/// logind 262: root on a terminal registers over Varlink only, with C 262's parameters
/// (`user_early` on the wire, our pidref, no D-Bus call), the generation is 262, and close
/// releases over Varlink.
#[test]
fn logind_262_varlink_answers() {
    let o = with_varlink(root(fake("257"))).item("tty", "pts/0").run();
    assert_eq!((o.open_rc, o.close_rc), (Some(0), Some(0)), "{}", o.summary());
    assert_eq!(
        varlink_calls(&o),
        [
            c3("io.systemd.Login.CreateSession", "user_early", ""),
            c3("io.systemd.Login.ReleaseSession", "", "")
        ],
        "{}",
        o.summary()
    );
    assert!(dbus_methods(&o).is_empty(), "{}", o.summary());
    let create = o
        .records
        .iter()
        .find(|r| r.get("varlink").is_some())
        .expect("the create record");
    let p = &create["parameters"];
    assert_eq!(p["UID"], 0, "{}", o.summary());
    assert_eq!(p["Type"], "tty");
    assert_eq!(p["TTY"], "pts/0");
    assert_eq!(p["Remote"], false);
    assert_eq!(p["PID"]["pid"].as_i64(), o.pid, "{}", o.summary());
    assert_eq!(
        o.records
            .iter()
            .filter(|r| r.get("varlink").is_some())
            .nth(1)
            .map(|r| r["parameters"].clone()),
        Some(serde_json::json!({"Id": "v1"}))
    );
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("v1"));
    assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user-early"));
    assert_eq!(o.env_get("XDG_RUNTIME_DIR"), Some("/run/user/0"));
    assert!(
        o.logged(7, "logind generation 262 (io.systemd.Login answered)."),
        "{}",
        o.summary()
    );
}

/// No Varlink socket (logind ≤ 257): D-Bus with the 257 request, and no word of Varlink in the
/// log (the 257 module never tried it).
#[test]
fn varlink_absent_is_dbus_257() {
    let o = root(fake("257")).item("tty", "pts/0").run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert!(varlink_calls(&o).is_empty());
    assert_eq!(calls(&o), [c3("CreateSessionWithPIDFD", "user-early", "")]);
    assert!(!o.logged_containing(7, "Varlink"), "{}", o.summary());
    assert_eq!(dbus_methods(&o).last().map(String::as_str), Some("ReleaseSession"));
}

/// logind refuses over Varlink: the login fails as C 262's does (SERVICE_ERR, its line with our
/// details), with no D-Bus call.
#[test]
fn varlink_refusal_fails_like_262() {
    let o = with_varlink(root(fake("257")))
        .fake_conf("varlink_error", "io.systemd.Login.NoSuchSeat")
        .item("tty", "pts/0")
        .run();
    assert_eq!(o.open_rc, Some(3), "{}", o.summary());
    assert!(
        o.logged_detailed(
            3,
            "Varlink call io.systemd.Login.CreateSession failed: io.systemd.Login.NoSuchSeat"
        ),
        "{}",
        o.summary()
    );
    assert!(dbus_methods(&o).is_empty(), "{}", o.summary());
}

/// "Already a session member" over Varlink is success with nothing set (C: `Not creating
/// session: <name>`).
#[test]
fn varlink_already_member_is_success() {
    let o = with_varlink(root(fake("257")))
        .fake_conf("varlink_error", "io.systemd.Login.AlreadySessionMember")
        .item("tty", "pts/0")
        .run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(o.env_get("XDG_SESSION_ID"), None);
    assert!(
        o.logged(7, "Not creating session: io.systemd.Login.AlreadySessionMember"),
        "{}",
        o.summary()
    );
    assert!(dbus_methods(&o).is_empty(), "{}", o.summary());
}

/// A `systemd.*` limit set: C 262 skips Varlink (its scope properties go over D-Bus only). The
/// Varlink socket is there (logind ≥ 258; checked with a connect, no call), so the 262 request
/// goes to D-Bus with the limit; logind took it, so the generation is 262.
#[test]
fn limits_set_is_dbus_262() {
    let o = with_varlink(root(fake("257")))
        .pam_data("systemd.tasks_max", "50")
        .item("tty", "pts/0")
        .run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert!(
        varlink_calls(&o)
            .iter()
            .all(|c| c.0 != "io.systemd.Login.CreateSession"),
        "{}",
        o.summary()
    );
    assert_eq!(calls(&o), [c3("CreateSessionWithPIDFD", "user-early", "")]);
    assert_eq!(
        o.creates()[0]["props"],
        serde_json::json!([["TasksMax", "t", 50]]),
        "{}",
        o.summary()
    );
    assert!(
        o.logged(7, "logind generation 262 (CreateSessionWithPIDFD answered)."),
        "{}",
        o.summary()
    );
}

/// A `systemd.*` limit set and no Varlink socket (logind ≤ 257): the socket check tells, so the
/// 257 request goes to D-Bus and the login is 257's, as Debian 13's module makes it.
#[test]
fn limits_set_without_varlink_is_dbus_257() {
    let o = root(fake("257"))
        .pam_data("systemd.tasks_max", "50")
        .item("tty", "pts/0")
        .run();
    assert_eq!(o.open_rc, Some(0), "{}", o.summary());
    assert_eq!(calls(&o), [c3("CreateSessionWithPIDFD", "user-early", "")]);
    assert_eq!(
        o.creates()[0]["props"],
        serde_json::json!([["TasksMax", "t", 50]]),
        "{}",
        o.summary()
    );
    assert!(
        o.logged(7, "logind generation 257 (CreateSessionWithPIDFD answered)."),
        "{}",
        o.summary()
    );
    assert!(!o.logged_containing(7, "Varlink"), "{}", o.summary());
}

/// The fake logind's probe, asked from the after-open script (a child of the client, while the
/// session is open): it records which FIFOs (sessions, locks) still have a writer.
const PROBE: &str = "timeout 10 busctl --address=unix:path=/run/dbus/system_bus_socket --auto-start=no \
     --timeout=5 call org.freedesktop.login1 /org/freedesktop/login1 org.pamsystemdrs.FakeLogind.Probe Probe >/dev/null";

/// 262 (`compat=262`, logind without `io.systemd.Login`: D-Bus) with `inhibit=sleep
/// inhibit-why=Backup`: after the created session one `Inhibit("sleep", service, "Backup",
/// "block")` from the client on a connection of its own; the lock's FIFO has a writer while the
/// session is open; close hangs it up before ReleaseSession (behaviour-262.md sections 12, 13).
#[test]
fn compat_262_inhibit_sleep() {
    let o = Case::new(&Module::rs_built())
        .fake_conf("pidfd", "1")
        .fake_conf("classes", "257")
        .item("tty", "pts/0")
        .args(&["debug", "compat=262", "inhibit=sleep", "inhibit-why=Backup"])
        .after_open(PROBE)
        .run();
    let s = o.summary();
    assert_eq!((o.open_rc, o.close_rc), (Some(0), Some(0)), "{s}");
    let inh = o.calls("Inhibit");
    assert_eq!(inh.len(), 1, "{s}");
    let f = |k: &str| inh[0].get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    assert_eq!(
        [f("what"), f("who"), f("why"), f("mode")],
        ["sleep", "pamtest", "Backup", "block"],
        "{s}"
    );
    assert_eq!(inh[0].get("sender_pid").and_then(Value::as_i64), o.pid, "{s}");
    assert!(o.logged(7, "Acquired inhibit lock for 'sleep'."), "{s}");
    // The lock's fd is one more FIFO the client holds after open (CLOEXEC, >= 3).
    let fifos = o.new_fifos();
    assert_eq!(fifos.len(), 2, "{s}");
    assert!(fifos.iter().all(|f| f.fd >= 3 && f.cloexec), "{s}");

    // In order: create, Inhibit, the probe while open (session and lock held), the lock's EOF,
    // ReleaseSession, the harness's probe at the end (the lock hung up, the session still held).
    let event = |r: &Value| {
        r.get("event")
            .or_else(|| r.get("method"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let seq: Vec<String> = o.records_before_exit.iter().map(event).collect();
    assert_eq!(
        seq,
        [
            "CreateSessionWithPIDFD",
            "Inhibit",
            "probe",
            "fifo-eof",
            "ReleaseSession",
            "probe"
        ],
        "{s}"
    );
    let ids = |r: &Value, k: &str| -> Vec<String> {
        r.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let r = &o.records_before_exit;
    assert_eq!(ids(&r[2], "open"), ["c1", "inhibit-1"], "{s}");
    assert_eq!(r[3].get("id").and_then(Value::as_str), Some("inhibit-1"), "{s}");
    assert_eq!(ids(&r[5], "open"), ["c1"], "{s}");
    assert_eq!(ids(&r[5], "hung_up"), ["inhibit-1"], "{s}");
}
