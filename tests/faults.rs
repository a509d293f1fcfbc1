//! Fault injection (issue 5.1): the ways the bus, logind or the process environment can fail
//! during open or close where our module does something the C module 252 does not: `timeout=`
//! deadlines, the detail our error lines carry, no thread left behind when fds run out. Each case
//! asserts
//! * the documented PAM code (behaviour.md, "Return codes"),
//! * a syslog line naming the cause, with our prefix `pam_systemd_rs(<service>:session): `,
//! * that the client survived: it exited normally, printed every step, and is back to (or
//!   stayed at) exactly one thread.
//!
//! These run against our module only. Faults where v252 answers the same way (no bus socket,
//! logind leaving the bus or not on it, a reply of the wrong signature, a failing release, an
//! unknown user, no seats) are rows of the differential table (`differential.rs`), which also
//! checks that each of our lines there carries our prefix.

mod common;

use common::checks::{no_session_env, survived};
use common::*;
use std::time::Duration;

const PREFIX: &str = "pam_systemd_rs(pamtest:session): ";

/// Our module (these tests are about its own behaviour, so never the C one).
fn rs() -> Module {
    Module::rs_built()
}

fn base() -> Case {
    Case::new(&rs()).item("tty", "pts/2")
}

/// How long the module may take to tear the connection down after a deadline has passed
/// (`TEARDOWN_LIMIT` in src/logind/dbus.rs).
const TEARDOWN_LIMIT_MS: u64 = 250;
/// Scheduling slack for a shared, loaded 2-core machine.
const SLACK_MS: u64 = 1250;

/// When a hook with `timeout=` of `timeout_ms` that hits its deadline may return: never before
/// the deadline (the lower bound is strict), at most teardown plus slack after it.
fn deadline_window(timeout_ms: u64) -> std::ops::RangeInclusive<u64> {
    timeout_ms..=timeout_ms + TEARDOWN_LIMIT_MS + SLACK_MS
}

/// The hook (open or close, which took `ms`) ended at its `timeout=` deadline of `timeout_ms`.
fn ended_at_deadline(o: &Outcome, hook: &str, ms: Option<u64>, timeout_ms: u64) {
    let ms = ms.unwrap_or_else(|| panic!("no {hook} time\n{}", o.summary()));
    assert!(
        deadline_window(timeout_ms).contains(&ms),
        "{hook} took {ms} ms\n{}",
        o.summary()
    );
}

/// A module line at `severity` whose text contains `needle`, carrying our full prefix.
fn logged_with_prefix(o: &Outcome, severity: u32, needle: &str) {
    let hit = o
        .syslog
        .iter()
        .find(|l| l.is_module() && l.severity() == severity && l.text.contains(needle));
    match hit {
        Some(l) => assert!(
            l.raw.contains(PREFIX),
            "line without our prefix: {}\n{}",
            l.raw,
            o.summary()
        ),
        None => panic!(
            "no module line at severity {severity} containing {needle:?}\n{}",
            o.summary()
        ),
    }
}

/// The first module line whose text starts with `start`.
fn line_starting(o: &Outcome, start: &str) -> String {
    o.module_log()
        .into_iter()
        .find(|(_, t)| t.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?}\n{}", o.summary()))
        .1
}

#[test]
fn no_bus_socket_at_given_address() {
    let o = base()
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to connect to system bus: No such file or directory",
    );
    // As pam_syslog: authpriv.err (<83>).
    let line = o
        .syslog
        .iter()
        .find(|l| l.is_module() && l.text.starts_with("Failed to connect to system bus: "))
        .expect(&s);
    assert_eq!(line.pri, 83, "{s}");
    // Ours names the address it tried and how long it took.
    let text = line_starting(&o, "Failed to connect to system bus: ");
    assert!(
        text.contains("unix:path=/nonexistent/bus") && text.ends_with(" ms)"),
        "{text:?}\n{s}"
    );
    no_session_env(&o);
}

/// Our error lines say what failed, where, the D-Bus error name and how long it took.
#[test]
fn create_error_line_names_the_cause() {
    let o = base()
        .fake_conf("create_error", "org.freedesktop.DBus.Error.InvalidArgs")
        .fake_conf("create_error_msg", "Invalid session class foo")
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: Invalid session class foo");
    let line = line_starting(&o, "Failed to create session: ");
    for part in [
        "Invalid session class foo",
        "org.freedesktop.DBus.Error.InvalidArgs",
        " ms",
        "org.freedesktop.login1 at unix:path=/run/dbus/system_bus_socket",
    ] {
        assert!(line.contains(part), "{part:?} missing in {line:?}\n{s}");
    }
    no_session_env(&o);
}

// A mute or half-open bus: as with sd-bus, connect() succeeding is the connection step, and
// the authentication handshake belongs to the call, so these fail the call: PAM_SESSION_ERR,
// "Failed to create session: ..." (v252 gets the same from sd_bus_call on such a socket).

/// A bus socket that accepts and never answers: `timeout=1` ends the hook in time.
#[test]
fn mute_bus_times_out_as_session_err() {
    let o = base().args(&["timeout=1"]).bus(Bus::Mute).run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    ended_at_deadline(&o, "open", o.open_ms, 1000);
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to create session: Connection timed out"),
        "{s}"
    );
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: Connection timed out");
    logged_with_prefix(&o, LOG_ERR, "org.freedesktop.DBus.Error.Timeout after ");
    logged_with_prefix(&o, LOG_ERR, "mute.sock");
    no_session_env(&o);
}

/// A bus that accepts the socket and then hangs up during authentication: as with sd-bus (which
/// authenticates lazily, inside the call), the call fails: PAM_SESSION_ERR, promptly.
#[test]
fn half_bus_is_session_err() {
    let o = base().args(&["timeout=1"]).bus(Bus::HalfBus).run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    assert!(o.open_ms.unwrap_or(u64::MAX) < 1500, "{s}");
    assert!(
        o.logged_detailed(LOG_ERR, "Failed to create session: Transport endpoint is not connected"),
        "{s}"
    );
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: ");
    logged_with_prefix(&o, LOG_ERR, "handshake failed");
    no_session_env(&o);
}

#[test]
fn logind_never_replies_is_session_err_within_deadline() {
    let o = base()
        .args(&["timeout=1"])
        .fake_conf("create_mode", "never-reply")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    ended_at_deadline(&o, "open", o.open_ms, 1000);
    assert_eq!(o.creates().len(), 1, "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: ");
    logged_with_prefix(&o, LOG_ERR, "timed out");
    no_session_env(&o);
}

#[test]
fn release_never_replies_is_bounded() {
    let o = base()
        .args(&["timeout=1"])
        .fake_conf("release_mode", "never-reply")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{}", o.summary());
    assert_eq!(o.close_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    ended_at_deadline(&o, "close", o.close_ms, 1000);
    logged_with_prefix(&o, LOG_ERR, "Failed to release session: ");
}

/// Runs a case with `ulimit -n N` applied to the client (the setup runs in the shell that
/// starts it).
fn emfile_case(n: u32) -> Outcome {
    base().setup(&format!("ulimit -n {n}")).run()
}

#[test]
fn emfile_during_open() {
    // Find limits at which the client still starts (it needs a few fds for libpam itself) but
    // the module runs out: then open must fail with a documented code and a line, no crash.
    // Each limit is a separate run; the interesting ones are the lowest few.
    let mut seen_failure = false;
    for n in [6u32, 7, 8, 9, 10, 12] {
        let o = emfile_case(n);
        let s = o.summary();
        eprintln!("ulimit -n {n}: open_rc={:?} log={:?}", o.open_rc, o.module_log());
        if o.open_rc.is_none() {
            // libpam itself could not start (confdir/module loading needs fds): not our case.
            continue;
        }
        // The module must not return while a thread of its own still runs, however the call
        // failed (a process that forks right after open must not fork in the middle of it).
        assert_eq!(
            o.threads,
            Some(1),
            "ulimit {n}: a thread outlived pam_open_session (fds then: {:?})\n{s}",
            o.fds
        );
        survived(&o);
        match o.open_rc {
            Some(PAM_SUCCESS) => {
                assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "ulimit {n}\n{s}");
            }
            Some(PAM_SERVICE_ERR) => {
                seen_failure = true;
                // The connection could not get its socket; or, once connected, pidfd_open()
                // could not (257's rule: "Failed to create bus message"); or logind answered
                // and its session fd arrived, but no fd was left for the module's duplicate
                // (C's "Failed to dup session fd").
                let connected = o.module_log().iter().any(|(_, t)| t.starts_with("Asking logind"));
                let answered = o
                    .creates()
                    .iter()
                    .any(|c| c.get("reply").and_then(|r| r.get("fd")).is_some());
                let line = if answered {
                    "Failed to dup session fd: Too many open files"
                } else if connected {
                    "Failed to create bus message: Too many open files"
                } else {
                    "Failed to connect to system bus: Too many open files"
                };
                logged_with_prefix(&o, LOG_ERR, line);
                no_session_env(&o);
            }
            Some(PAM_SESSION_ERR) => {
                // Connected, but the reply (or its fd) could not be received: logind may have
                // created the session, but the fd it sent was discarded by the kernel, so
                // logind sees the FIFO closed and ends it. A line names the call.
                seen_failure = true;
                logged_with_prefix(&o, LOG_ERR, "Failed to create session: ");
                no_session_env(&o);
            }
            other => panic!("ulimit {n}: undocumented code {other:?}\n{s}"),
        }
    }
    assert!(seen_failure, "no limit made open fail: widen the range");
}

#[test]
fn every_fault_is_bounded_in_time() {
    // The default deadline is 120 s; with timeout=1 no fault above may hold open much longer
    // than 1 s. Run the two slow ones back to back once more with timeout=500ms.
    for (bus, conf) in [(Bus::Mute, None), (Bus::Default, Some(("create_mode", "never-reply")))] {
        let mut c = base()
            .args(&["timeout=500ms"])
            .bus(bus)
            .timeout(Duration::from_secs(30));
        if let Some((k, v)) = conf {
            c = c.fake_conf(k, v);
        }
        let o = c.run();
        survived(&o);
        ended_at_deadline(&o, "open", o.open_ms, 500);
        assert!(
            matches!(o.open_rc, Some(PAM_SERVICE_ERR) | Some(PAM_SESSION_ERR)),
            "{}",
            o.summary()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Faults where a real logind matters (real systemd as PID 1: 252 and 257)
// ---------------------------------------------------------------------------------------------

/// logind is restarted by PID 1 while the session is open: the new logind restores the session
/// from /run/systemd/sessions, and our close releases it like any other (no error, no thread).
fn logind_restarted_during_session(world: World) {
    let o = base()
        .world(world)
        .after_open(
            "p0=$(systemctl show -p MainPID --value systemd-logind.service); \
             systemctl restart systemd-logind.service; \
             for i in $(seq 100); do busctl --system status org.freedesktop.login1 >/dev/null 2>&1 && break; sleep 0.1; done; \
             p1=$(systemctl show -p MainPID --value systemd-logind.service); \
             echo \"restarted=$([ \"$p0\" != \"$p1\" ] && echo yes || echo no) $(loginctl list-sessions --no-legend | grep -c pts/2)\"",
        )
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    assert!(o.env_get("XDG_SESSION_ID").is_some_and(|v| !v.is_empty()), "{s}");
    assert!(
        o.stdout.lines().any(|l| l == "restarted=yes 1"),
        "logind did not come back with the session\n{s}"
    );
    assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
    // Our lines only: the world's own user@.service stack (C module) logs too.
    let ours = o
        .syslog
        .iter()
        .filter(|l| l.is_module() && l.ident.starts_with("pamclient"));
    assert!(ours.map(|l| l.severity()).all(|sev| sev > LOG_WARNING), "{s}");
}

/// logind is stopped before the login: the bus activates it through PID 1
/// (dbus-org.freedesktop.login1.service), and the login succeeds within the module's deadline.
fn logind_stopped_is_bus_activated(world: World) {
    let o = base()
        .world(world)
        .setup("systemctl stop systemd-logind.service; echo \"before=$(systemctl is-active systemd-logind.service)\" >>\"$S/setup.out\"")
        .after_open("echo \"after=$(systemctl is-active systemd-logind.service)\"; cat \"$TESTBED_STATE/setup.out\"")
        .run();
    survived(&o);
    let s = o.summary();
    assert!(
        o.stdout.lines().any(|l| l == "before=inactive"),
        "logind was not stopped\n{s}"
    );
    assert!(
        o.stdout.lines().any(|l| l == "after=active"),
        "logind was not activated\n{s}"
    );
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    assert!(o.env_get("XDG_SESSION_ID").is_some_and(|v| !v.is_empty()), "{s}");
    assert!(o.open_ms.is_some_and(|ms| ms < 25_000), "{s}");
    assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
}

#[test]
fn d12_logind_restarted_during_session() {
    logind_restarted_during_session(World::Debian12);
}

#[test]
fn d13_logind_restarted_during_session() {
    logind_restarted_during_session(World::Debian13);
}

#[test]
fn d12_logind_stopped_is_bus_activated() {
    logind_stopped_is_bus_activated(World::Debian12);
}

#[test]
fn d13_logind_stopped_is_bus_activated() {
    logind_stopped_is_bus_activated(World::Debian13);
}

/// Setup: a PID 1 that hangs (`bus-black-hole` owns `org.freedesktop.systemd1` and never answers),
/// and logind refusing the session with the seed's destructive-transaction error, so that the
/// module asks PID 1 why.
fn hung_pid1(timeout_arg: &str) -> Outcome {
    let hole = testkit_bin("bus-black-hole");
    Case::new(&rs())
        .item("tty", "pts/2")
        .args(&["debug", timeout_arg])
        .fake_conf("create_error", "org.freedesktop.systemd1.TransactionIsDestructive")
        .fake_conf(
            "create_error_msg",
            "Transaction for session-c1.scope/start is destructive (user-59001.slice has 'stop' job queued, but 'start' is included in transaction).",
        )
        .setup(&format!(
            "'{}' org.freedesktop.systemd1 >\"$S/hole.out\" 2>\"$S/hole.err\" &\n\
             for i in $(seq 100); do grep -q ready \"$S/hole.out\" && break; sleep 0.05; done",
            hole.display()
        ))
        .after_open("echo \"hole_calls=$(grep -c '^call ' \"$TESTBED_STATE/hole.err\")\"")
        .run()
}

#[test]
fn hung_pid1_bounds_the_inquiry_of_a_failed_login() {
    // The inquiry into a failed login may take 1.5 s at most, whatever timeout= leaves.
    let o = hung_pid1("timeout=20");
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    let ms = o.open_ms.expect("open_ms");
    assert!(
        (1500..=1500 + TEARDOWN_LIMIT_MS + SLACK_MS).contains(&ms),
        "open took {ms} ms\n{s}"
    );
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to create session: Transaction for session-c1.scope/start is destructive",
    );
    logged_with_prefix(&o, LOG_DEBUG, "Could not ask systemd why: no answer in time");
    assert!(
        o.stdout
            .lines()
            .any(|l| l.strip_prefix("hole_calls=").is_some_and(|n| n != "0")),
        "PID 1 was never asked\n{s}"
    );
    no_session_env(&o);
}

#[test]
fn hung_pid1_inquiry_stays_inside_the_deadline() {
    // With timeout=1 the inquiry ends before the login's deadline (less a margin).
    let o = hung_pid1("timeout=1");
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
    let ms = o.open_ms.expect("open_ms");
    assert!(
        deadline_window(900).contains(&ms) && ms < 1000 + TEARDOWN_LIMIT_MS + SLACK_MS,
        "open took {ms} ms\n{s}"
    );
    logged_with_prefix(&o, LOG_DEBUG, "Could not ask systemd why: no answer in time");
    no_session_env(&o);
}

// ---------------------------------------------------------------------------------------------
// Varlink (io.systemd.Login, logind ≥ 258): the fake's Varlink face (`varlink=1`)
// ---------------------------------------------------------------------------------------------

/// A Varlink fault after the connect: no D-Bus fallback (as C 262), PAM_SERVICE_ERR, C 262's
/// line with our details (the socket, what failed, the time), within `timeout=`, and the client
/// left as it was (one thread, no session).
fn varlink_fault(conf: &[(&str, &str)], line: &str, detail: &str, at_deadline: bool) {
    let mut c = base().args(&["timeout=1"]).fake_conf("varlink", "1");
    for (k, v) in conf {
        c = c.fake_conf(k, v);
    }
    let o = c.run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{conf:?}\n{s}");
    logged_with_prefix(&o, LOG_ERR, line);
    let text = line_starting(&o, line);
    for part in ["socket /run/systemd/io.systemd.Login", detail, " ms)"] {
        assert!(text.contains(part), "{part:?} missing in {text:?}\n{s}");
    }
    if at_deadline {
        ended_at_deadline(&o, "open", o.open_ms, 1000);
    } else {
        assert!(o.open_ms.unwrap_or(u64::MAX) < 1000, "{s}");
    }
    assert!(o.all_creates().is_empty(), "no D-Bus call after a Varlink connect\n{s}");
    no_session_env(&o);
}

#[test]
fn varlink_mute_ends_at_deadline() {
    varlink_fault(
        &[("varlink_mode", "mute")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: Timer expired",
        "no reply before the deadline",
        true,
    );
}

#[test]
fn varlink_reply_without_nul_ends_at_deadline() {
    varlink_fault(
        &[("varlink_mode", "no-nul")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: Timer expired",
        "no reply before the deadline",
        true,
    );
}

#[test]
fn varlink_garbage_reply() {
    varlink_fault(
        &[("varlink_mode", "garbage")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: Invalid argument",
        "reply is not a JSON object",
        false,
    );
}

#[test]
fn varlink_truncated_reply() {
    varlink_fault(
        &[("varlink_mode", "truncated")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: Connection reset by peer",
        "peer closed the connection",
        false,
    );
}

#[test]
fn varlink_huge_reply() {
    varlink_fault(
        &[("varlink_mode", "huge")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: No buffer space available",
        "reply longer than",
        false,
    );
}

#[test]
fn varlink_logind_dies_mid_call() {
    varlink_fault(
        &[("varlink_mode", "exit")],
        "Failed to issue io.systemd.Login.CreateSession varlink call: Connection reset by peer",
        "peer closed the connection",
        false,
    );
}

/// Every error name logind 262 documents for CreateSession (and the library's for a socket
/// without the method): C 262's line naming it, PAM_SERVICE_ERR.
#[test]
fn varlink_error_replies() {
    for name in [
        "org.varlink.service.InvalidParameter",
        "org.varlink.service.PermissionDenied",
        "org.varlink.service.MethodNotFound",
        "io.systemd.Login.NoSuchSeat",
        "io.systemd.Login.NoSessionPIDFD",
        "io.systemd.Login.VirtualTerminalAlreadyTaken",
        "io.systemd.Login.TooManySessions",
        "io.systemd.Login.UnitAllocationFailed",
        "io.systemd.System",
    ] {
        varlink_fault(
            &[("varlink_error", name)],
            &format!("Varlink call io.systemd.Login.CreateSession failed: {name}"),
            &format!("error {name}"),
            false,
        );
    }
}

/// ReleaseSession refused over Varlink: C 262's line, PAM_SERVICE_ERR, no D-Bus fallback.
#[test]
fn varlink_release_refused() {
    let o = base()
        .args(&["timeout=1"])
        .fake_conf("varlink", "1")
        .fake_conf("varlink_release_error", "io.systemd.Login.NoSuchSession")
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!(
        (o.open_rc, o.close_rc),
        (Some(PAM_SUCCESS), Some(PAM_SERVICE_ERR)),
        "{s}"
    );
    let line = "Varlink call io.systemd.Login.ReleaseSession failed: io.systemd.Login.NoSuchSession";
    logged_with_prefix(&o, LOG_ERR, line);
    assert!(
        line_starting(&o, line).contains("socket /run/systemd/io.systemd.Login"),
        "{s}"
    );
    assert!(
        o.records
            .iter()
            .all(|r| r.get("method").and_then(|m| m.as_str()) != Some("ReleaseSession")),
        "no D-Bus ReleaseSession\n{s}"
    );
}

/// A stale Varlink socket (the file is there, nobody listens: connect refused): as C 262, that
/// is a connect failure, so D-Bus, and the login works there.
#[test]
fn varlink_socket_refusing_falls_back_to_dbus() {
    let o = base()
        .args(&["timeout=1"])
        .fake_conf("varlink", "1")
        .fake_conf("varlink_mode", "stale")
        .run();
    survived(&o);
    let s = o.summary();
    assert_eq!((o.open_rc, o.close_rc), (Some(PAM_SUCCESS), Some(PAM_SUCCESS)), "{s}");
    assert_eq!(o.creates().len(), 1, "{s}");
    assert!(o.records.iter().all(|r| r.get("varlink").is_none()), "{s}");
    assert!(o.env.iter().any(|(k, _)| k == "XDG_SESSION_ID"), "{s}");
}
