//! logind.conf's settings that bear on logins (UserStopDelaySec, KillUserProcesses,
//! SessionsMax), from the files or, when logind answers, from what it runs with.

use pam_systemd_rs::diagnose;

use super::bus::Live;
use crate::conf;
use crate::report::{Finding, Level};

/// Where a setting comes from: its file and line, or logind's default.
fn source_of(conf: &conf::LogindConf, key: &str) -> String {
    conf.get(key).map_or_else(
        || "default".to_owned(),
        |s| format!("{}={} in {}", key, s.value, s.source),
    )
}

/// UserStopDelaySec: below the default 10 s, the seed's start-limit failure is near.
fn stop_delay(conf: &conf::LogindConf, live: Option<&Live>) -> Finding {
    if conf.elogind {
        return Finding::new(
            "logind.conf",
            Level::Info,
            "UserStopDelaySec= not checked: elogind starts no user units (no user-runtime-dir@ or user@), so frequent logins cannot hit their start limit".to_owned(),
        );
    }
    let delay = live
        .and_then(|l| l.stop_delay_usec)
        .or_else(|| conf.get("UserStopDelaySec").and_then(|s| conf::span_usec(&s.value)))
        .unwrap_or(10_000_000);
    let shown = diagnose::format_timespan(delay);
    let src = source_of(conf, "UserStopDelaySec");
    if delay < 10_000_000 {
        Finding::new(
            "logind.conf",
            Level::Warn,
            format!(
                "UserStopDelaySec={shown} ({src}): below the default 10s, a user's units stop as soon as the last session ends, so frequent logins restart user-runtime-dir@ and user@ and can hit their start limit"
            ),
        )
        .fix("raise UserStopDelaySec= (e.g. 5min) in /etc/systemd/logind.conf.d/, or `loginctl enable-linger USER` for users that log in often")
    } else {
        Finding::new("logind.conf", Level::Ok, format!("UserStopDelaySec={shown} ({src})"))
    }
}

/// UserStopDelaySec, KillUserProcesses, SessionsMax (against the current count).
pub fn conf_findings(conf: &conf::LogindConf, live: Option<&Live>) -> Vec<Finding> {
    let mut out = vec![stop_delay(conf, live)];
    let src = |k: &str| source_of(conf, k);
    // KillUserProcesses
    let kill = live.and_then(|l| l.kill_user_processes).or_else(|| {
        conf.get("KillUserProcesses")
            .map(|s| matches!(s.value.as_str(), "yes" | "true" | "1" | "on"))
    });
    if let Some(kill) = kill {
        out.push(Finding::new(
            "logind.conf",
            if kill { Level::Info } else { Level::Ok },
            format!(
                "KillUserProcesses={} ({}){}",
                if kill { "yes" } else { "no" },
                src("KillUserProcesses"),
                if kill {
                    ": processes left at logout are killed (tmux, nohup) unless the user lingers"
                } else {
                    ""
                }
            ),
        ));
    }
    // SessionsMax
    let max = live
        .and_then(|l| l.sessions_max)
        .or_else(|| conf.get("SessionsMax").and_then(|s| conf::sessions_max(&s.value)))
        .unwrap_or(8192);
    let now = live.and_then(|l| l.sessions);
    let max_shown = if max == u64::MAX {
        "infinity".to_owned()
    } else {
        max.to_string()
    };
    match now {
        Some(n) if n >= max => out.push(
            Finding::new(
                "logind.conf",
                Level::Problem,
                format!(
                    "SessionsMax={max_shown} reached: {n} sessions now ({}), so logind refuses new logins ('Maximum number of sessions ({max_shown}) reached, refusing further sessions.', PAM_SESSION_ERR)",
                    src("SessionsMax")
                ),
            )
            .fix("end stale sessions (`loginctl list-sessions`, `loginctl terminate-session ID`) or raise SessionsMax= in /etc/systemd/logind.conf.d/"),
        ),
        Some(n) if max != u64::MAX && n.saturating_mul(10) >= max.saturating_mul(9) => out.push(
            Finding::new(
                "logind.conf",
                Level::Warn,
                format!("{n} sessions now, close to SessionsMax={max_shown} ({})", src("SessionsMax")),
            )
            .fix("look for leaked sessions (`loginctl list-sessions`) or raise SessionsMax="),
        ),
        Some(n) => out.push(Finding::new(
            "logind.conf",
            Level::Ok,
            format!("{n} sessions now, SessionsMax={max_shown} ({})", src("SessionsMax")),
        )),
        None => out.push(Finding::new(
            "logind.conf",
            Level::Info,
            format!("SessionsMax={max_shown} ({}); current count unknown (logind not asked)", src("SessionsMax")),
        )),
    }
    out
}
