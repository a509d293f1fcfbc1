//! The neutral vocabulary of a conversation with logind, whatever carries it, and the pure
//! decisions over it: which attempt comes next ([`Plan::next`]) and which generation logind's
//! answers put in force ([`Plan::answered`]).
//!
//! An [`Attempt`] is a transport ([`Via`]) plus the generation whose rules built the request it
//! carries. Error replies keep the name their transport gave them ([`ErrorName`]); "the caller is
//! already in a session" is one answer ([`Answer::AlreadyInSession`]) for both transports' names.
//! No I/O here: table-tested in `plan/tests.rs` and through the session story.
//!
//! The comparisons between generations of this layer live in this file only (the `Plan` fields
//! and [`Plan::next`], [`Plan::answered`]).

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
    /// `io.systemd.Login.CreateSession` over Varlink: the seam for the Varlink transport, which
    /// no plan contains yet (only the tests build it until then).
    #[cfg_attr(not(test), allow(dead_code))]
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
}

impl Failure {
    /// Whether this is a D-Bus error reply with exactly this name.
    pub fn is_dbus(&self, wanted: &str) -> bool {
        matches!(self, Failure::Call { name: Some(ErrorName::Dbus(n)), .. } if n == wanted)
    }

    /// The error reply's name and text, for a failed call.
    pub fn call_error(&self) -> Option<(Option<&str>, &str)> {
        match self {
            Failure::Call { name, message, .. } => Some((name.as_ref().map(ErrorName::as_str), message)),
            _ => None,
        }
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
    pub attempts: Vec<Attempt>,
    pub result: Result<Answer, Failure>,
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

/// How the requests of a login are sent: an ordered choice of attempts, each a transport and the
/// generation whose rules built its request, and how an older logind's refusals are answered
/// (README "Beyond upstream"):
/// * pinned to 257 (`compat=257`): as pam_systemd 257: CreateSessionWithPIDFD, then
///   CreateSession on exactly UnknownMethod, nothing else;
/// * pinned to 252 (`compat=252`): the 252 request, with the PIDFD probe first;
/// * decided by logind (no `compat=`): the 257 request with CreateSessionWithPIDFD; on
///   UnknownMethod (logind < 255) the 252 request with CreateSession; on `Invalid session class
///   X`, where X is the 257 request's class and differs from the 252 one (so a 257 rule chose
///   it, never the admin), once more with the 252 request. Where the 252 outcome is "no
///   session" (the `systemd-user` stack), no second call is made.
///
/// The D-Bus client never plans [`Via::Varlink`] (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'r> {
    /// `None`: decided by logind's answers.
    pub pinned: Option<Generation>,
    /// The 257 request (not sent when pinned to 252).
    pub v257: Request<'r>,
    /// The 252 request; `None` where 252 registers no session (`systemd-user`).
    pub v252: Option<Request<'r>>,
    /// The 262 request: sent when pinned to 262 (`compat=262`); a decided login sends the 257
    /// request first until the Varlink transport decides (branch `wire`).
    pub v262: Option<Request<'r>>,
}

impl<'r> Plan<'r> {
    /// The plan from every generation's request (`None` where it registers no session); `newest`
    /// stands in for a 257 request that is not there (never: 257 registers a session for every
    /// service).
    pub fn of(
        pinned: Option<Generation>,
        newest: &Request<'r>,
        request: impl Fn(Generation) -> Option<Request<'r>>,
    ) -> Self {
        Plan {
            pinned,
            v257: request(Generation::V257).unwrap_or_else(|| newest.clone()),
            v252: request(Generation::V252),
            v262: request(Generation::V262),
        }
    }

    /// The first call.
    pub fn first(&self) -> Attempt {
        Attempt {
            via: Via::DbusPidfd,
            request: self.pinned.unwrap_or(Generation::V257),
        }
    }

    /// The request an attempt carries.
    pub fn request(&self, g: Generation) -> Option<&Request<'r>> {
        match g {
            Generation::V257 => Some(&self.v257),
            Generation::V252 => self.v252.as_ref(),
            Generation::V262 => self.v262.as_ref(),
        }
    }

    /// The call after `done` failed with `failure`.
    pub fn next(&self, done: Attempt, failure: &Failure) -> Next {
        let unknown_method = done.via == Via::DbusPidfd && failure.is_dbus(UNKNOWN_METHOD);
        match self.pinned {
            Some(request) if unknown_method => Next::Send(Attempt {
                via: Via::Dbus,
                request,
            }),
            Some(_) => Next::Stop,
            None if done.request == Generation::V257 => {
                let legacy = |via| match self.v252 {
                    Some(_) => Next::Send(Attempt {
                        via,
                        request: Generation::V252,
                    }),
                    None => Next::NoSession,
                };
                if unknown_method {
                    legacy(Via::Dbus)
                } else if self.class_refused(failure) {
                    legacy(done.via)
                } else {
                    Next::Stop
                }
            }
            None => Next::Stop,
        }
    }

    /// `InvalidArgs "Invalid session class X"` for the class a 257 rule chose.
    fn class_refused(&self, failure: &Failure) -> bool {
        let Failure::Call { message, .. } = failure else {
            return false;
        };
        let chosen_by_257 = self.v252.as_ref().is_none_or(|r| r.class != self.v257.class);
        failure.is_dbus(INVALID_ARGS)
            && chosen_by_257
            && message
                .strip_prefix("Invalid session class ")
                .is_some_and(|c| c.as_bytes() == self.v257.class)
    }

    /// The generation whose rules logind's answers put in force, if they tell: the pinned one;
    /// 252 once a 252 request was sent (or 252's "no session" chosen); 257 when logind took a
    /// 257 request, or answered (itself, not the bus) a CreateSessionWithPIDFD. `None` when
    /// nothing logind said tells (no connection, the bus answered instead of logind, a message
    /// never built).
    pub fn answered(&self, attempts: &[Attempt], result: &Result<Answer, Failure>) -> Option<Generation> {
        if let Some(g) = self.pinned {
            return Some(g);
        }
        if matches!(result, Ok(Answer::NoSession)) || attempts.iter().any(|a| a.request == Generation::V252) {
            return Some(Generation::V252);
        }
        let first = attempts.first().map(|a| a.via);
        match result {
            Ok(Answer::Session(_)) => Some(Generation::V257),
            Ok(Answer::AlreadyInSession { .. }) => generation_of_refusal(first),
            Err(f) if from_logind(f) => generation_of_refusal(first),
            _ => None,
        }
    }
}

/// The generation a refusal of logind's own tells, by the transport of the first attempt it
/// answered: only a method that logind < 255 lacks tells anything.
fn generation_of_refusal(first: Option<Via>) -> Option<Generation> {
    match first? {
        Via::DbusPidfd => Some(Generation::V257),
        // A Varlink answer only bounds logind's version from below; no rules for it yet.
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
