//! The neutral vocabulary of a conversation with logind, whatever carries it, and the pure
//! decisions over it: which attempt comes next ([`Plan::next`]) and which generation logind's
//! answers put in force ([`Plan::answered`]).
//!
//! An [`Attempt`] is a transport ([`Via`]) plus the generation whose rules built the request it
//! carries. Error replies keep the name their transport gave them ([`ErrorName`]); "the caller is
//! already in a session" is one answer ([`Answer::AlreadyInSession`]) for both transports' names.
//! No I/O here: table-tested in `plan/tests.rs` and through the session story.
//!
//! No generation is named here: the decisions read the rules table (`varlink_first`,
//! `pidfd_method`) and walk [`Generation::older`].

use std::fmt;
use std::os::fd::OwnedFd;
use std::time::Duration;

use crate::context::{Generation, Request};

/// `org.freedesktop.DBus.Error.UnknownMethod`: what logind < 255 answers CreateSessionWithPIDFD.
pub const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";
/// `org.freedesktop.DBus.Error.InvalidArgs`: among others, an unknown session class.
pub const INVALID_ARGS: &str = "org.freedesktop.DBus.Error.InvalidArgs";
/// logind's D-Bus answer to a caller that already belongs to a session (su, sudo).
pub const SESSION_BUSY: &str = "org.freedesktop.login1.SessionBusy";
/// logind's Varlink answer to a caller that already belongs to a session.
pub const ALREADY_SESSION_MEMBER: &str = "io.systemd.Login.AlreadySessionMember";
/// `org.freedesktop.DBus.Error.AccessDenied`.
pub const ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
/// sd-bus's name for a call that got no reply in time.
pub const DBUS_TIMEOUT: &str = "org.freedesktop.DBus.Error.Timeout";

/// Which transport, and for D-Bus which method, an attempt uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `io.systemd.Login.CreateSession` over Varlink (logind ≥ 258).
    Varlink,
    /// D-Bus `CreateSessionWithPIDFD` (`uhsssssussbssta(sv)`, logind ≥ 255).
    DbusPidfd,
    /// D-Bus `CreateSession` (`uusssssussbssa(sv)`, leader 0).
    Dbus,
}

/// One create call: how it is sent, and which generation's request it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub via: Via,
    pub request: Generation,
}

/// An error reply's name, tagged with the transport that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorName {
    Dbus(String),
    Varlink(String),
}

impl ErrorName {
    /// The name as its transport spelled it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorName::Dbus(n) | ErrorName::Varlink(n) => n,
        }
    }
}

/// What logind answered to a create call (`soshusub` on D-Bus).
#[derive(Debug)]
pub struct Reply {
    pub id: String,
    pub object_path: String,
    pub runtime_path: String,
    /// Our duplicate (`F_DUPFD_CLOEXEC`, ≥ 3) of the session fd logind sent.
    pub fd: Option<OwnedFd>,
    pub uid: u32,
    pub seat: String,
    pub vtnr: u32,
    pub existing: bool,
}

/// How an operation failed. `logind::failure` turns each into its PAM code and log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be made (or authenticated) in time.
    Connect {
        errno: i32,
        detail: String,
        elapsed: Duration,
    },
    /// The message could not be built: a string that is not UTF-8 (sd-bus: EINVAL), or
    /// `pidfd_open()` failing with an unexpected errno.
    BuildMessage { errno: i32 },
    /// The call failed: an error reply, a timeout, or a lost connection.
    Call {
        name: Option<ErrorName>,
        message: String,
        detail: String,
        elapsed: Duration,
    },
    /// The reply could not be read as the expected signature.
    BadReply { detail: String },
    /// Duplicating the session fd failed.
    DupFd { errno: i32 },
    /// A Varlink operation failed (connect, call, error reply, reply parameters): the client's
    /// error, and for an `org.varlink.service.InvalidParameter` reply the parameter it names.
    Varlink {
        error: crate::varlink::Error,
        parameter: Option<String>,
    },
}

impl Failure {
    /// Whether this is a D-Bus error reply with exactly this name.
    pub fn is_dbus(&self, wanted: &str) -> bool {
        matches!(self, Failure::Call { name: Some(ErrorName::Dbus(n)), .. } if n == wanted)
    }

    /// The error reply's name and text, for a failed call (a Varlink error reply has no text:
    /// its name and the errno it maps to stand for it).
    pub fn call_error(&self) -> Option<(Option<&str>, std::borrow::Cow<'_, str>)> {
        match self {
            Failure::Call { name, message, .. } => Some((name.as_ref().map(ErrorName::as_str), message.into())),
            // A Varlink error carries no message: its name and the errno it maps to (e.g.
            // io.systemd.System's EDEADLK, "Resource deadlock avoided").
            Failure::Varlink { error, .. } => match &error.failure {
                crate::varlink::Failure::Reply { name, errno } => {
                    Some((Some(name), format!("{name}: {}", crate::sys::strerror(*errno)).into()))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether the module goes on with D-Bus after this: only when the Varlink connect itself
    /// failed (pam_systemd 262's only fallback).
    pub fn falls_back(&self) -> bool {
        matches!(self, Failure::Varlink { error, .. } if error.falls_back())
    }

    /// A Varlink error reply with exactly this name.
    fn is_varlink(&self, wanted: &str) -> bool {
        matches!(self, Failure::Varlink { error, .. }
            if matches!(&error.failure, crate::varlink::Failure::Reply { name, .. } if name == wanted))
    }
}

/// What a create conversation came to.
#[derive(Debug)]
pub enum Answer {
    /// logind created (or found) the session.
    Session(Reply),
    /// The caller already belongs to a session (D-Bus `SessionBusy`, Varlink
    /// `AlreadySessionMember`): success, with nothing to set. `message` is logind's text.
    AlreadyInSession { message: String },
    /// The 252 outcome for the `systemd-user` stack: no session.
    NoSession,
}

/// A failed call that is an answer after all: "already in a session", in either transport's
/// words. Everything else stays a failure.
pub fn settle(failure: Failure) -> Result<Answer, Failure> {
    match failure {
        Failure::Call {
            name: Some(ErrorName::Dbus(n) | ErrorName::Varlink(n)),
            message,
            ..
        } if n == SESSION_BUSY || n == ALREADY_SESSION_MEMBER => Ok(Answer::AlreadyInSession { message }),
        other => Err(other),
    }
}

/// A create conversation: the attempts made, in order, and how it ended.
#[derive(Debug)]
pub struct Created {
    /// The calls sent (a Varlink connect that failed sent none).
    pub attempts: Vec<Attempt>,
    pub result: Result<Answer, Failure>,
    /// The Varlink connect failure that sent the conversation to D-Bus (its debug line:
    /// [`Created::fallback_line`]).
    pub fell_back: Option<Failure>,
}

impl Created {
    /// pam_systemd 262's debug line for the Varlink connect failure that sent the conversation
    /// to D-Bus, with our details; formatted only when shown (most logins never log it).
    pub fn fallback_line(&self) -> Option<FallbackLine<'_>> {
        self.fell_back.as_ref().map(FallbackLine)
    }
}

/// pam_systemd 262's debug line for a Varlink connect failure, with our details, as a value
/// that formats itself only when displayed.
#[derive(Clone, Copy, Debug)]
pub struct FallbackLine<'a>(pub &'a Failure);

impl fmt::Display for FallbackLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Failure::Varlink { error, .. } => fmt::Display::fmt(error, f),
            other => write!(f, "{other:?}"),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send this on the same connection.
    Send(Attempt),
    /// Stop and register no session: the 252 outcome for user@.service's stack.
    NoSession,
    /// The failure stands.
    Stop,
}

/// How the requests of a login are sent: every generation's request, newest first, and the
/// pure decisions over them ([`Plan::first`], [`Plan::next`], [`Plan::answered`]), all read from
/// the rules table (README "Beyond upstream"):
/// * pinned (`compat=N`): as pam_systemd N: Varlink first where N goes there and no limit is
///   set, D-Bus on exactly a Varlink connect failure; `CreateSessionWithPIDFD`, then
///   `CreateSession` on exactly UnknownMethod; always N's request, nothing else;
/// * decided by logind (no `compat=`): the newest request first, over Varlink when allowed; a
///   Varlink connect failure (logind without `io.systemd.Login`) → D-Bus with the request of the
///   newest generation that does not go to Varlink; UnknownMethod (logind < 255) → the request of
///   the newest generation without `CreateSessionWithPIDFD`, with `CreateSession`; a refused class
///   that the request's own generation chose (it differs from the next older one's, so never the
///   admin's) → the next older generation's request on the same transport. Where that
///   generation registers no session (the `systemd-user` stack), no further call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'r> {
    /// `None`: decided by logind's answers.
    pub pinned: Option<Generation>,
    /// Every generation's request, in [`Generation::ALL`]'s order; `None` where that generation
    /// registers no session (`systemd-user` under 252).
    pub requests: Vec<(Generation, Option<Request<'r>>)>,
    /// Whether Varlink may carry the create call: pam_systemd 262's `can_use_varlink()`, none of
    /// the five `systemd.*` limits PAM data set (their scope properties go over D-Bus only).
    pub varlink: bool,
}

/// `org.varlink.service.InvalidParameter`: logind's Varlink refusal of a parameter's value.
pub const INVALID_PARAMETER: &str = "org.varlink.service.InvalidParameter";

impl<'r> Plan<'r> {
    /// The first call.
    pub fn first(&self) -> Attempt {
        let request = self.pinned.unwrap_or(Generation::NEWEST);
        let via = if self.varlink && request.rules().varlink_first {
            Via::Varlink
        } else {
            Via::DbusPidfd
        };
        Attempt { via, request }
    }

    /// Whether the client first checks that logind's Varlink socket accepts a connection (no
    /// call is made on it): a decided login in which a `systemd.*` limit keeps the create call
    /// off Varlink (C 262's `can_use_varlink()`). The socket's absence means logind ≤ 257, so
    /// the login starts where a Varlink connect failure leads ([`Plan::next`]: D-Bus with the
    /// 257 request) and follows that logind's C module; its presence means logind ≥ 258, and the
    /// 262 request goes to D-Bus, as C 262 sends it.
    pub fn probes_varlink(&self) -> bool {
        self.pinned.is_none() && !self.varlink && Generation::NEWEST.rules().varlink_first
    }

    /// The request an attempt carries.
    pub fn request(&self, g: Generation) -> Option<&Request<'r>> {
        self.requests
            .iter()
            .find(|(h, _)| *h == g)
            .and_then(|(_, r)| r.as_ref())
    }

    /// The call after `done` failed with `failure`.
    pub fn next(&self, done: Attempt, failure: &Failure) -> Next {
        let connect_failed = done.via == Via::Varlink && failure.falls_back();
        let unknown_method = done.via == Via::DbusPidfd && failure.is_dbus(UNKNOWN_METHOD);
        match self.pinned {
            Some(request) if connect_failed => Next::Send(Attempt {
                via: Via::DbusPidfd,
                request,
            }),
            Some(request) if unknown_method => Next::Send(Attempt {
                via: Via::Dbus,
                request,
            }),
            Some(_) => Next::Stop,
            None if connect_failed => self.fall_back(done.request, |r| !r.varlink_first, Via::DbusPidfd),
            None if unknown_method => self.fall_back(done.request, |r| !r.pidfd_method, Via::Dbus),
            None if self.class_refused(done, failure) => match done.request.older() {
                Some(g) => self.fall_back(g, |_| true, done.via),
                None => Next::Stop,
            },
            None => Next::Stop,
        }
    }

    /// The newest generation from `from` on (older ones after it) whose rules `fits`, sent
    /// `via`; [`Next::NoSession`] where it registers no session.
    fn fall_back(&self, from: Generation, fits: impl Fn(&crate::rules::Rules) -> bool, via: Via) -> Next {
        let mut g = from;
        while !fits(g.rules()) {
            match g.older() {
                Some(older) => g = older,
                None => return Next::Stop,
            }
        }
        match self.request(g) {
            Some(_) => Next::Send(Attempt { via, request: g }),
            None => Next::NoSession,
        }
    }

    /// logind refused the class of `done`'s request, and that generation's rules chose it (the
    /// next older generation asks for another, or for no session): D-Bus `InvalidArgs "Invalid
    /// session class X"`, Varlink `InvalidParameter` naming `Class`.
    fn class_refused(&self, done: Attempt, failure: &Failure) -> bool {
        let Some(sent) = self.request(done.request) else {
            return false;
        };
        let chosen_by_it = done
            .request
            .older()
            .is_some_and(|g| self.request(g).is_none_or(|r| r.class != sent.class));
        let refused = match failure {
            Failure::Call { message, .. } => {
                failure.is_dbus(INVALID_ARGS)
                    && message
                        .strip_prefix("Invalid session class ")
                        .is_some_and(|c| c.as_bytes() == sent.class)
            }
            Failure::Varlink { parameter, .. } => {
                failure.is_varlink(INVALID_PARAMETER) && parameter.as_deref() == Some("Class")
            }
            _ => false,
        };
        chosen_by_it && refused
    }

    /// The generation whose rules logind's answers put in force, if they tell: the pinned one;
    /// the one of the Varlink call when logind answered on `io.systemd.Login` (only logind ≥ 258
    /// has it); else, on D-Bus: the older generation once logind's refusal sent an older request
    /// (or its "no session" chosen), the first D-Bus request's when logind took it or answered
    /// (itself, not the bus) a CreateSessionWithPIDFD. `None` when nothing logind said tells (no
    /// connection, the bus answered instead of logind, a message never built).
    pub fn answered(&self, attempts: &[Attempt], result: &Result<Answer, Failure>) -> Option<Generation> {
        if let Some(g) = self.pinned {
            return Some(g);
        }
        if let Some(a) = attempts.iter().find(|a| a.via == Via::Varlink) {
            return Some(a.request);
        }
        if matches!(result, Ok(Answer::NoSession)) {
            return Generation::ALL.into_iter().find(|&g| self.request(g).is_none());
        }
        let first = attempts.first()?;
        if let Some(older) = attempts.iter().find(|a| a.request != first.request) {
            return Some(attempts.last().map_or(older.request, |a| a.request));
        }
        match result {
            Ok(Answer::Session(_)) => Some(first.request),
            Ok(Answer::AlreadyInSession { .. }) => generation_of_refusal(first),
            Err(f) if from_logind(f) => generation_of_refusal(first),
            _ => None,
        }
    }
}

/// The generation a refusal of logind's own tells, by the first D-Bus attempt it answered: only
/// a method that logind < 255 lacks tells anything.
fn generation_of_refusal(first: &Attempt) -> Option<Generation> {
    match first.via {
        Via::DbusPidfd => Some(first.request),
        Via::Varlink | Via::Dbus => None,
    }
}

/// Whether an error reply is logind's own (or PID 1's, which logind passes on), as opposed to
/// the bus daemon's (no such service, spawn failures, timeouts, disconnects).
fn from_logind(f: &Failure) -> bool {
    match f {
        Failure::Call {
            name: Some(ErrorName::Dbus(n)),
            ..
        } => {
            n.starts_with("org.freedesktop.login1.") || n.starts_with("org.freedesktop.systemd1.") || n == INVALID_ARGS
        }
        // Varlink has no daemon in between: every error reply is logind's.
        Failure::Call {
            name: Some(ErrorName::Varlink(_)),
            ..
        } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
