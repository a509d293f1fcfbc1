//! The doctor's pure parts, table-tested: the journal readings and the logind.conf findings.

use super::bus::Live;
use super::journal::{last_start_was_refused, refusal_lines, refusal_trigger};
use super::logind_conf::conf_findings;
use crate::conf;
use crate::report::Level;
use pam_systemd_rs::diagnose::{self, Trigger};

fn live(max: u64, now: u64, delay: u64) -> Live {
    Live {
        stop_delay_usec: Some(delay),
        kill_user_processes: Some(false),
        sessions_max: Some(max),
        sessions: Some(now),
    }
}

#[test]
fn refused_start_in_the_journal() {
    let log = "Starting user@0.service - User Manager for UID 0...\n\
               user@0.service: Main process exited, code=exited, status=1/FAILURE\n\
               user@0.service: Failed with result 'exit-code'.\n\
               user@0.service: Start request repeated too quickly.\n\
               user@0.service: Failed with result 'exit-code'.\n";
    assert!(last_start_was_refused(log));
    let later = format!("{log}Starting user@0.service - User Manager for UID 0...\n");
    assert!(!last_start_was_refused(&later));
    assert!(!last_start_was_refused(""));
}

#[test]
fn logind_refusals() {
    let log = "New session c1 of user root.\n\
               Failed to start session scope session-c2.scope: Transaction for session-c2.scope/start is destructive (user-0.slice has 'stop' job queued, but 'start' is included in transaction).\n\
               Removed session c1.\n";
    let r = refusal_lines(log);
    assert_eq!(r.len(), 1);
    let reason = r[0].split_once(": ").unwrap().1;
    assert_eq!(diagnose::trigger_of_error(None, reason), Some(Trigger::Destructive));
    assert!(refusal_lines("New session c1 of user root.\n").is_empty());
    assert_eq!(refusal_trigger(reason), Some(Trigger::Destructive));
    // logind 262, a session asked over Varlink: the errno's text only.
    let log = "Failed to start session scope session-c3.scope: Resource deadlock avoided\n";
    let r = refusal_lines(log);
    assert_eq!(r.len(), 1);
    let reason = r[0].split_once(": ").unwrap().1;
    assert_eq!(refusal_trigger(reason), Some(Trigger::Destructive));
    assert_eq!(refusal_trigger("Permission denied"), None);
}

#[test]
fn sessions_max_reached_is_a_problem() {
    let c = conf::LogindConf::default();
    let f = conf_findings(&c, Some(&live(2, 2, 10_000_000)));
    let p: Vec<_> = f.iter().filter(|x| x.level == Level::Problem).collect();
    assert_eq!(p.len(), 1, "{f:?}");
    assert!(p[0].text.starts_with("SessionsMax=2 reached: 2 sessions now"), "{f:?}");
    let f = conf_findings(&c, Some(&live(10, 9, 10_000_000)));
    assert!(
        f.iter()
            .any(|x| x.level == Level::Warn && x.text.contains("close to SessionsMax=10"))
    );
    let f = conf_findings(&c, Some(&live(8192, 3, 10_000_000)));
    assert!(f.iter().all(|x| x.level == Level::Ok), "{f:?}");
}

#[test]
fn zero_stop_delay_from_a_dropin_is_named_with_its_file() {
    let mut c = conf::LogindConf::default();
    conf::parse_into(
        &mut c,
        "[Login]\nUserStopDelaySec=0\n",
        "/etc/systemd/logind.conf.d/x.conf",
    );
    let f = conf_findings(&c, None);
    assert_eq!(f[0].level, Level::Warn);
    assert!(
        f[0].text
            .starts_with("UserStopDelaySec=0 (UserStopDelaySec=0 in /etc/systemd/logind.conf.d/x.conf:2)"),
        "{f:?}"
    );
    // logind's live value wins over the files.
    let f = conf_findings(&c, Some(&live(8192, 1, 300_000_000)));
    assert_eq!(f[0].level, Level::Ok);
    assert!(f[0].text.starts_with("UserStopDelaySec=5min"), "{f:?}");
}

#[test]
fn elogind_has_no_stop_delay_warning() {
    let mut c = conf::LogindConf {
        elogind: true,
        ..conf::LogindConf::default()
    };
    conf::parse_into(&mut c, "[Login]\nUserStopDelaySec=0\n", "/etc/elogind/logind.conf");
    for live in [None, Some(live(8192, 1, 0))] {
        let f = conf_findings(&c, live.as_ref());
        assert_eq!(f[0].level, Level::Info, "{f:?}");
        assert!(f[0].text.starts_with("UserStopDelaySec= not checked: elogind"), "{f:?}");
        assert!(f.iter().all(|x| x.level != Level::Warn), "{f:?}");
    }
}

#[test]
fn logind_varlink_socket_findings() {
    use super::varlink::{Asked, finding};
    let s = "/run/systemd/io.systemd.Login";
    let info = |interfaces: &[&str]| Asked::Info {
        product: "systemd (systemd-logind)".into(),
        version: "262 (262-1)".into(),
        interfaces: interfaces.iter().map(|i| i.to_string()).collect(),
        millis: 2,
    };
    let f = finding(s, info(&["io.systemd", "io.systemd.Login", "org.varlink.service"]));
    assert_eq!(f.level, Level::Ok, "{f:?}");
    assert!(
        f.text.starts_with(
            "logind answers on Varlink at /run/systemd/io.systemd.Login (systemd (systemd-logind) 262 (262-1), 2 ms, io.systemd.Login)"
        ),
        "{f:?}"
    );
    let f = finding(s, info(&["io.systemd.Shutdown"]));
    assert_eq!(f.level, Level::Problem, "{f:?}");
    assert!(
        f.text
            .contains("does not offer io.systemd.Login (only io.systemd.Shutdown)"),
        "{f:?}"
    );
    let f = finding(s, Asked::NoSocket);
    assert_eq!(f.level, Level::Info, "{f:?}");
    assert!(f.text.contains("registers sessions over D-Bus only"), "{f:?}");
    assert_eq!(finding(s, Asked::LogindDown).level, Level::Info);
    // A failed connect: the module falls back to D-Bus; a connection that gives no answer: it
    // does not, so logins fail.
    let f = finding(s, Asked::ConnectFailed("Connection refused".into()));
    assert_eq!(f.level, Level::Warn, "{f:?}");
    assert!(f.text.contains("falls back to D-Bus"), "{f:?}");
    let f = finding(s, Asked::Failed("no reply before the deadline".into()));
    assert_eq!(f.level, Level::Problem, "{f:?}");
    assert!(f.text.contains("does not fall back to D-Bus"), "{f:?}");
    assert!(f.fix.is_some());
}

#[test]
fn logind_varlink_socket_asked_for_real() {
    use super::varlink::{Asked, ask};
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    let dir = std::env::temp_dir().join(format!("doctor-varlink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("io.systemd.Login");
    let p = path.to_str().unwrap().to_owned();
    assert_eq!(ask(&p, true), Asked::NoSocket);
    let listener = UnixListener::bind(&path).unwrap();
    assert_eq!(ask(&p, false), Asked::LogindDown);
    // A service answering GetInfo as logind 262 does.
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 512];
        while !got.contains(&0) {
            let n = c.read(&mut b).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&b[..n]);
        }
        c.write_all(b"{\"parameters\":{\"vendor\":\"The systemd Project\",\"product\":\"systemd (systemd-logind)\",\"version\":\"262 (262-1)\",\"url\":\"https://systemd.io/\",\"interfaces\":[\"io.systemd\",\"io.systemd.Login\",\"io.systemd.Shutdown\",\"io.systemd.service\",\"org.varlink.service\"]}}\0").unwrap();
        (got, listener)
    });
    let asked = ask(&p, true);
    let (got, listener) = server.join().unwrap();
    assert_eq!(got, b"{\"method\":\"org.varlink.service.GetInfo\"}\0");
    match asked {
        Asked::Info {
            product,
            version,
            interfaces,
            ..
        } => {
            assert_eq!(product, "systemd (systemd-logind)");
            assert_eq!(version, "262 (262-1)");
            assert!(interfaces.iter().any(|i| i == "io.systemd.Login"), "{interfaces:?}");
        }
        other => panic!("{other:?}"),
    }
    // Accepts, then closes without a word: no fallback for the module, a problem.
    let server = std::thread::spawn(move || {
        let (c, _) = listener.accept().unwrap();
        drop(c);
        listener
    });
    let asked = ask(&p, true);
    let listener = server.join().unwrap();
    assert!(matches!(asked, Asked::Failed(_)), "{asked:?}");
    // Nobody listening: the connect fails (ECONNREFUSED), the module falls back.
    drop(listener);
    assert!(matches!(ask(&p, true), Asked::ConnectFailed(_)), "{:?}", ask(&p, true));
    let _ = std::fs::remove_dir_all(&dir);
}
