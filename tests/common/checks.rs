//! Assertions shared by the suites: `faults.rs`, `security.rs` and the expectations of the
//! differential table's rows (`differential.rs`).

use super::*;

/// The client ran to the end, single-threaded throughout, and nothing panicked.
pub fn survived(o: &Outcome) {
    let s = o.summary();
    assert_eq!(o.runner_rc, 0, "testbed failed\n{s}");
    assert_eq!(o.client_rc, Some(0), "client crashed or was killed\n{s}");
    assert!(o.end_rc.is_some(), "client never reached pam_end\n{s}");
    assert_eq!(o.threads, Some(1), "threads after open\n{s}");
    assert_eq!(o.threads_after_end, Some(1), "threads after end\n{s}");
    assert!(!o.stderr.contains("panicked"), "{s}");
}

/// The session variables (`XDG_*`, `DBUS_SESSION_BUS_ADDRESS`) in the PAM env after open.
pub fn session_vars(o: &Outcome) -> Vec<&str> {
    o.env
        .iter()
        .filter(|(k, _)| k.starts_with("XDG_") || k == "DBUS_SESSION_BUS_ADDRESS")
        .map(|(k, _)| k.as_str())
        .collect()
}

/// No session was set up: no session variable in the PAM env, no new FIFO fd.
pub fn no_session_env(o: &Outcome) {
    assert_eq!(session_vars(o), Vec::<&str>::new(), "unexpected env\n{}", o.summary());
    assert!(o.new_fifos().is_empty(), "{}", o.summary());
}

/// Every line our module logged carries `pam_systemd_rs(<service>:session): ` and the authpriv
/// facility (as `pam_syslog` logs).
pub fn our_prefix_on_every_line(o: &Outcome, service: &str) {
    let prefix = format!("pam_systemd_rs({service}:session): ");
    for l in o.syslog.iter().filter(|l| l.is_module()) {
        assert!(
            l.raw.contains(&prefix),
            "line without {prefix:?}: {}\n{}",
            l.raw,
            o.summary()
        );
        assert_eq!(l.pri >> 3, 10, "not authpriv: {}\n{}", l.raw, o.summary());
    }
}
