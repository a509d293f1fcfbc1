//! Why a login lost its user manager (pure): what triggers the question, how long it may take,
//! and the ONE rule from what PID 1 and logind say about the user's units to the sentence that
//! names the cause and the fix. The module logs it as one warning line on a failing login;
//! `pam_systemd_rs doctor` prints it as its unit finding.
//!
//! The field failure (README, "When logins lose their user manager"): logins of one user that
//! come and go faster than PID 1's start limit (5 starts within 10 s by default) make
//! `user-runtime-dir@UID.service` or `user@UID.service` fail with `start-limit-hit`; on
//! systemd 252 the login then has no `/run/user/UID`, on 257 the session is refused.
//!
//! Pure: no I/O, table-tested in `diagnose/rule/tests.rs`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// What PID 1 says about one unit (`org.freedesktop.systemd1.Unit` / `.Service` properties).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unit {
    /// The unit's name, e.g. `user-runtime-dir@0.service`.
    pub name: String,
    /// `false`: PID 1 has no such unit loaded (`NoSuchUnit`), so it remembers no failure either.
    pub loaded: bool,
    pub active_state: String,
    /// The service's `Result` (`success`, `start-limit-hit`, `exit-code`, …).
    pub result: String,
    pub start_limit_burst: u32,
    pub start_limit_interval_usec: u64,
    pub n_restarts: Option<u32>,
    /// PID 1 logged `Start request repeated too quickly.` for its latest start (the doctor reads
    /// the journal; the module never sets it). systemd 257 keeps the earlier Result of a unit
    /// that had already failed (e.g. `exit-code`) when the limit stops its next start.
    pub start_limit_logged: bool,
}

impl Unit {
    /// A unit PID 1 does not have loaded.
    pub fn not_loaded(name: String) -> Self {
        Unit {
            name,
            ..Unit::default()
        }
    }

    fn failed(&self) -> bool {
        self.loaded && self.active_state == "failed"
    }

    fn start_limit_hit(&self) -> bool {
        self.failed() && (self.result == "start-limit-hit" || self.start_limit_logged)
    }
}

/// What logind says about the user (`org.freedesktop.login1.User`); `None` where logind does not
/// know the user ("not logged in or lingering").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogindUser {
    pub state: String,
    pub linger: bool,
}

/// What made the module ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// CreateSession succeeded, but the runtime directory is missing or not in order.
    RuntimeDir,
    /// CreateSession failed: a job of the session failed (`… failed with 'dependency'`).
    JobFailed,
    /// CreateSession failed: `Transaction for session-N.scope/start is destructive`.
    Destructive,
    /// No login: the doctor asks on its own.
    Doctor,
}

/// How a login went, as far as the question is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// The create call failed with this error name (if an error reply) and text.
    Failed { name: Option<&'a str>, message: &'a str },
    /// logind created the user's session; the story's one check of its runtime directory (through
    /// `Host`) gave this verdict.
    Created { runtime_dir_in_order: bool },
}

/// Whether a login is worth asking PID 1 about, and why.
pub fn trigger(login: Login<'_>) -> Option<Trigger> {
    match login {
        Login::Failed { name, message } => trigger_of_error(name, message),
        Login::Created { runtime_dir_in_order } => (!runtime_dir_in_order).then_some(Trigger::RuntimeDir),
    }
}

/// logind 262's Varlink CreateSession error when a job of the session failed (e.g. the scope's
/// `dependency` on a user-runtime-dir@ that hit its start limit): the D-Bus reply's
/// `Job N for unit '…' failed with '…'`, without parameters (docs/behaviour-262.md, "The seed
/// on 262").
pub const UNIT_ALLOCATION_FAILED: &str = "io.systemd.Login.UnitAllocationFailed";

/// sd-varlink's error for a method that failed with an errno (`{"origin":"linux","errno":N,
/// "errnoName":"E…"}`).
pub const VARLINK_SYSTEM: &str = "io.systemd.System";

/// A failed CreateSession worth asking PID 1 about, from the error name and text: D-Bus's
/// (logind 252, 257 and 262 over D-Bus) and Varlink's (logind 262: the error name, and for
/// `io.systemd.System` a text naming its errno).
pub fn trigger_of_error(name: Option<&str>, message: &str) -> Option<Trigger> {
    if name == Some("org.freedesktop.systemd1.TransactionIsDestructive")
        || (message.starts_with("Transaction for ") && message.contains(" is destructive"))
    {
        return Some(Trigger::Destructive);
    }
    if message.starts_with("Job ") && message.contains(" failed with '") {
        return Some(Trigger::JobFailed);
    }
    match name {
        Some(UNIT_ALLOCATION_FAILED) => Some(Trigger::JobFailed),
        // Over Varlink logind has no error text for a scope PID 1 refused to start: the
        // method fails with the errno sd-bus maps TransactionIsDestructive (and
        // TransactionJobsConflicting) to, EDEADLK.
        Some(VARLINK_SYSTEM) if names_edeadlk(message) => Some(Trigger::Destructive),
        _ => None,
    }
}

/// Whether an `io.systemd.System` error's text names EDEADLK: its errnoName, its number as
/// `errno 35` / `"errno":35`, or its strerror text.
fn names_edeadlk(message: &str) -> bool {
    let number = libc::EDEADLK.to_string();
    let bare_number = |rest: &str| {
        let rest = rest.trim_start_matches([' ', ':', '=']);
        rest.strip_prefix(number.as_str())
            .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_digit()))
    };
    message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "EDEADLK")
        || message.contains("Resource deadlock avoided")
        || message
            .match_indices("errno")
            .any(|(i, w)| bare_number(message[i + w.len()..].trim_start_matches('"')))
}

/// The most the module's inquiry may take.
pub const INQUIRY_LIMIT: Duration = Duration::from_millis(1500);
/// How much of the login's deadline the inquiry leaves.
pub const INQUIRY_MARGIN: Duration = Duration::from_millis(100);

/// The debug line when the login's deadline leaves no time to ask.
pub const NO_TIME_LEFT: &str = "No time left to ask systemd why.";
/// Why an inquiry gave nothing when its bound passed.
pub const NO_ANSWER_IN_TIME: &str = "no answer in time";

/// The debug line for an inquiry that could not be made.
pub fn not_asked(reason: &str) -> String {
    format!("Could not ask systemd why: {reason}")
}

/// When an inquiry that starts `now` must end: [`INQUIRY_LIMIT`] from now, and no later than the
/// login's `deadline` less [`INQUIRY_MARGIN`]. `None`: no time left.
pub fn inquiry_bound(now: Instant, deadline: Option<Instant>) -> Option<Instant> {
    let mut bound = now.checked_add(INQUIRY_LIMIT)?;
    if let Some(d) = deadline.and_then(|d| d.checked_sub(INQUIRY_MARGIN)) {
        bound = bound.min(d);
    }
    (bound > now).then_some(bound)
}

/// Everything the rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The user's name, for `loginctl enable-linger NAME` (the uid works there too).
    pub user: String,
    pub uid: u32,
    /// `user-runtime-dir@UID.service`.
    pub runtime_dir_unit: Unit,
    /// `user@UID.service`.
    pub manager_unit: Unit,
    pub logind_user: Option<LogindUser>,
    pub trigger: Trigger,
}

/// The named cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Short machine-readable kind: `start-limit-hit`, `unit-failed`, `user-stopping`.
    pub kind: &'static str,
    /// The unit at fault, if one is.
    pub unit: Option<String>,
    /// What happened, one sentence.
    pub what: String,
    /// What clears it now, and what prevents it.
    pub fix: String,
}

impl Cause {
    /// The module's one warning line (and the doctor's finding text).
    pub fn line(&self) -> String {
        format!("{}; {}", self.what, self.fix)
    }
}

/// The rule. `None`: nothing PID 1 or logind said explains the login's trouble.
pub fn explain(f: &Facts) -> Option<Cause> {
    let rd = &f.runtime_dir_unit;
    let mgr = &f.manager_unit;
    let linger = f.logind_user.as_ref().is_some_and(|u| u.linger);
    let reset = format!("systemctl reset-failed {} {}", rd.name, mgr.name);

    for unit in [rd, mgr] {
        if unit.start_limit_hit() {
            let consequence = if std::ptr::eq(unit, rd) {
                format!("so {} gets no /run/user/{} and no user manager", f.user, f.uid)
            } else {
                format!("so {} gets no user manager", f.user)
            };
            let how = if unit.result == "start-limit-hit" {
                "failed with 'start-limit-hit'".to_owned()
            } else {
                format!("failed with '{}' and then hit its start limit", unit.result)
            };
            let mut what = format!(
                "{} {how} ({}: logins of {} came and went faster than that), {consequence}",
                unit.name,
                limit(unit),
                f.user
            );
            if let Some(n) = unit.n_restarts.filter(|&n| n > 0) {
                let _ = write!(what, " (NRestarts={n})");
            }
            return Some(Cause {
                kind: "start-limit-hit",
                unit: Some(unit.name.clone()),
                what,
                fix: format!("`{reset}` clears it now; {}", prevention(&f.user, linger)),
            });
        }
    }
    for unit in [rd, mgr] {
        if unit.failed() {
            let result = if unit.result.is_empty() {
                "unknown"
            } else {
                &unit.result
            };
            return Some(Cause {
                kind: "unit-failed",
                unit: Some(unit.name.clone()),
                what: format!(
                    "{} failed with '{result}', so {} gets no user manager",
                    unit.name, f.user
                ),
                fix: format!("see `journalctl -b -u {}` for why, then `{reset}`", unit.name),
            });
        }
    }
    let stopping = f.logind_user.as_ref().is_some_and(|u| u.state == "closing");
    if f.trigger == Trigger::Destructive || (stopping && f.trigger != Trigger::Doctor) {
        let state = f
            .logind_user
            .as_ref()
            .map_or_else(|| "gone".to_owned(), |u| format!("State={}", u.state));
        return Some(Cause {
            kind: "user-stopping",
            unit: Some(format!("user-{}.slice", f.uid)),
            what: format!(
                "the login came while user {} was being stopped (logind: {state}; user-{}.slice had a stop job queued), so PID 1 refused the session's scope",
                f.user, f.uid
            ),
            fix: format!(
                "the next login works once the stop is done; if logouts stop the user between frequent logins, {}",
                prevention(&f.user, linger)
            ),
        });
    }
    None
}

/// `more than 5 starts within 10s`, or what PID 1 reported.
fn limit(u: &Unit) -> String {
    if u.start_limit_burst == 0 || u.start_limit_interval_usec == 0 {
        return "start rate limit".to_owned();
    }
    format!(
        "more than {} starts within {}",
        u.start_limit_burst,
        format_timespan(u.start_limit_interval_usec)
    )
}

fn prevention(user: &str, linger: bool) -> String {
    if linger {
        format!(
            "{user} already lingers, so a longer UserStopDelaySec= in logind.conf, ssh connection sharing, or a `StartLimitIntervalSec=0` drop-in for user-runtime-dir@.service and user@.service prevents it"
        )
    } else {
        format!(
            "`loginctl enable-linger {user}` (or a longer UserStopDelaySec= in logind.conf, or ssh connection sharing) prevents it"
        )
    }
}

/// systemd's `format_timespan()` for the spans a start limit has: `10s`, `1min 30s`, `500ms`.
pub fn format_timespan(usec: u64) -> String {
    if usec == u64::MAX {
        return "infinity".to_owned();
    }
    if usec == 0 {
        return "0".to_owned();
    }
    const UNITS: [(&str, u64); 8] = [
        ("y", 31_557_600_000_000),
        ("month", 2_629_800_000_000),
        ("w", 604_800_000_000),
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("min", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
    ];
    let mut out = String::new();
    let mut rest = usec;
    for (name, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{n}{name}");
            rest %= size;
        }
    }
    if rest > 0 {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{rest}us");
    }
    out
}

#[cfg(test)]
mod tests;
