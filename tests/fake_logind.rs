//! End-to-end tests of the module against the recording fake logind (testkit/fake-logind),
//! run inside a testbed (testbed/testbed: private /run, private system bus, captured syslog).
//!
//! The module under test is ours (`$PAM_SYSTEMD_RS_SO`, else target/debug/libpam_systemd_rs.so),
//! or Debian's C module with `PAM_SYSTEMD_RS_TEST_MODULE=c`. Every test in the first part describes the C
//! module's (v252) behaviour and passes against it. The tests in the part marked "OURS ONLY"
//! check behaviour only our module has (bus timeout, CreateSessionWithPIDFD, our log prefix);
//! they return early (and say so on stderr) when the module under test is the C one.

mod common;

use common::*;

fn base() -> Case {
    Case::new(&module())
}

fn has_env(o: &Outcome, k: &str) -> bool {
    o.env.iter().any(|(n, _)| n == k)
}

fn xdg_vars(o: &Outcome) -> Vec<String> {
    o.env
        .iter()
        .filter(|(k, _)| k.starts_with("XDG_") || k == "DBUS_SESSION_BUS_ADDRESS")
        .map(|(k, _)| k.clone())
        .collect()
}

fn create_args(o: &Outcome) -> Vec<Value> {
    let c = o.creates();
    assert_eq!(c.len(), 1, "expected one create call\n{}", o.summary());
    c[0].get("args").and_then(Value::as_array).expect("args").to_vec()
}

fn props(o: &Outcome) -> Vec<Value> {
    let c = o.creates();
    assert_eq!(c.len(), 1, "expected one create call\n{}", o.summary());
    c[0].get("props").and_then(Value::as_array).expect("props").to_vec()
}

fn prop(name: &str, sig: &str, v: u64) -> Value {
    Value::Array(vec![name.into(), sig.into(), v.into()])
}

fn uid_of(o: &Outcome) -> u64 {
    create_args(o)[0].as_u64().expect("uid")
}

// ---------------------------------------------------------------------------------------------
// Behaviour of v252 (passes against Debian's C module)
// ---------------------------------------------------------------------------------------------

#[test]
fn success_sets_env_fd_and_data() {
    let o = base()
        .item("tty", "/dev/pts/3")
        .item("rhost", "192.168.1.5")
        .item("ruser", "bob")
        .fake_conf("runtime_bus", "1")
        .run();
    let s = o.summary();
    assert_eq!(o.client_rc, Some(0), "{s}");
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    let args = create_args(&o);
    let uid = uid_of(&o);
    let expected: Vec<Value> = vec![
        uid.into(),
        0u32.into(),
        "pamtest".into(),
        "tty".into(),
        "user".into(),
        "".into(),
        "".into(),
        0u32.into(),
        "pts/3".into(),
        "".into(),
        true.into(),
        "bob".into(),
        "192.168.1.5".into(),
    ];
    assert_eq!(
        o.creates()[0].get("method").and_then(Value::as_str),
        Some("CreateSession"),
        "{s}"
    );
    assert_eq!(args, expected, "{s}");
    assert_eq!(props(&o), Vec::<Value>::new(), "{s}");
    // The call comes from the client process itself.
    assert_eq!(o.creates()[0].get("sender_pid").and_then(Value::as_i64), o.pid, "{s}");

    let rt = format!("/run/user/{uid}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
    assert_eq!(o.env_get("XDG_RUNTIME_DIR"), Some(rt.as_str()), "{s}");
    assert_eq!(
        o.env_get("DBUS_SESSION_BUS_ADDRESS"),
        Some(format!("unix:path={rt}/bus").as_str()),
        "{s}"
    );
    assert_eq!(o.env_get("XDG_SESSION_TYPE"), Some("tty"), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user"), "{s}");
    assert!(
        !has_env(&o, "XDG_SEAT") && !has_env(&o, "XDG_VTNR") && !has_env(&o, "XDG_SESSION_DESKTOP"),
        "{s}"
    );

    // Exactly one new FIFO fd, >= 3, CLOEXEC; it is the one stored as PAM data.
    let fifos = o.new_fifos();
    assert_eq!(fifos.len(), 1, "{s}");
    assert!(fifos[0].fd >= 3 && fifos[0].cloexec, "{s}");
    assert_eq!(
        o.dumps.first().and_then(|d| d.get("session_fd")),
        Some(&fifos[0].fd.to_string()),
        "{s}"
    );
    assert_eq!(
        o.dumps.first().and_then(|d| d.get("existing")).map(String::as_str),
        Some("0"),
        "{s}"
    );
    // The user record was cached as PAM data (JSON with the user's name).
    let rec = o
        .dumps
        .first()
        .and_then(|d| d.get("user_record"))
        .cloned()
        .unwrap_or_default();
    assert!(rec.starts_with('{') && rec.contains("\"userName\":\"pamtest1\""), "{s}");
    assert_eq!(o.threads, Some(1), "{s}");
}

#[test]
fn no_bus_file_means_no_dbus_session_bus_address() {
    let o = base().item("tty", "pts/1").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert!(has_env(&o, "XDG_RUNTIME_DIR"), "{s}");
    assert!(!has_env(&o, "DBUS_SESSION_BUS_ADDRESS"), "{s}");
}

#[test]
fn close_releases_and_fd_lives_until_exit() {
    let o = base().item("tty", "/dev/pts/3").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.close_rc, Some(0), "{s}");
    assert_eq!(o.end_rc, Some(0), "{s}");
    let rel = o.calls("ReleaseSession");
    assert_eq!(rel.len(), 1, "{s}");
    assert_eq!(rel[0].get("id").and_then(Value::as_str), Some("c1"), "{s}");
    assert_eq!(rel[0].get("sender_pid").and_then(Value::as_i64), o.pid, "{s}");
    // The session fd stays open after close and after pam_end ...
    let fifo = o.new_fifos()[0].fd;
    assert!(
        o.fds_after_close.iter().any(|f| f.fd == fifo && f.kind == "fifo"),
        "{s}"
    );
    assert!(o.fds_after_end.iter().any(|f| f.fd == fifo && f.kind == "fifo"), "{s}");
    // ... and the fake agrees: asked just before the client exits (the probe polls the FIFO's
    // read end then and there, and records any EOF it finds before its answer), the session still
    // has a writer and no EOF has been recorded ...
    let id = o.creates()[0]
        .get("reply")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    assert_eq!(id.as_deref(), Some("c1"), "{s}");
    let event = |r: &Value| r.get("event").and_then(Value::as_str).map(str::to_string);
    let ids = |r: &Value, k: &str| -> Option<Vec<String>> {
        r.get(k)?
            .as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    let probes: Vec<&Value> = o
        .records_before_exit
        .iter()
        .filter(|r| event(r).as_deref() == Some("probe"))
        .collect();
    assert_eq!(probes.len(), 1, "one probe record before exit expected\n{s}");
    assert_eq!(ids(probes[0], "open"), Some(vec!["c1".to_string()]), "{s}");
    assert_eq!(ids(probes[0], "hung_up"), Some(vec![]), "{s}");
    assert!(
        !o.records_before_exit
            .iter()
            .any(|r| event(r).as_deref() == Some("fifo-eof")),
        "fifo-eof before the client exited\n{s}"
    );
    // ... only once the process is gone (not even a child shell holds it) comes the EOF, once
    // (the probe, recorded before the snapshot, saw the FIFO still held).
    assert_eq!(o.fifo_eofs().len(), 1, "{s}");
    assert_eq!(o.fifo_eofs()[0].get("id").and_then(Value::as_str), Some("c1"), "{s}");
    assert_eq!(o.threads_after_close, Some(1), "{s}");
    assert_eq!(o.threads_after_end, Some(1), "{s}");
    // Close keeps the env.
    assert_eq!(o.env_after_close, o.env, "{s}");
}

#[test]
fn session_busy_is_success_without_anything() {
    let o = base()
        .item("tty", "pts/2")
        .fake_conf("create_error", "org.freedesktop.login1.SessionBusy")
        .fake_conf("create_error_msg", "Already running in a session or user slice")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(xdg_vars(&o), Vec::<String>::new(), "{s}");
    assert!(o.new_fifos().is_empty(), "{s}");
    assert_eq!(
        o.dumps.first().and_then(|d| d.get("session_fd")).map(String::as_str),
        Some("unset"),
        "{s}"
    );
    assert_eq!(
        o.dumps.first().and_then(|d| d.get("existing")).map(String::as_str),
        Some("unset"),
        "{s}"
    );
    assert!(
        o.logged(
            LOG_DEBUG,
            "Not creating session: Already running in a session or user slice"
        ),
        "{s}"
    );
    assert_eq!(o.close_rc, Some(0), "{s}");
    assert!(o.calls("ReleaseSession").is_empty(), "{s}");
}

#[test]
fn session_busy_on_second_create_from_same_process() {
    // The fake answers SessionBusy to a second create from the same PID (like logind).
    // v252's C module returns 14 on a second open on the same handle without any call (its
    // cached bus is closed); either way no second session must be registered.
    let o = base().item("tty", "pts/2").flag("--open-twice").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    let ok = o
        .creates()
        .iter()
        .filter(|r| r.get("reply").and_then(|r| r.get("id")).is_some())
        .count();
    assert_eq!(ok, 1, "{s}");
}

#[test]
fn session_busy_with_preset_id_releases_that_id() {
    let o = base()
        .item("tty", "pts/2")
        .penv("XDG_SESSION_ID", "77")
        .fake_conf("create_error", "org.freedesktop.login1.SessionBusy")
        .fake_conf("create_error_msg", "busy")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.close_rc, Some(0), "{s}");
    let rel = o.calls("ReleaseSession");
    assert_eq!(rel.len(), 1, "{s}");
    assert_eq!(rel[0].get("id").and_then(Value::as_str), Some("77"), "{s}");
}

#[test]
fn close_only_releases_preset_id() {
    let o = base().penv("XDG_SESSION_ID", "c9").flag("--close-only").run();
    let s = o.summary();
    assert_eq!(o.close_rc, Some(0), "{s}");
    assert!(o.creates().is_empty(), "{s}");
    let rel = o.calls("ReleaseSession");
    assert_eq!(rel.len(), 1, "{s}");
    assert_eq!(rel[0].get("id").and_then(Value::as_str), Some("c9"), "{s}");
}

#[test]
fn other_create_errors_are_session_err() {
    for (name, msg) in [
        ("org.freedesktop.DBus.Error.InvalidArgs", "Invalid session class foo"),
        ("org.freedesktop.login1.NoSuchSeat", "No seat 'seat7' known"),
    ] {
        let o = base()
            .item("tty", "pts/2")
            .fake_conf("create_error", name)
            .fake_conf("create_error_msg", msg)
            .run();
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{name}\n{s}");
        assert!(
            o.logged_detailed(LOG_ERR, &format!("Failed to create session: {msg}")),
            "{s}"
        );
        assert_eq!(xdg_vars(&o), Vec::<String>::new(), "{s}");
        assert!(o.new_fifos().is_empty(), "{s}");
    }
}

#[test]
fn missing_bus_is_service_err() {
    let o = base()
        .item("tty", "pts/2")
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to connect to system bus: No such file or directory"),
        "{s}"
    );
    assert!(o.creates().is_empty(), "{s}");
    assert_eq!(xdg_vars(&o), Vec::<String>::new(), "{s}");
}

#[test]
fn reply_uid_mismatch_sets_no_runtime_dir() {
    let o = base()
        .item("tty", "pts/2")
        .fake_conf("reply_uid", "{UID2}")
        .fake_conf("runtime_bus", "1")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_TYPE"), Some("tty"), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user"), "{s}");
    assert!(
        !has_env(&o, "XDG_RUNTIME_DIR") && !has_env(&o, "DBUS_SESSION_BUS_ADDRESS"),
        "{s}"
    );
}

#[test]
fn custom_runtime_dir_owned_by_user_is_used() {
    let o = base()
        .item("tty", "pts/2")
        .setup("mkdir -m 700 {STATE}/rt && chown {UID1}:{UID1} {STATE}/rt && touch {STATE}/rt/bus")
        .fake_conf("reply_runtime_path", "{STATE}/rt")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    let rt = o.env_get("XDG_RUNTIME_DIR").expect(&s).to_string();
    assert!(rt.ends_with("/rt"), "{s}");
    assert_eq!(
        o.env_get("DBUS_SESSION_BUS_ADDRESS"),
        Some(format!("unix:path={rt}/bus").as_str()),
        "{s}"
    );
}

#[test]
fn bad_runtime_dirs_are_not_used() {
    let setup = "mkdir -m 700 {STATE}/rootowned {STATE}/userdir && chown {UID1}:{UID1} {STATE}/userdir \
                 && ln -s {STATE}/userdir {STATE}/link && touch {STATE}/afile && chown {UID1} {STATE}/afile";
    let cases: [(&str, &str); 5] = [
        ("{STATE}/rootowned", "is not owned by UID"),
        ("{STATE}/link", "is not actually a directory"),
        ("relative/dir", "is not absolute"),
        ("{STATE}/missing", "Failed to stat() runtime directory"),
        ("{STATE}/afile", "is not actually a directory"),
    ];
    for (path, err) in cases {
        let o = base()
            .item("tty", "pts/2")
            .setup(setup)
            .fake_conf("reply_runtime_path", path)
            .run();
        let s = o.summary();
        assert_eq!(o.open_rc, Some(0), "{path}\n{s}");
        assert!(
            !has_env(&o, "XDG_RUNTIME_DIR") && !has_env(&o, "DBUS_SESSION_BUS_ADDRESS"),
            "{path}\n{s}"
        );
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert!(
            o.logged_containing(LOG_ERR, err),
            "{path}: expected ERR containing {err:?}\n{s}"
        );
        assert!(
            o.logged(
                LOG_WARNING,
                "Not setting $XDG_RUNTIME_DIR, as the directory is not in order."
            ),
            "{s}"
        );
    }
}

fn limits_case(data: &[(&str, &str)]) -> Outcome {
    let mut c = base().item("tty", "pts/2");
    for (k, v) in data {
        c = c.pam_data(&format!("systemd.{k}"), v);
    }
    c.run()
}

#[test]
fn limits_case_12() {
    let o = limits_case(&[
        ("memory_max", "50%"),
        ("tasks_max", "77"),
        ("cpu_weight", "idle"),
        ("io_weight", "20000"),
        ("runtime_max_sec", "1h30min"),
    ]);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(
        props(&o),
        vec![
            prop("MemoryMaxScale", "u", 2147483648),
            prop("RuntimeMaxUSec", "t", 5400000000),
            prop("TasksMax", "t", 77),
            prop("CPUWeight", "t", 0),
        ],
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, "Failed to parse systemd.io_weight, ignoring: 20000"),
        "{s}"
    );
}

#[test]
fn limits_case_13() {
    let o = limits_case(&[
        ("memory_max", "1G"),
        ("tasks_max", "infinity"),
        ("cpu_weight", "100"),
        ("io_weight", "abc"),
        ("runtime_max_sec", "infinity"),
    ]);
    let s = o.summary();
    assert_eq!(
        props(&o),
        vec![prop("MemoryMax", "t", 1073741824), prop("CPUWeight", "t", 100)],
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, "Failed to parse systemd.io_weight, ignoring: abc"),
        "{s}"
    );
}

#[test]
fn limits_case_14() {
    let o = limits_case(&[
        ("memory_max", "infinity"),
        ("tasks_max", "0x10"),
        ("cpu_weight", "0"),
        ("io_weight", "1"),
        ("runtime_max_sec", "5"),
    ]);
    let s = o.summary();
    assert_eq!(
        props(&o),
        vec![
            prop("MemoryMax", "t", u64::MAX),
            prop("RuntimeMaxUSec", "t", 5000000),
            prop("TasksMax", "t", 16),
            prop("IOWeight", "t", 1),
        ],
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, "Failed to parse systemd.cpu_weight, ignoring: 0"),
        "{s}"
    );
}

#[test]
fn limits_case_15() {
    let o = limits_case(&[
        ("memory_max", "12.34%"),
        ("tasks_max", "-1"),
        ("cpu_weight", "10000"),
        ("io_weight", ""),
        ("runtime_max_sec", "bogus"),
    ]);
    let s = o.summary();
    assert_eq!(
        props(&o),
        vec![prop("MemoryMaxScale", "u", 529998964), prop("CPUWeight", "t", 10000)],
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, "Failed to parse systemd.runtime_max_sec: bogus, ignoring."),
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, "Failed to parse systemd.tasks_max, ignoring: -1"),
        "{s}"
    );
}

#[test]
fn existing_session_is_not_released() {
    let o = base().item("tty", "pts/2").fake_conf("reply_existing", "1").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(
        o.dumps.first().and_then(|d| d.get("existing")).map(String::as_str),
        Some("1"),
        "{s}"
    );
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
    assert_eq!(o.close_rc, Some(0), "{s}");
    assert!(o.calls("ReleaseSession").is_empty(), "{s}");
}

#[test]
fn release_error_is_session_err() {
    let o = base()
        .item("tty", "pts/2")
        .fake_conf("release_error", "org.freedesktop.login1.NoSuchSession")
        .fake_conf("release_error_msg", "No session 'c1' known")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.close_rc, Some(PAM_SESSION_ERR), "{s}");
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to release session: No session 'c1' known"),
        "{s}"
    );
}

#[test]
fn non_utf8_rhost_is_service_err() {
    let o = base().item("tty", "pts/2").item("rhost", r"h\xff").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
    assert!(
        o.logged(LOG_ERR, "Failed to create bus message: Invalid argument"),
        "{s}"
    );
    assert!(o.creates().is_empty(), "{s}");
}

#[test]
fn reply_values_go_to_env() {
    let o = base()
        .item("tty", "tty2")
        .fake_conf("reply_id", "42")
        .fake_conf("reply_seat", "seat0")
        .fake_conf("reply_vtnr", "2")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("42"), "{s}");
    assert_eq!(o.env_get("XDG_SEAT"), Some("seat0"), "{s}");
    assert_eq!(o.env_get("XDG_VTNR"), Some("2"), "{s}");
    assert_eq!(
        o.calls("ReleaseSession")[0].get("id").and_then(Value::as_str),
        Some("42"),
        "{s}"
    );
}

#[test]
fn no_seats_dir_means_nothing_happens() {
    let o = base().item("tty", "pts/2").no_seats().run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    assert_eq!(o.close_rc, Some(0), "{s}");
    assert!(o.records.is_empty(), "{s}");
    assert_eq!(xdg_vars(&o), Vec::<String>::new(), "{s}");
}

#[test]
fn unknown_user_and_failing_conversation() {
    let o = base().user(User::Name("nosuchuser-xyz".into())).run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_USER_UNKNOWN), "{s}");
    assert!(o.creates().is_empty(), "{s}");
    let o = base().user(User::Unset).flag("--conv-fail").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_CONV_ERR), "{s}");
}

#[test]
fn threads_stay_one() {
    let o = base().item("tty", "pts/2").run();
    let s = o.summary();
    assert_eq!(
        (o.threads, o.threads_after_close, o.threads_after_end),
        (Some(1), Some(1), Some(1)),
        "{s}"
    );
}

#[test]
fn wrong_reply_signature_is_service_err() {
    let o = base()
        .item("tty", "pts/2")
        .fake_conf("create_mode", "wrong-signature")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
    assert!(o.logged_containing(LOG_ERR, "Failed to parse bus message: "), "{s}");
    assert_eq!(xdg_vars(&o), Vec::<String>::new(), "{s}");
}

#[test]
fn logind_exiting_without_reply_is_session_err() {
    let o = base().item("tty", "pts/2").fake_conf("create_mode", "exit").run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    assert!(
        o.logged_detailed(
            LOG_ERR,
            "Failed to create session: Message recipient disconnected from message bus without replying"
        ),
        "{s}"
    );
}

#[test]
fn comparable_view_is_stable_across_runs() {
    // Two identical runs of the same module compare equal once normalised (what the
    // differential suite relies on).
    let mk = || {
        base()
            .item("tty", "/dev/pts/4")
            .item("rhost", "10.1.2.3")
            .pam_data("systemd.tasks_max", "9")
            .run()
    };
    let (a, b) = (mk(), mk());
    assert_eq!(a.comparable(), b.comparable(), "{}\n{}", a.summary(), b.summary());
    assert!(
        a.comparable()
            .records
            .iter()
            .any(|r| r.get("sender_pid").and_then(Value::as_str) == Some("<pid>"))
    );
}

// ---------------------------------------------------------------------------------------------
// OURS ONLY: behaviour the C module does not have (these fail against it, by design)
// ---------------------------------------------------------------------------------------------

fn ours() -> Option<Module> {
    let m = module();
    if m.is_ours() {
        Some(m)
    } else {
        eprintln!("skipped: ours-only test, module under test is the C module");
        None
    }
}

#[test]
/// A bus socket that accepts and never answers: `timeout=1` ends the hook in time. The socket
/// connect worked, so, as with sd-bus, it is the call that times out: PAM_SESSION_ERR.
fn ours_timeout_with_mute_bus_is_session_err() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .args(&["debug", "timeout=1"])
        .item("tty", "pts/2")
        .bus(Bus::Mute)
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    let ms = o.open_ms.unwrap_or(u64::MAX);
    // Never before the 1 s deadline; at most the teardown bound (250 ms) plus scheduling slack
    // after it (the same window as faults.rs `deadline_window`).
    assert!((1000..=2500).contains(&ms), "open took {ms} ms\n{s}");
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to create session: Connection timed out"),
        "{s}"
    );
    assert!(
        o.logged_containing(LOG_ERR, "org.freedesktop.DBus.Error.Timeout after "),
        "{s}"
    );
}

#[test]
fn ours_timeout_with_never_reply_is_session_err() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .args(&["debug", "timeout=1"])
        .item("tty", "pts/2")
        .fake_conf("create_mode", "never-reply")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    let ms = o.open_ms.unwrap_or(u64::MAX);
    assert!((1000..=2500).contains(&ms), "open took {ms} ms\n{s}");
    assert_eq!(o.creates().len(), 1, "{s}");
}

#[test]
/// A bus that accepts the socket and then hangs up during authentication: as with sd-bus (which
/// authenticates lazily, inside the call), the call fails: PAM_SESSION_ERR, promptly.
fn ours_half_bus_is_session_err() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .args(&["debug", "timeout=1"])
        .item("tty", "pts/2")
        .bus(Bus::HalfBus)
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    assert!(o.open_ms.unwrap_or(u64::MAX) < 1500, "{s}");
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to create session: Transport endpoint is not connected"),
        "{s}"
    );
}

#[test]
fn ours_pidfd_api_is_used_when_available() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .args(&["debug"])
        .item("tty", "pts/2")
        .fake_conf("pidfd", "1")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    let c = o.creates();
    assert_eq!(c.len(), 1, "{s}");
    assert_eq!(
        c[0].get("method").and_then(Value::as_str),
        Some("CreateSessionWithPIDFD"),
        "{s}"
    );
    assert_eq!(c[0].get("pidfd_pid").and_then(Value::as_i64), o.pid, "{s}");
    assert_eq!(c[0].get("flags").and_then(Value::as_u64), Some(0), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
    assert_eq!(o.new_fifos().len(), 1, "{s}");
}

#[test]
fn ours_pidfd_falls_back_to_create_session() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .args(&["debug"])
        .item("tty", "pts/2")
        .fake_conf("pidfd", "0")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(0), "{s}");
    let c = o.all_creates();
    let last = c.last().expect(&s);
    assert_eq!(last.get("method").and_then(Value::as_str), Some("CreateSession"), "{s}");
    assert_eq!(
        last.get("args").and_then(|a| a.get(1)).and_then(Value::as_u64),
        Some(0),
        "{s}"
    );
    for earlier in &c[..c.len() - 1] {
        assert_eq!(
            earlier.get("method").and_then(Value::as_str),
            Some("CreateSessionWithPIDFD"),
            "{s}"
        );
        assert_eq!(earlier.get("unknown").and_then(Value::as_bool), Some(true), "{s}");
    }
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
}

#[test]
fn ours_syslog_prefix() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .item("tty", "pts/2")
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent")
        .run();
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
    let line = o
        .syslog
        .iter()
        .find(|l| l.text.starts_with("Failed to connect to system bus: "))
        .expect(&s);
    assert!(line.raw.contains("pam_systemd_rs(pamtest:session): "), "{s}");
    assert_eq!(line.pri, 83, "{s}");
}

/// Ours: error lines say what failed, where, the D-Bus error name and how long it took.
#[test]
fn ours_error_lines_name_the_cause() {
    let Some(m) = ours() else { return };
    let o = Case::new(&m)
        .item("tty", "pts/2")
        .fake_conf("create_error", "org.freedesktop.DBus.Error.InvalidArgs")
        .fake_conf("create_error_msg", "Invalid session class foo")
        .run();
    let s = o.summary();
    let line = o
        .module_log()
        .into_iter()
        .find(|(_, t)| t.starts_with("Failed to create session: "))
        .expect(&s)
        .1;
    for part in [
        "Invalid session class foo",
        "org.freedesktop.DBus.Error.InvalidArgs",
        " ms",
        "org.freedesktop.login1 at unix:path=/run/dbus/system_bus_socket",
    ] {
        assert!(line.contains(part), "{part:?} missing in {line:?}\n{s}");
    }

    let o = Case::new(&m)
        .item("tty", "pts/2")
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent")
        .run();
    let s = o.summary();
    let line = o
        .module_log()
        .into_iter()
        .find(|(_, t)| t.starts_with("Failed to connect to system bus: "))
        .expect(&s)
        .1;
    assert!(
        line.contains("unix:path=/nonexistent") && line.contains(" ms)"),
        "{line:?}\n{s}"
    );
}
