use super::*;

fn unit(name: &str, state: &str, result: &str) -> Unit {
    Unit {
        name: name.to_owned(),
        loaded: true,
        active_state: state.to_owned(),
        result: result.to_owned(),
        start_limit_burst: 5,
        start_limit_interval_usec: 10_000_000,
        n_restarts: Some(0),
        start_limit_logged: false,
    }
}

fn facts(rd: Unit, mgr: Unit, user: Option<(&str, bool)>, trigger: Trigger) -> Facts {
    Facts {
        user: "root".into(),
        uid: 0,
        runtime_dir_unit: rd,
        manager_unit: mgr,
        logind_user: user.map(|(state, linger)| LogindUser {
            state: state.into(),
            linger,
        }),
        trigger,
    }
}

const RD: &str = "user-runtime-dir@0.service";
const MGR: &str = "user@0.service";

#[test]
fn seed_on_252_names_user_runtime_dir_and_the_fixes() {
    // What PID 1 and logind said after the seed's 6th login on systemd 252 (testbed notes).
    let f = facts(
        unit(RD, "failed", "start-limit-hit"),
        unit(MGR, "failed", "exit-code"),
        Some(("active", false)),
        Trigger::RuntimeDir,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!(c.kind, "start-limit-hit");
    assert_eq!(c.unit.as_deref(), Some(RD));
    assert_eq!(
        c.line(),
        "user-runtime-dir@0.service failed with 'start-limit-hit' (more than 5 starts within 10s: \
         logins of root came and went faster than that), so root gets no /run/user/0 and no user \
         manager; `systemctl reset-failed user-runtime-dir@0.service user@0.service` clears it now; \
         `loginctl enable-linger root` (or a longer UserStopDelaySec= in logind.conf, or ssh \
         connection sharing) prevents it"
    );
}

#[test]
fn seed_on_257_job_failed_user_unknown_to_logind() {
    let f = facts(
        unit(RD, "failed", "start-limit-hit"),
        Unit::not_loaded(MGR.into()),
        None,
        Trigger::JobFailed,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!(c.unit.as_deref(), Some(RD));
    assert!(c.what.contains("more than 5 starts within 10s"), "{c:?}");
}

#[test]
fn user_manager_start_limit_on_257_default_delay() {
    let f = facts(
        unit(RD, "active", "success"),
        unit(MGR, "failed", "start-limit-hit"),
        Some(("active", false)),
        Trigger::Doctor,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!(c.unit.as_deref(), Some(MGR));
    assert!(
        c.what.starts_with("user@0.service failed with 'start-limit-hit'"),
        "{c:?}"
    );
    assert!(c.what.ends_with("so root gets no user manager"), "{c:?}");
    assert!(
        c.fix
            .contains("systemctl reset-failed user-runtime-dir@0.service user@0.service")
    );
}

#[test]
fn runtime_dir_limit_wins_over_manager_limit() {
    let f = facts(
        unit(RD, "failed", "start-limit-hit"),
        unit(MGR, "failed", "start-limit-hit"),
        Some(("active", false)),
        Trigger::RuntimeDir,
    );
    assert_eq!(explain(&f).and_then(|c| c.unit), Some(RD.to_owned()));
}

#[test]
fn start_limit_beats_other_failures_of_the_other_unit() {
    let f = facts(
        unit(RD, "failed", "exit-code"),
        unit(MGR, "failed", "start-limit-hit"),
        Some(("active", false)),
        Trigger::Doctor,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!((c.kind, c.unit.as_deref()), ("start-limit-hit", Some(MGR)));
}

#[test]
fn other_failure_names_result_and_journal() {
    let f = facts(
        unit(RD, "active", "success"),
        unit(MGR, "failed", "exit-code"),
        Some(("active", false)),
        Trigger::Doctor,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!(c.kind, "unit-failed");
    assert_eq!(
        c.line(),
        "user@0.service failed with 'exit-code', so root gets no user manager; see `journalctl -b -u \
         user@0.service` for why, then `systemctl reset-failed user-runtime-dir@0.service user@0.service`"
    );
}

#[test]
fn lingering_user_gets_other_prevention() {
    let f = facts(
        unit(RD, "failed", "start-limit-hit"),
        unit(MGR, "inactive", "success"),
        Some(("lingering", true)),
        Trigger::RuntimeDir,
    );
    let c = explain(&f).expect("a cause");
    assert!(!c.fix.contains("enable-linger"), "{c:?}");
    assert!(c.fix.contains("root already lingers"), "{c:?}");
    assert!(c.fix.contains("StartLimitIntervalSec=0"), "{c:?}");
}

#[test]
fn destructive_transaction_names_the_stopping_user() {
    let f = facts(
        unit(RD, "deactivating", "success"),
        unit(MGR, "inactive", "success"),
        Some(("closing", false)),
        Trigger::Destructive,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!(c.kind, "user-stopping");
    assert_eq!(c.unit.as_deref(), Some("user-0.slice"));
    assert!(
        c.what
            .contains("while user root was being stopped (logind: State=closing;"),
        "{c:?}"
    );
    assert!(c.fix.contains("loginctl enable-linger root"), "{c:?}");
    // The user already gone from logind reads as such.
    let gone = facts(
        Unit::not_loaded(RD.into()),
        Unit::not_loaded(MGR.into()),
        None,
        Trigger::Destructive,
    );
    assert!(explain(&gone).expect("a cause").what.contains("(logind: gone;"));
}

#[test]
fn nothing_to_say_for_healthy_or_unknown_units() {
    let healthy = [
        facts(
            unit(RD, "active", "success"),
            unit(MGR, "active", "success"),
            Some(("active", false)),
            Trigger::RuntimeDir,
        ),
        facts(
            Unit::not_loaded(RD.into()),
            Unit::not_loaded(MGR.into()),
            None,
            Trigger::JobFailed,
        ),
        facts(
            unit(RD, "active", "success"),
            unit(MGR, "active", "success"),
            Some(("lingering", true)),
            Trigger::Doctor,
        ),
        // A closing user is normal for the doctor (a logout in progress), not a cause.
        facts(
            unit(RD, "active", "success"),
            unit(MGR, "deactivating", "success"),
            Some(("closing", false)),
            Trigger::Doctor,
        ),
        // A Result left over from an earlier run of an inactive unit is no failure.
        facts(
            unit(RD, "inactive", "start-limit-hit"),
            unit(MGR, "inactive", "exit-code"),
            None,
            Trigger::RuntimeDir,
        ),
    ];
    for f in healthy {
        assert_eq!(explain(&f), None, "{f:?}");
    }
}

#[test]
fn limits_other_than_the_default_are_shown() {
    let mut rd = unit(RD, "failed", "start-limit-hit");
    rd.start_limit_burst = 3;
    rd.start_limit_interval_usec = 90_000_000;
    rd.n_restarts = Some(2);
    let f = facts(rd, unit(MGR, "inactive", "success"), None, Trigger::RuntimeDir);
    let c = explain(&f).expect("a cause");
    assert!(c.what.contains("(more than 3 starts within 1min 30s:"), "{c:?}");
    assert!(c.what.contains("(NRestarts=2)"), "{c:?}");
    let mut rd = unit(RD, "failed", "start-limit-hit");
    rd.start_limit_interval_usec = 0;
    let f = facts(rd, unit(MGR, "inactive", "success"), None, Trigger::RuntimeDir);
    assert!(explain(&f).expect("cause").what.contains("(start rate limit:"));
}

#[test]
fn errors_that_trigger_the_inquiry() {
    let table: [(Option<&str>, &str, Option<Trigger>); 7] = [
        (
            Some("org.freedesktop.systemd1.JobFailed"),
            "Job 34 for unit 'session-c14.scope' failed with 'dependency'",
            Some(Trigger::JobFailed),
        ),
        (
            None,
            "Job 7 for unit 'session-3.scope' failed with 'failed'",
            Some(Trigger::JobFailed),
        ),
        (
            Some("org.freedesktop.systemd1.TransactionIsDestructive"),
            "Transaction for session-c9.scope/start is destructive (user-0.slice has 'stop' job queued, but 'start' is included in transaction).",
            Some(Trigger::Destructive),
        ),
        (
            Some("org.freedesktop.DBus.Error.Failed"),
            "Transaction for session-5.scope/start is destructive (x)",
            Some(Trigger::Destructive),
        ),
        (
            Some("org.freedesktop.login1.SessionBusy"),
            "Already running in a session or user slice",
            None,
        ),
        (
            Some("org.freedesktop.DBus.Error.NoReply"),
            "Method call timed out",
            None,
        ),
        (
            Some("org.freedesktop.DBus.Error.LimitsExceeded"),
            "Maximum number of sessions (8192) reached, refusing further sessions.",
            None,
        ),
    ];
    for (name, message, want) in table {
        assert_eq!(trigger_of_error(name, message), want, "{name:?} {message}");
        assert_eq!(trigger(Login::Failed { name, message }), want, "{name:?} {message}");
    }
}

/// logind 262 over Varlink (docs/behaviour-262.md, "The seed on 262"): the seed's failing login
/// is `io.systemd.Login.UnitAllocationFailed` (no text of its own; whatever text the transport
/// adds does not matter); a scope PID 1 refuses to start because the user's slice is being
/// stopped is `io.systemd.System` with errno EDEADLK, which the text must name.
#[test]
fn varlink_errors_that_trigger_the_inquiry() {
    let table: [(Option<&str>, &str, Option<Trigger>); 13] = [
        (
            Some("io.systemd.Login.UnitAllocationFailed"),
            "",
            Some(Trigger::JobFailed),
        ),
        (
            Some("io.systemd.Login.UnitAllocationFailed"),
            "Varlink call io.systemd.Login.CreateSession failed: io.systemd.Login.UnitAllocationFailed",
            Some(Trigger::JobFailed),
        ),
        (
            Some("io.systemd.System"),
            "Varlink call io.systemd.Login.CreateSession failed: io.systemd.System (socket /run/systemd/io.systemd.Login, error io.systemd.System (Resource deadlock avoided), after 12 ms)",
            Some(Trigger::Destructive),
        ),
        (Some("io.systemd.System"), "EDEADLK", Some(Trigger::Destructive)),
        (
            Some("io.systemd.System"),
            r#"{"origin":"linux","errno":35,"errnoName":"EDEADLK"}"#,
            Some(Trigger::Destructive),
        ),
        (Some("io.systemd.System"), "errno 35", Some(Trigger::Destructive)),
        (Some("io.systemd.System"), "errno=35", Some(Trigger::Destructive)),
        // Other errnos say nothing about the user's units.
        (Some("io.systemd.System"), "errno 351", None),
        (
            Some("io.systemd.System"),
            "Resource temporarily unavailable (EAGAIN)",
            None,
        ),
        (Some("io.systemd.System"), "EDEADLKX", None),
        (Some("io.systemd.System"), "", None),
        // Not a job failure: refused before any unit was started.
        (Some("io.systemd.Login.TooManySessions"), "", None),
        (Some("io.systemd.Login.AlreadySessionMember"), "", None),
    ];
    for (name, message, want) in table {
        assert_eq!(trigger_of_error(name, message), want, "{name:?} {message}");
        assert_eq!(trigger(Login::Failed { name, message }), want, "{name:?} {message}");
    }
    // The name alone decides only for the Login error: without a name, the text must be one of
    // logind's D-Bus wordings.
    assert_eq!(trigger_of_error(None, "io.systemd.Login.UnitAllocationFailed"), None);
    assert_eq!(trigger_of_error(None, "EDEADLK"), None);
}

/// A created session asks only when its runtime directory is not in order.
#[test]
fn runtime_dir_verdict_triggers_the_inquiry() {
    assert_eq!(
        trigger(Login::Created {
            runtime_dir_in_order: false
        }),
        Some(Trigger::RuntimeDir)
    );
    assert_eq!(
        trigger(Login::Created {
            runtime_dir_in_order: true
        }),
        None
    );
}

/// The inquiry's bound: 1.5 s from its start, and inside the login's deadline less 100 ms.
#[test]
fn inquiry_bound_table() {
    let now = std::time::Instant::now();
    let ms = |n| Duration::from_millis(n);
    let rows = [
        (None, Some(now + ms(1500))),
        (Some(now + ms(20_000)), Some(now + ms(1500))),
        (Some(now + ms(1000)), Some(now + ms(900))),
        (Some(now + ms(1600)), Some(now + ms(1500))),
        (Some(now + ms(100)), None),
        (Some(now + ms(50)), None),
        (Some(now), None),
    ];
    for (deadline, want) in rows {
        assert_eq!(inquiry_bound(now, deadline), want, "{:?}", deadline.map(|d| d - now));
    }
}

#[test]
fn timespans_as_systemd_prints_them() {
    let table = [
        (10_000_000, "10s"),
        (90_000_000, "1min 30s"),
        (500_000, "500ms"),
        (1, "1us"),
        (0, "0"),
        (u64::MAX, "infinity"),
        (3_600_000_000 + 1_000, "1h 1ms"),
    ];
    for (usec, want) in table {
        assert_eq!(format_timespan(usec), want, "{usec}");
    }
}

#[test]
fn start_limit_seen_in_the_journal_of_an_already_failed_unit() {
    // systemd 257: user@0 failing with exit-code, then "Start request repeated too quickly."
    // leaves Result=exit-code; only the journal shows the limit.
    let mut mgr = unit(MGR, "failed", "exit-code");
    mgr.start_limit_logged = true;
    let f = facts(
        unit(RD, "active", "success"),
        mgr,
        Some(("active", false)),
        Trigger::Doctor,
    );
    let c = explain(&f).expect("a cause");
    assert_eq!((c.kind, c.unit.as_deref()), ("start-limit-hit", Some(MGR)));
    assert!(
        c.what.starts_with(
            "user@0.service failed with 'exit-code' and then hit its start limit (more than 5 starts within 10s:"
        ),
        "{c:?}"
    );
    // Logged, but the unit is running again: no cause.
    let mut mgr = unit(MGR, "active", "success");
    mgr.start_limit_logged = true;
    let f = facts(
        unit(RD, "active", "success"),
        mgr,
        Some(("active", false)),
        Trigger::Doctor,
    );
    assert_eq!(explain(&f), None);
}
