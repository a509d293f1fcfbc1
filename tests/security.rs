//! Security and hostile-input tests (issue 5.2 and 5.4). See SECURITY.md for the threat model
//! each group covers.
//!
//! * AT_SECURE callers: `DBUS_SYSTEM_BUS_ADDRESS` and the `XDG_*` process-env fallbacks are
//!   ignored in a setuid-root copy of the test client run by the unprivileged `pamtest1`, and
//!   honoured in the same client run plainly (so the tests can fail).
//! * The session fd never survives exec.
//! * Runtime directories that are symlinks, foreign-owned or relative are refused.
//! * User-controlled strings are logged literally, never used as format strings.
//! * A caller that is not root gets a clear line.
//! * Hostile items, env values and arguments: huge, control characters, non-UTF-8, empty vs
//!   unset, absurd arguments. None may crash the client or produce an undocumented code.
//!
//! How a different client binary runs inside the (unchanged) harness: the testbed has a private
//! mount namespace, so a setup line bind-mounts a wrapper script over the harness's
//! `target/testbin/pamclient` path for that one testbed only.

mod common;

use common::checks::survived;
use common::*;

/// Our module (these tests are about its own behaviour, so never the C one).
fn rs() -> Module {
    Module::rs_built()
}

fn base() -> Case {
    Case::new(&rs()).item("tty", "pts/2")
}

/// Setup lines that make the harness's client path run `runner` (a shell command prefix that
/// gets the client's real path and arguments appended) instead, in this testbed only.
fn wrap_client(prefix_cmd: &str) -> String {
    let client = pamclient();
    let c = client.to_string_lossy();
    format!(
        "cp {c} {{STATE}}/real-client && chmod 755 {{STATE}}/real-client && \
         printf '%s\\n' '#!/bin/sh' {wrapper} > {{STATE}}/wrap.sh && chmod 755 {{STATE}}/wrap.sh && \
         mount --bind {{STATE}}/wrap.sh {c}",
        c = shell_quote(&*c),
        wrapper = shell_quote(format!("exec {prefix_cmd} \"$@\"")),
    )
}

/// The client as a setuid-root binary, started by pamtest1: the kernel sets AT_SECURE.
fn as_setuid_root(c: Case) -> Case {
    c.setup(&wrap_client("setpriv --reuid={UID1} --regid={UID1} --clear-groups {STATE}/suid-client"))
        .setup("cp {STATE}/real-client {STATE}/suid-client && chown root:root {STATE}/suid-client && chmod 4755 {STATE}/suid-client")
        // Evidence, printed into the client's stdout: its real and effective uids differ.
        .after_open("grep ^Uid: /proc/$PPID/status | tr -s '\\t ' ' ' | sed 's/^/client_/'")
}

/// The client as pamtest1, no privileges at all.
fn as_user1(c: Case) -> Case {
    c.setup(&wrap_client(
        "setpriv --reuid={UID1} --regid={UID1} --clear-groups {STATE}/real-client",
    ))
}

fn create_arg(o: &Outcome, i: usize) -> Value {
    let c = o.creates();
    assert_eq!(c.len(), 1, "expected one create call\n{}", o.summary());
    c[0].get("args").and_then(|a| a.get(i)).cloned().expect("arg")
}

fn uid1(o: &Outcome) -> Option<u64> {
    o.creates()
        .first()
        .and_then(|c| c.get("args"))
        .and_then(|a| a.get(0))
        .and_then(Value::as_u64)
}

// ---------------------------------------------------------------------------------------------
// AT_SECURE
// ---------------------------------------------------------------------------------------------

#[test]
fn bus_address_from_env_is_honoured_when_not_at_secure() {
    let o = base()
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secure-test")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    assert!(
        o.logged_containing(LOG_ERR, "/nonexistent/secure-test"),
        "{}",
        o.summary()
    );
}

#[test]
fn bus_address_from_env_is_ignored_when_at_secure() {
    let o = as_setuid_root(base().env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secure-test")).run();
    let s = o.summary();
    survived(&o);
    // The process really was setuid: real uid pamtest1, effective 0.
    let uids = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_Uid: "))
        .expect(&s)
        .to_string();
    let v: Vec<&str> = uids.split_whitespace().collect();
    assert!(v.len() == 4 && v[0] != "0" && v[1] == "0", "not setuid: {uids}\n{s}");
    // The variable was ignored: the default bus was used and the session was created.
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    assert!(!o.logged_containing(LOG_ERR, "/nonexistent/secure-test"), "{s}");
    assert_eq!(o.creates().len(), 1, "{s}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
}

/// The client with file capabilities, or setgid, run by pamtest1: AT_SECURE without being
/// root. logind refuses the non-root caller, so the bus used shows in the outcome: the real bus
/// answers AccessDenied (14); the variable's bus would fail to connect (3).
#[test]
fn bus_address_ignored_with_file_caps_and_setgid() {
    for (what, prep) in [
        (
            "setcap",
            "cp {STATE}/real-client {STATE}/x-client && setcap cap_net_raw+ep {STATE}/x-client",
        ),
        (
            "setgid",
            "cp {STATE}/real-client {STATE}/x-client && chown root:root {STATE}/x-client && chmod 2755 {STATE}/x-client",
        ),
    ] {
        // testbed/setup-host.sh installs libcap2-bin: without setcap the variant cannot run.
        assert!(
            what != "setcap"
                || ["/usr/sbin/setcap", "/sbin/setcap"]
                    .iter()
                    .any(|p| std::path::Path::new(p).exists()),
            "setcap is not installed: run testbed/setup-host.sh (libcap2-bin)"
        );
        let o = base()
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secure-test")
            .setup(&wrap_client(
                "setpriv --reuid={UID1} --regid={UID1} --clear-groups {STATE}/x-client",
            ))
            .setup(prep)
            .logind(Logind::Elogind)
            .run();
        let s = o.summary();
        survived(&o);
        assert!(
            !o.logged_containing(LOG_ERR, "/nonexistent/secure-test"),
            "{what}: variable used\n{s}"
        );
        assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{what}\n{s}");
        assert!(o.logged_containing(LOG_ERR, "AccessDenied"), "{what}\n{s}");
    }
    // Control: the same unprivileged client without caps/setgid uses the variable.
    let o = base()
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secure-test")
        .setup(&wrap_client(
            "setpriv --reuid={UID1} --regid={UID1} --clear-groups {STATE}/real-client",
        ))
        .logind(Logind::Elogind)
        .run();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    assert!(
        o.logged_containing(LOG_ERR, "/nonexistent/secure-test"),
        "{}",
        o.summary()
    );
}

fn xdg_env(c: Case) -> Case {
    c.env("XDG_SESSION_CLASS", "greeter")
        .env("XDG_SESSION_TYPE", "wayland")
        .env("XDG_SESSION_DESKTOP", "EVIL")
        .env("XDG_SEAT", "seat0")
        .env("XDG_VTNR", "7")
}

#[test]
fn xdg_process_env_is_honoured_when_not_at_secure() {
    let o = xdg_env(base()).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{}", o.summary());
    // args: uid pid service type class desktop seat vtnr ...
    assert_eq!(create_arg(&o, 3), Value::from("wayland"), "{}", o.summary());
    assert_eq!(create_arg(&o, 4), Value::from("greeter"), "{}", o.summary());
    assert_eq!(create_arg(&o, 5), Value::from("EVIL"), "{}", o.summary());
    assert_eq!(create_arg(&o, 6), Value::from("seat0"), "{}", o.summary());
    assert_eq!(create_arg(&o, 7), Value::from(7u32), "{}", o.summary());
}

#[test]
fn xdg_process_env_is_ignored_when_at_secure() {
    let o = as_setuid_root(xdg_env(base())).run();
    survived(&o);
    let s = o.summary();
    assert!(o.stdout.contains("client_Uid: "), "{s}");
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    assert_eq!(create_arg(&o, 3), Value::from("tty"), "{s}");
    assert_eq!(create_arg(&o, 4), Value::from("user"), "{s}");
    assert_eq!(create_arg(&o, 5), Value::from(""), "{s}");
    assert_eq!(create_arg(&o, 6), Value::from(""), "{s}");
    assert_eq!(create_arg(&o, 7), Value::from(0u32), "{s}");
    // The PAM env is still honoured (it is the application's, not the caller's environment).
    let o = as_setuid_root(base().penv("XDG_SESSION_CLASS", "greeter")).run();
    assert_eq!(create_arg(&o, 4), Value::from("greeter"), "{}", o.summary());
}

// ---------------------------------------------------------------------------------------------
// The session fd
// ---------------------------------------------------------------------------------------------

/// Prints `childfd=N TYPE:DEV:INO` for every fd of the shell that system() execs after open,
/// and `parentfd=...` likewise for the client (its parent).
const CHILD_FDS: &str = "for p in $$ $PPID; do [ $p = $$ ] && w=childfd || w=parentfd; \
    for f in /proc/$p/fd/*; do echo \"$w=${f##*/} $(stat -L -c %F:%d:%i \"$f\" 2>/dev/null | tr ' ' _)\"; done; done";

#[test]
fn session_fd_does_not_survive_exec() {
    let o = base().after_open(CHILD_FDS).run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    // The client holds the FIFO, CLOEXEC ...
    let fifos = o.new_fifos();
    assert_eq!(fifos.len(), 1, "{s}");
    assert!(fifos[0].cloexec, "{s}");
    let list = |w: &str| -> Vec<(String, String)> {
        o.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(w))
            .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect()
    };
    let parent = list("parentfd=");
    let child = list("childfd=");
    let fd = fifos[0].fd.to_string();
    let id = parent
        .iter()
        .find(|(n, _)| *n == fd)
        .map(|(_, id)| id.clone())
        .expect(&s);
    assert!(id.starts_with("fifo:"), "{id}\n{s}");
    // ... and the exec'd child has no fd on that FIFO (by device and inode), nor that number.
    assert!(!child.is_empty(), "child fds not listed\n{s}");
    assert!(
        !child.iter().any(|(_, i)| *i == id),
        "the session FIFO survived exec: {child:?}\n{s}"
    );
    assert!(!child.iter().any(|(n, _)| *n == fd), "{child:?}\n{s}");
    // Nor any other fd the module opened.
    let leaked: Vec<_> = o.fds.iter().filter(|f| !f.cloexec).collect();
    assert!(leaked.is_empty(), "non-CLOEXEC fds after open: {leaked:?}\n{s}");
}

// ---------------------------------------------------------------------------------------------
// XDG_RUNTIME_DIR from logind's reply
// ---------------------------------------------------------------------------------------------

#[test]
fn runtime_dir_refused_unless_real_dir_owned_by_user() {
    let setup = "mkdir -m 700 {STATE}/rootowned {STATE}/userdir {STATE}/user2dir && chown {UID1}:{UID1} {STATE}/userdir \
                 && chown {UID2}:{UID2} {STATE}/user2dir && touch {STATE}/userdir/bus \
                 && ln -s {STATE}/userdir {STATE}/link && ln -s {STATE}/rootowned {STATE}/rootlink";
    let cases: [(&str, &str); 6] = [
        ("{STATE}/link", "is not actually a directory"),
        ("{STATE}/rootlink", "is not actually a directory"),
        ("{STATE}/rootowned", "is not owned by UID"),
        ("{STATE}/user2dir", "is not owned by UID"),
        ("relative/dir", "is not absolute"),
        ("run/user/59001", "is not absolute"),
    ];
    for (path, err) in cases {
        let o = base().setup(setup).fake_conf("reply_runtime_path", path).run();
        survived(&o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{path}\n{s}");
        assert_eq!(o.env_get("XDG_RUNTIME_DIR"), None, "{path}\n{s}");
        assert_eq!(o.env_get("DBUS_SESSION_BUS_ADDRESS"), None, "{path}\n{s}");
        assert!(o.logged_containing(LOG_ERR, err), "{path}: expected {err:?}\n{s}");
    }
    // The control: the real directory itself is accepted (the test can fail).
    let o = base()
        .setup(setup)
        .fake_conf("reply_runtime_path", "{STATE}/userdir")
        .run();
    let rt = o
        .env_get("XDG_RUNTIME_DIR")
        .unwrap_or_else(|| panic!("{}", o.summary()))
        .to_string();
    assert!(rt.ends_with("/userdir"), "{}", o.summary());
    assert_eq!(
        o.env_get("DBUS_SESSION_BUS_ADDRESS"),
        Some(format!("unix:path={rt}/bus").as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// Format strings
// ---------------------------------------------------------------------------------------------

const FMT: &str = "%n%n%n%s%s%x%p%1$s%99999d";

#[test]
fn format_strings_in_items_are_logged_literally() {
    let o = base()
        .args(&["debug"])
        .item("rhost", FMT)
        .item("ruser", FMT)
        .item("tty", &format!("pts/{FMT}"))
        .penv("XDG_SESSION_DESKTOP", FMT)
        .pam_data("systemd.tasks_max", FMT)
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    let ask = o
        .module_log()
        .into_iter()
        .find(|(_, t)| t.starts_with("Asking logind to create session: "))
        .expect(&s)
        .1;
    assert!(ask.contains(&format!("remote_host={FMT}")), "{ask}");
    assert!(ask.contains(&format!("remote_user={FMT}")), "{ask}");
    assert!(ask.contains(&format!("tty=pts/{FMT}")), "{ask}");
    assert!(ask.contains(&format!("desktop={FMT}")), "{ask}");
    assert!(
        o.logged(
            LOG_WARNING,
            &format!("Failed to parse systemd.tasks_max, ignoring: {FMT}")
        ),
        "{s}"
    );
    // And the values reached logind unchanged.
    assert_eq!(create_arg(&o, 12), Value::from(FMT), "{s}");
}

#[test]
fn format_strings_in_failures_are_logged_literally() {
    // logind's error text, the module argument and the user name all end up in log lines.
    let o = base()
        .args(&[&format!("bogus{FMT}"), &format!("timeout={FMT}")])
        .fake_conf("create_error", "org.freedesktop.DBus.Error.InvalidArgs")
        .fake_conf("create_error_msg", FMT)
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    assert!(
        o.logged_containing(LOG_ERR, &format!("Failed to create session: {FMT} (")),
        "{s}"
    );
    assert!(
        o.logged(LOG_WARNING, &format!("Unknown parameter 'bogus{FMT}', ignoring")),
        "{s}"
    );
    assert!(
        o.logged(
            LOG_WARNING,
            &format!("Failed to parse timeout= argument, ignoring: {FMT}")
        ),
        "{s}"
    );
}

// ---------------------------------------------------------------------------------------------
// A caller that is not root
// ---------------------------------------------------------------------------------------------

#[test]
fn non_root_caller_gets_a_clear_line() {
    // elogind's bus policy only lets root call CreateSession.
    let o = as_user1(base()).logind(Logind::Elogind).run();
    let s = o.summary();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    let line = o
        .module_log()
        .into_iter()
        .find(|(sev, t)| *sev == LOG_ERR && t.starts_with("Failed to create session: "))
        .expect(&s)
        .1;
    eprintln!("non-root caller: {line}");
    assert!(
        line.contains("org.freedesktop.DBus.Error.AccessDenied"),
        "no D-Bus error name: {line}\n{s}"
    );
    assert!(
        line.contains("root"),
        "does not say CreateSession needs root: {line}\n{s}"
    );
    assert!(o.env_get("XDG_SESSION_ID").is_none(), "{s}");
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_items_and_env_values() {
    let big = "A".repeat(100 * 1024);
    let o = base()
        .args(&["debug"])
        .item("ruser", &big)
        .penv("XDG_SESSION_DESKTOP", &big)
        .run();
    survived(&o);
    assert_eq!(
        o.open_rc,
        Some(PAM_SUCCESS),
        "runner_rc={} open_rc={:?}",
        o.runner_rc,
        o.open_rc
    );
    assert_eq!(
        create_arg(&o, 11).as_str().map(str::len),
        Some(big.len()),
        "ruser truncated"
    );
    assert_eq!(
        create_arg(&o, 5).as_str().map(str::len),
        Some(big.len()),
        "desktop truncated"
    );
    assert_eq!(o.env_get("XDG_SESSION_DESKTOP").map(str::len), Some(big.len()));
    assert_eq!(o.threads, Some(1));
    // (The debug line echoing both, 200 KiB, is larger than a /dev/log datagram may be, so
    // glibc's syslog() drops it, as for the C module. The testbed's listener keeps 64 KiB of a
    // datagram: a 30 KiB value is echoed whole.)
    let mid = "B".repeat(30 * 1024);
    let o = base().args(&["debug"]).item("ruser", &mid).run();
    assert!(
        o.module_log()
            .iter()
            .any(|(_, t)| t.starts_with("Asking logind") && t.contains(&format!("remote_user={mid} ")))
    );
}

#[test]
fn huge_rhost() {
    // libpam's own audit record for the session (pam_open_session, after the modules ran)
    // refuses a 100 KiB rhost: libpam turns our SUCCESS into PAM_SYSTEM_ERR (4), with the C
    // module too. The module's part is complete: the session exists and the env is set.
    let big = "A".repeat(100 * 1024);
    let o = base().args(&["debug"]).item("rhost", &big).run();
    survived(&o);
    let audit = o
        .syslog
        .iter()
        .any(|l| l.raw.contains("audit_log_acct_message() failed"));
    match o.open_rc {
        Some(PAM_SUCCESS) => {}
        Some(4) => assert!(audit, "PAM_SYSTEM_ERR without libpam's audit failure"),
        other => panic!("open_rc {other:?}"),
    }
    assert_eq!(
        create_arg(&o, 12).as_str().map(str::len),
        Some(big.len()),
        "rhost truncated"
    );
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"));
    assert!(
        !o.module_log().iter().any(|(sev, _)| *sev <= LOG_ERR),
        "module logged an error"
    );
}

#[test]
fn huge_class_argument() {
    // libpam reads service-file lines into a 1 KiB buffer: a 10 KiB argument reaches the
    // module cut by libpam. Whatever arrives is passed on as is.
    let class = format!("class={}", "c".repeat(10 * 1024));
    let o = base().args(&["debug", &class]).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS));
    let got = create_arg(&o, 4);
    let got = got.as_str().expect("class");
    assert!(!got.is_empty() && got.bytes().all(|b| b == b'c'), "{got}");
}

#[test]
fn control_characters_pass_through_and_stay_in_one_log_record() {
    let nasty = r"a\x01\x07\x08\x1b[31mX\x7f\x09b\x0ainjected: pam_systemd_rs(pamtest:session): Failed";
    let o = base()
        .args(&["debug"])
        .item("rhost", nasty)
        .item("tty", r"pts/\x0d1")
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    // Sent as is (logind decides what it accepts).
    assert_eq!(
        create_arg(&o, 12),
        Value::from("a\x01\x07\x08\x1b[31mX\x7f\tb\ninjected: pam_systemd_rs(pamtest:session): Failed"),
        "{s}"
    );
    assert_eq!(create_arg(&o, 8), Value::from("pts/\r1"), "{s}");
    // One datagram per log call: the embedded newline does not start a record of its own.
    assert!(!o.syslog.iter().any(|l| l.raw.starts_with("injected")), "{s}");
    assert_eq!(
        o.module_log()
            .iter()
            .filter(|(_, t)| t.starts_with("Asking logind"))
            .count(),
        1,
        "{s}"
    );
}

#[test]
fn non_utf8_anywhere_is_service_err_without_a_call() {
    let cases: Vec<Case> = vec![
        base().item("rhost", r"h\xff"),
        base().item("ruser", r"\xc3\x28"),
        base().item("tty", r"pts/\xfe"),
        base().item("xdisplay", r":0\x80"),
        base().penv("XDG_SESSION_DESKTOP", r"\xed\xa0\x80"),
        base().penv("XDG_SEAT", r"seat\xff"),
        // Raw bytes in the service file (the harness writes text; sed puts the byte in).
        base()
            .args(&["debug", "class=@RAW@"])
            .setup(r"sed -i 's/@RAW@/\xff/' {STATE}/pam.conf.d/pamtest"),
        base()
            .args(&["debug", "type=@RAW@"])
            .setup(r"sed -i 's/@RAW@/\xc0\xaf/' {STATE}/pam.conf.d/pamtest"),
    ];
    for c in cases {
        let what = format!("{:?} {:?} {:?}", c.items, c.penv, c.module_args);
        let o = c.run();
        survived(&o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{what}\n{s}");
        assert!(
            o.logged(LOG_ERR, "Failed to create bus message: Invalid argument"),
            "{what}\n{s}"
        );
        assert!(o.creates().is_empty(), "{what}\n{s}");
    }
}

#[test]
fn empty_and_unset_items_are_the_same_request() {
    let unset = base().run();
    let empty = base().item("rhost", "").item("ruser", "").item("xdisplay", "").run();
    survived(&unset);
    survived(&empty);
    assert_eq!(unset.open_rc, Some(PAM_SUCCESS), "{}", unset.summary());
    assert_eq!(empty.open_rc, Some(PAM_SUCCESS), "{}", empty.summary());
    let args = |o: &Outcome| o.creates()[0].get("args").cloned();
    assert_eq!(args(&unset), args(&empty), "{}\n{}", unset.summary(), empty.summary());
    assert_eq!(create_arg(&empty, 10), Value::from(false), "empty rhost is not remote");
}

#[test]
fn empty_pam_env_falls_through_to_process_env() {
    let o = base()
        .penv("XDG_SESSION_TYPE", "")
        .env("XDG_SESSION_TYPE", "wayland")
        .run();
    survived(&o);
    assert_eq!(create_arg(&o, 3), Value::from("wayland"), "{}", o.summary());
    // Empty everywhere: the default.
    let o = base().penv("XDG_SESSION_TYPE", "").env("XDG_SESSION_TYPE", "").run();
    assert_eq!(create_arg(&o, 3), Value::from("tty"), "{}", o.summary());
}

#[test]
fn absurd_arguments_are_warned_about_or_bounded() {
    for (arg, warn) in [
        ("timeout=-1", Some("Failed to parse timeout= argument, ignoring: -1")),
        ("timeout=0", Some("Failed to parse timeout= argument, ignoring: 0")),
        ("timeout=", Some("Failed to parse timeout= argument, ignoring: ")),
        (
            "timeout=1e9999",
            Some("Failed to parse timeout= argument, ignoring: 1e9999"),
        ),
        ("timeout=99999999999", None),
        ("timeout=18446744073709551614us", None),
        ("timeout=584554y", None),
        ("timeout=infinity", None),
        ("debug=maybe", Some("Failed to parse debug= argument, ignoring: maybe")),
        ("class=", None),
        ("", Some("Unknown parameter '', ignoring")),
    ] {
        let o = base().args(&["debug", arg]).run();
        survived(&o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{arg}\n{s}");
        if let Some(w) = warn {
            assert!(o.logged(LOG_WARNING, w), "{arg}: expected {w:?}\n{s}");
        }
        assert!(uid1(&o).is_some(), "{s}");
    }
}
