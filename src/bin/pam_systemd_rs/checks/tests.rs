//! The doctor's pure parts, table-tested: the journal readings and the logind.conf findings.

use super::bus::Live;
use super::journal::{last_start_was_refused, refusal_lines};
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
