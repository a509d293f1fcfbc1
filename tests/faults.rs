//! Fault injection (issue 5.1): every way the bus, logind or the process environment can fail
//! during open or close. Each case asserts
//! * the documented PAM code (behaviour.md, "Return codes"),
//! * a syslog line naming the cause, with our prefix `pam_systemd_rs(<service>:session): `,
//! * that the client survived: it exited normally, printed every step, and is back to (or
//!   stayed at) exactly one thread.
//!
//! These run against our module only (the C module has no `timeout=` and another prefix).

mod common;

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
/// (`TEARDOWN_LIMIT` in src/logind.rs).
const TEARDOWN_LIMIT_MS: u64 = 250;
/// Scheduling slack for a shared, loaded 2-core machine.
const SLACK_MS: u64 = 1250;

/// When a hook with `timeout=` of `timeout_ms` that hits its deadline may return: never before
/// the deadline (the lower bound is strict), at most teardown plus slack after it.
fn deadline_window(timeout_ms: u64) -> std::ops::RangeInclusive<u64> {
    timeout_ms..=timeout_ms + TEARDOWN_LIMIT_MS + SLACK_MS
}

/// The client ran to the end, single-threaded throughout.
fn survived(o: &Outcome) {
    let s = o.summary();
    assert_eq!(o.runner_rc, 0, "testbed failed\n{s}");
    assert_eq!(o.client_rc, Some(0), "client crashed or was killed\n{s}");
    assert!(o.end_rc.is_some(), "client never reached pam_end\n{s}");
    assert_eq!(o.threads, Some(1), "threads after open\n{s}");
    assert_eq!(o.threads_after_end, Some(1), "threads after end\n{s}");
    assert!(!o.stderr.contains("panicked"), "{s}");
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

fn no_session_env(o: &Outcome) {
    let xdg: Vec<_> = o
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("XDG_") || k == "DBUS_SESSION_BUS_ADDRESS")
        .collect();
    assert!(xdg.is_empty(), "unexpected env {xdg:?}\n{}", o.summary());
    assert!(o.new_fifos().is_empty(), "{}", o.summary());
}

#[test]
fn no_bus_socket_at_default_path() {
    // The testbed's bus exists but its socket is gone: the default address fails with ENOENT.
    let o = base().setup("rm -f /run/dbus/system_bus_socket").run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to connect to system bus: No such file or directory",
    );
    no_session_env(&o);
    // Close then has no session id and makes no call. (libpam reports 6, PAM_PERM_DENIED, for
    // that close after a failed open of a `required` module, with the C module too.)
    assert_eq!(o.close_rc, Some(6), "{}", o.summary());
}

#[test]
fn no_bus_socket_at_given_address() {
    let o = base()
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to connect to system bus: No such file or directory",
    );
    no_session_env(&o);
}

#[test]
fn bus_socket_refusing_connections() {
    // A socket file with nobody listening: ECONNREFUSED.
    let o = base()
        .setup("python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' {STATE}/dead.sock")
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path={STATE}/dead.sock")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to connect to system bus: Connection refused");
}

// A mute or half-open bus: as with sd-bus, connect() succeeding is the connection step, and
// the authentication handshake belongs to the call, so these fail the call: PAM_SESSION_ERR,
// "Failed to create session: ..." (v252 gets the same from sd_bus_call on such a socket).

#[test]
fn mute_bus_times_out_as_session_err() {
    let o = base().args(&["timeout=1"]).bus(Bus::Mute).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    let ms = o.open_ms.expect("open_ms");
    assert!(
        deadline_window(1000).contains(&ms),
        "open took {ms} ms\n{}",
        o.summary()
    );
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: Connection timed out");
    logged_with_prefix(&o, LOG_ERR, "mute.sock");
    no_session_env(&o);
}

#[test]
fn half_bus_is_session_err() {
    let o = base().args(&["timeout=1"]).bus(Bus::HalfBus).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    assert!(o.open_ms.unwrap_or(u64::MAX) < 1500, "{}", o.summary());
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
    let ms = o.open_ms.expect("open_ms");
    assert!(
        deadline_window(1000).contains(&ms),
        "open took {ms} ms\n{}",
        o.summary()
    );
    assert_eq!(o.creates().len(), 1, "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: ");
    logged_with_prefix(&o, LOG_ERR, "timed out");
    no_session_env(&o);
}

#[test]
fn wrong_reply_signature_is_service_err() {
    let o = base().fake_conf("create_mode", "wrong-signature").run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to parse bus message: ");
    no_session_env(&o);
}

#[test]
fn reply_fd_that_is_not_a_fifo() {
    // The reply carries /dev/null instead of a FIFO. v252 does not check the fd type: it dups
    // whatever it got and succeeds (SECURITY.md: "With a non-FIFO fd → 0, as v252").
    let o = base().fake_conf("create_mode", "bad-fd").run();
    survived(&o);
    let s = o.summary();
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
    assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
    // The fd we keep is CLOEXEC and >= 3 (a dup of what logind sent).
    assert!(!o.fds.is_empty(), "no session fd kept\n{s}");
    assert!(o.fds.iter().all(|f| f.fd >= 3 && f.cloexec), "{s}");
}

#[test]
fn logind_dies_mid_call_is_session_err() {
    let o = base().fake_conf("create_mode", "exit").run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to create session: Message recipient disconnected from message bus without replying",
    );
    no_session_env(&o);
}

#[test]
fn logind_not_on_the_bus_is_session_err() {
    // Bus up, no logind at all: ServiceUnknown from the bus daemon.
    let o = base().logind(Logind::None).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to create session: ");
    no_session_env(&o);
}

#[test]
fn release_failure_is_session_err_on_close() {
    let o = base()
        .fake_conf("release_error", "org.freedesktop.login1.NoSuchSession")
        .fake_conf("release_error_msg", "No session 'c1' known")
        .run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{}", o.summary());
    assert_eq!(o.close_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to release session: No session 'c1' known");
    assert_eq!(o.threads_after_close, Some(1), "{}", o.summary());
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
    let ms = o.close_ms.expect("close_ms");
    assert!(
        deadline_window(1000).contains(&ms),
        "close took {ms} ms\n{}",
        o.summary()
    );
    logged_with_prefix(&o, LOG_ERR, "Failed to release session: ");
}

#[test]
fn bus_gone_before_close_is_service_err() {
    // The session was created; then the bus socket disappears before close.
    let o = base().after_open("rm -f /run/dbus/system_bus_socket").run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{}", o.summary());
    assert_eq!(o.close_rc, Some(PAM_SERVICE_ERR), "{}", o.summary());
    logged_with_prefix(
        &o,
        LOG_ERR,
        "Failed to connect to system bus: No such file or directory",
    );
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
                // The connection could not get its fds (socket, reactor eventfd); or, once
                // connected, pidfd_open() could not (257's rule: "Failed to create bus message").
                let connected = o.module_log().iter().any(|(_, t)| t.starts_with("Asking logind"));
                let line = if connected {
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
fn user_missing_from_nss_is_user_unknown() {
    let o = base().user(User::Name("nosuchuser-faults".into())).run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_USER_UNKNOWN), "{}", o.summary());
    logged_with_prefix(&o, LOG_ERR, "Failed to get user record: ");
    assert!(o.creates().is_empty(), "{}", o.summary());
    no_session_env(&o);
}

#[test]
fn no_seats_dir_is_success_without_call() {
    let o = base().no_seats().run();
    survived(&o);
    assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{}", o.summary());
    assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{}", o.summary());
    assert!(o.records.is_empty(), "no call expected\n{}", o.summary());
    no_session_env(&o);
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
        let ms = o.open_ms.expect("open_ms");
        assert!(deadline_window(500).contains(&ms), "open took {ms} ms\n{}", o.summary());
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
