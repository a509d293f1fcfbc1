//! What the journal says: PID 1's start-limit refusals, logind's refused sessions, the user's
//! recent logins (`journalctl`, read-only).

use pam_systemd_rs::diagnose;

use super::Ctx;
use crate::report::{Finding, Level};

/// `SD_MESSAGE_SESSION_START`: logind's "New session N of user U." (field USER_ID = the name).
const SESSION_START: &str = "8d45620c1a4348dbb17410da57c60c66";

/// Whether the journal's latest word on `unit`'s starts is PID 1's "Start request repeated too
/// quickly." (later than its last start attempt).
pub(super) fn start_limit_logged(unit: &str) -> bool {
    let Ok(out) = std::process::Command::new("journalctl")
        .args(["--no-pager", "-q", "-o", "cat", "-b", "-n", "50", "-u", unit])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return false;
    };
    last_start_was_refused(&String::from_utf8_lossy(&out.stdout))
}

/// In PID 1's messages about one unit (oldest first): was the latest start refused by the limit?
pub fn last_start_was_refused(log: &str) -> bool {
    let lines: Vec<&str> = log.lines().collect();
    let refused = lines
        .iter()
        .rposition(|l| l.contains("Start request repeated too quickly"));
    let started = lines
        .iter()
        .rposition(|l| l.starts_with("Starting ") || l.starts_with("Started ") || l.contains("Main process exited"));
    match (refused, started) {
        (Some(r), Some(s)) => r > s,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Sessions logind could not start lately (its own log lines, last 10 minutes): a login that
/// failed and is over, which the state checks above can no longer see.
pub(super) fn recent_refusals(ctx: &Ctx) -> Option<Finding> {
    let out = std::process::Command::new("journalctl")
        .args([
            "--no-pager",
            "-q",
            "-o",
            "cat",
            "--since=-10min",
            "-u",
            "systemd-logind.service",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let refusals = refusal_lines(&text);
    let latest = refusals.last()?;
    let reason = latest.split_once(": ").map_or(*latest, |(_, r)| r);
    let mut f = Finding::new(
        "logins",
        Level::Problem,
        format!(
            "logind could not start {} session(s) in the last 10 minutes; the latest: '{latest}'",
            refusals.len()
        ),
    );
    let cause = refusal_trigger(reason).and_then(|trigger| {
        let facts = ctx.facts.borrow().clone()?;
        diagnose::explain(&diagnose::Facts { trigger, ..facts })
    });
    f = match cause {
        Some(c) => Finding {
            text: format!("{}: {}", f.text, c.what),
            ..f
        }
        .fix(c.fix),
        None => f.fix("`journalctl -u systemd-logind` and the unit findings above say more"),
    };
    Some(f)
}

/// What a refusal's reason (after `Failed to start session scope X: `) triggers. Over D-Bus
/// logind logs PID 1's error text (`Transaction for … is destructive …`); for a session asked
/// over Varlink (logind 262, from pam_systemd 258+) it has no error text and logs the errno's
/// (`Resource deadlock avoided`: EDEADLK, which the module sees as `io.systemd.System`).
pub fn refusal_trigger(reason: &str) -> Option<diagnose::Trigger> {
    let reason = reason.trim_end_matches('.');
    diagnose::trigger_of_error(None, reason).or_else(|| {
        (reason == "Resource deadlock avoided")
            .then(|| diagnose::trigger_of_error(Some(diagnose::VARLINK_SYSTEM), reason))
            .flatten()
    })
}

/// logind's lines about a session it could not start.
pub fn refusal_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.starts_with("Failed to start session scope") || l.starts_with("Failed to start user service"))
        .collect()
}

/// How many sessions of the user logind started lately, from the journal.
pub(super) fn recent_logins(ctx: &Ctx) -> Finding {
    // journalctl prints nothing and succeeds when there is no journal at all.
    let has_files = ["/run/log/journal", "/var/log/journal"].iter().any(|d| {
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.filter_map(Result::ok)
                .any(|m| std::fs::read_dir(m.path()).is_ok_and(|mut f| f.next().is_some()))
        })
    });
    if !has_files {
        return Finding::new(
            "logins",
            Level::Info,
            "recent logins not counted: no journal here (no files in /run/log/journal or /var/log/journal)",
        );
    }
    let count = |since: &str| -> Result<usize, String> {
        let out = std::process::Command::new("journalctl")
            .args(["--no-pager", "-q", "-o", "cat"])
            .arg(format!("--since={since}"))
            .arg(format!("MESSAGE_ID={SESSION_START}"))
            .arg(format!("USER_ID={}", ctx.user))
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("journalctl: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(format!("journalctl failed: {err}"));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count())
    };
    match (count("-1min"), count("-10min")) {
        (Ok(one), Ok(ten)) => {
            let text = format!(
                "{one} session(s) of {} started in the last minute, {ten} in the last 10 minutes (journal)",
                ctx.user
            );
            if one >= 5 {
                Finding::new(
                    "logins",
                    Level::Warn,
                    format!("{text}: at that rate a user whose units stop between logins hits PID 1's start limit (5 starts within 10s)"),
                )
                .fix(format!(
                    "`loginctl enable-linger {}` keeps the user's units running; ssh connection sharing (ControlMaster/ControlPersist) makes fewer logins",
                    ctx.user
                ))
            } else {
                Finding::new("logins", Level::Ok, text)
            }
        }
        (Err(e), _) | (_, Err(e)) => Finding::new(
            "logins",
            Level::Info,
            format!("recent logins not counted: the journal is not available ({e})"),
        ),
    }
}
