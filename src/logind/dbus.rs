//! The D-Bus transport: logind on the system bus (behaviour.md: open steps 14–18, "Close",
//! "The system bus"), and the fresh connection on which the diagnosis asks PID 1 why a login
//! failed.
//!
//! Every operation connects, authenticates, calls and closes on the calling thread, over the
//! module's own blocking client (`crate::dbus`): the host process keeps the threads it had and
//! no connection outlives the hook. One deadline covers the whole operation (`timeout=`): a bus
//! that accepts and never answers, or a logind that never replies, ends the hook in time.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Instant;

use log::debug;

use super::address::{self, Target};
use super::dbus_error;
use super::plan::{self, Answer, Attempt, DBUS_TIMEOUT, ErrorName, Failure, Next, Plan, Reply, Via};
use super::question::Question;
use super::{Endpoint, Explain, Transport};
use crate::context::Request;
use crate::dbus::wire::{Body, Call, WireError};
use crate::dbus::{self as bus, Connection};
use crate::diagnose::rule::{self as diagnose, Trigger};
use crate::limits::PropValue;
use crate::sys::{errno, strerror};

/// A method on logind's Manager object.
fn logind(member: &str) -> Call<'_> {
    Call {
        destination: "org.freedesktop.login1",
        path: "/org/freedesktop/login1",
        interface: "org.freedesktop.login1.Manager",
        member,
    }
}

/// logind over D-Bus: a fresh connection per operation, closed before returning.
pub struct Dbus<Q> {
    question: Q,
}

impl<Q: Question> Dbus<Q> {
    /// The transport; `question` is what [`Explain::why`] asks on its connection.
    pub fn new(question: Q) -> Self {
        Dbus { question }
    }
}

impl<Q> Transport for Dbus<Q> {
    fn create(
        &mut self,
        ep: &Endpoint,
        plan: &Plan<'_>,
        first: Attempt,
        props: &[(&'static str, PropValue)],
        attempts: &mut Vec<Attempt>,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let socket = ep.connect(started)?;
        let mut conn = ep.handshake(socket, started)?;
        converse_create(&mut conn, plan, first, props, attempts, started)
    }

    fn release(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure> {
        let started = Instant::now();
        let socket = ep.connect(started)?;
        let id = utf8(id)?;
        let mut conn = ep.handshake(socket, started)?;
        let mut body = Body::new();
        body.str(id);
        call(&mut conn, &logind("ReleaseSession"), &body, &[], started).map(drop)
    }
}

impl<Q: Question> Explain for Dbus<Q> {
    /// A connection of its own, bounded by [`diagnose::inquiry_bound`] (at most 1.5 s, and
    /// inside the login's deadline less a margin), closed before returning.
    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String> {
        let started = Instant::now();
        let Some(bound) = diagnose::inquiry_bound(started, deadline) else {
            debug!("{}", diagnose::NO_TIME_LEFT);
            return None;
        };
        let ep = Endpoint {
            timeout: Some(bound.saturating_duration_since(started)),
            ..ep.clone()
        };
        let asked = ep
            .connect(started)
            .and_then(|socket| ep.handshake(socket, started))
            .map(|mut conn| self.question.ask(&mut conn, uid, trigger));
        match asked {
            Ok(line) => line,
            Err(f) => {
                let reason = match &f {
                    f if f.is_dbus(DBUS_TIMEOUT) => diagnose::NO_ANSWER_IN_TIME.to_owned(),
                    Failure::Call { message, .. } => message.clone(),
                    Failure::Connect { errno, .. } => strerror(*errno),
                    other => format!("{other:?}"),
                };
                debug!("{}", diagnose::not_asked(&reason));
                None
            }
        }
    }
}

/// `org.freedesktop.login1.Manager.Inhibit(what, who, why, mode)` (`ssss` → `h`) on a
/// connection of its own, inside `ep`'s deadline, closed before returning (262's
/// `acquire_inhibit_lock()`). The returned fd is the reply's, duplicated `F_DUPFD_CLOEXEC` ≥ 3
/// as C does; the reply's own copy closes with it. Strings that are not UTF-8 fail as sd-bus
/// fails to build the message (`EINVAL`).
pub fn inhibit(ep: &Endpoint, what: &[u8], who: &[u8], why: &[u8], mode: &str) -> Result<OwnedFd, Failure> {
    let started = Instant::now();
    let socket = ep.connect(started)?;
    let (what, who, why) = (utf8(what)?, utf8(who)?, utf8(why)?);
    let mut conn = ep.handshake(socket, started)?;
    let mut body = Body::new();
    body.str(what).str(who).str(why).str(mode);
    let reply = call(&mut conn, &logind("Inhibit"), &body, &[], started)?;
    let bad = |what: &str| Failure::BadReply {
        detail: format!("signature '{}', expected 'h': {what}", reply.signature),
    };
    if reply.signature != "h" {
        return Err(bad("another signature"));
    }
    let mut c = reply.cursor();
    let index = c.fd_index().and_then(|i| c.end().map(|()| i)).map_err(|e| bad(e.0))?;
    let fd = fd_at(&reply, index).map_err(|e| bad(e.0))?;
    dup_cloexec(fd)
}

/// A connection to the bus at `address` (a `;`-separated list, as for the module), connected
/// and authenticated within `timeout` (the doctor's).
pub fn open_bus(address: &str, timeout: std::time::Duration) -> Result<Connection, Failure> {
    let ep = Endpoint::new(address.to_owned(), Some(timeout));
    let started = Instant::now();
    let socket = ep.connect(started)?;
    ep.handshake(socket, started)
}

/// A string of a call, which sd-bus refuses to append unless it is UTF-8 (`EINVAL`).
fn utf8(b: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(b).map_err(|_| Failure::BuildMessage { errno: libc::EINVAL })
}

/// The reply's fd number `index`.
fn fd_at(reply: &bus::Reply, index: u32) -> Result<BorrowedFd<'_>, WireError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| reply.fds.get(i))
        .map(AsFd::as_fd)
        .ok_or(WireError("fd index beyond the fds sent"))
}

impl Endpoint {
    /// The socket connect: the first address of the list that accepts us. Transports other
    /// than `unix:` and `tcp:` are not supported: they fail like a refused connect, and the
    /// failure names them.
    fn connect(&self, started: Instant) -> Result<OwnedFd, Failure> {
        let deadline = self.deadline(started);
        let mut errno = libc::ECONNREFUSED;
        let mut unsupported: Vec<&str> = Vec::new();
        let targets = address::parse_list(&self.bus);
        for target in &targets {
            let r = match target {
                Target::Path(p) => address::connect_unix(p, false, deadline).map(OwnedFd::from),
                Target::Abstract(p) => address::connect_unix(p, true, deadline).map(OwnedFd::from),
                Target::Tcp { host, port, family } => address::connect_tcp(host, *port, *family, deadline),
                Target::Other(a) => {
                    unsupported.push(a.split(':').next().unwrap_or_default());
                    Err(libc::EPROTONOSUPPORT)
                }
            };
            match r {
                Ok(s) => return Ok(s),
                Err(e) => errno = e,
            }
        }
        let detail = if unsupported.is_empty() {
            String::new()
        } else {
            format!("transport not supported: {}", unsupported.join(", "))
        };
        Err(Failure::Connect {
            errno,
            detail,
            elapsed: started.elapsed(),
        })
    }

    /// Authenticates on `socket` and says Hello, within what is left of the deadline. Like
    /// sd-bus, whatever goes wrong after the socket connect counts as a failure of the call.
    fn handshake(&self, socket: OwnedFd, started: Instant) -> Result<Connection, Failure> {
        Connection::open(socket, self.deadline(started)).map_err(|e| call_failure(e, started))
    }
}

/// A failed call (or handshake), as the module reports it (names and texts as sd-bus reads them).
fn call_failure(e: bus::Error, started: Instant) -> Failure {
    let elapsed = started.elapsed();
    let (name, message, detail) = match e {
        // sd-bus: -ETIMEDOUT, reported as org.freedesktop.DBus.Error.Timeout.
        bus::Error::Timeout => (Some(DBUS_TIMEOUT.to_owned()), strerror(libc::ETIMEDOUT), String::new()),
        bus::Error::Reply { name, message } => {
            let message = dbus_error::error_message(&name, message.as_deref());
            (Some(name), message, String::new())
        }
        other => (None, strerror(other.errno()), other.to_string()),
    };
    Failure::Call {
        name: name.map(ErrorName::Dbus),
        message,
        detail,
        elapsed,
    }
}

/// One call on `conn`; its failure as [`call_failure`] words it.
fn call(
    conn: &mut Connection,
    to: &Call<'_>,
    body: &Body,
    fds: &[BorrowedFd<'_>],
    started: Instant,
) -> Result<bus::Reply, Failure> {
    conn.call(to, body, fds).map_err(|e| call_failure(e, started))
}

/// The create conversation on one connection: the plan's attempts, in order. An error reply
/// that says the caller is already in a session is an answer ([`plan::settle`]).
fn converse_create(
    conn: &mut Connection,
    plan: &Plan<'_>,
    first: Attempt,
    props: &[(&'static str, PropValue)],
    attempts: &mut Vec<Attempt>,
    started: Instant,
) -> Result<Answer, Failure> {
    let mut attempt = first;
    loop {
        let req = plan
            .request(attempt.request)
            .ok_or(Failure::BuildMessage { errno: libc::EINVAL })?;
        let rules = attempt.request.rules();
        let pidfd = match attempt.via {
            // 257: an unexpected pidfd_open() errno fails the login ("Failed to create bus
            // message"), 262: any errno; 252 has no pidfd to lose, so under compat=252 the probe
            // just goes.
            Via::DbusPidfd if !rules.pidfd_failure_fatal => pidfd_self(true).or(Ok(None)),
            Via::DbusPidfd => pidfd_self(rules.pidfd_unsupported_fallback),
            // The Varlink transport's, never this one's; refused like a message sd-bus cannot build.
            Via::Varlink => Err(Failure::BuildMessage {
                errno: libc::EPROTONOSUPPORT,
            }),
            Via::Dbus => Ok(None),
        };
        if matches!(pidfd, Ok(None)) {
            attempt.via = Via::Dbus;
        }
        attempts.push(attempt);
        let pidfd = pidfd?;
        // Checked before a byte is sent, as sd-bus refuses to build such a message.
        let st = Utf8Request::new(req)?;
        let sent = match &pidfd {
            Some(pidfd) => {
                let body = create_body(req, &st, Some(0), props);
                call(
                    conn,
                    &logind("CreateSessionWithPIDFD"),
                    &body,
                    &[pidfd.as_fd()],
                    started,
                )
            }
            None => {
                let body = create_body(req, &st, None, props);
                call(conn, &logind("CreateSession"), &body, &[], started)
            }
        };
        let failure = match sent {
            Ok(reply) => return parse_reply(&reply, pidfd.is_some()).map(Answer::Session),
            Err(f) => f,
        };
        match plan.next(attempt, &failure) {
            Next::Send(a) if a.via != Via::Varlink => attempt = a,
            Next::Send(_) => return plan::settle(failure),
            Next::NoSession => return Ok(Answer::NoSession),
            Next::Stop => return plan::settle(failure),
        }
    }
}

/// The body of `CreateSessionWithPIDFD` (`uhsssssussbssta(sv)`, with the pidfd's index) or of
/// `CreateSession` (`uusssssussbssa(sv)`, leader 0).
fn create_body(
    req: &Request<'_>,
    st: &Utf8Request<'_>,
    pidfd: Option<u32>,
    props: &[(&'static str, PropValue)],
) -> Body {
    let mut b = Body::new();
    b.u32(req.uid);
    match pidfd {
        Some(index) => b.fd(index),
        None => b.u32(0),
    };
    b.str(st.service)
        .str(st.session_type)
        .str(st.class)
        .str(st.desktop)
        .str(st.seat)
        .u32(req.vtnr)
        .str(st.tty)
        .str(st.display)
        .bool(req.remote)
        .str(st.remote_user)
        .str(st.remote_host);
    if pidfd.is_some() {
        b.u64(0);
    }
    b.props(props);
    b
}

/// The request's strings, checked to be UTF-8.
pub struct Utf8Request<'a> {
    service: &'a str,
    session_type: &'a str,
    class: &'a str,
    desktop: &'a str,
    seat: &'a str,
    tty: &'a str,
    display: &'a str,
    remote_user: &'a str,
    remote_host: &'a str,
}

impl<'a> Utf8Request<'a> {
    /// sd-bus refuses strings that are not UTF-8 while building the message (EINVAL).
    fn new(req: &Request<'a>) -> Result<Self, Failure> {
        let utf8 = |b| std::str::from_utf8(b).map_err(|_| Failure::BuildMessage { errno: libc::EINVAL });
        Ok(Utf8Request {
            service: utf8(req.service)?,
            session_type: utf8(req.session_type)?,
            class: utf8(req.class)?,
            desktop: utf8(req.desktop)?,
            seat: utf8(req.seat)?,
            tty: utf8(req.tty)?,
            display: utf8(req.display)?,
            remote_user: utf8(req.remote_user)?,
            remote_host: utf8(req.remote_host)?,
        })
    }
}

/// Reads a `soshusub` reply. The fd is duplicated like the C module does
/// (`F_DUPFD_CLOEXEC`, ≥ 3); the reply's own copy closes with the reply. On the PIDFD path
/// (logind ≥ 255) only a FIFO is kept, as upstream does: newer logind sends a placeholder.
fn parse_reply(reply: &bus::Reply, pidfd_path: bool) -> Result<Reply, Failure> {
    let bad = |what: &str| Failure::BadReply {
        detail: format!("signature '{}', expected 'soshusub': {what}", reply.signature),
    };
    if reply.signature != "soshusub" {
        return Err(bad("another signature"));
    }
    let mut c = reply.cursor();
    let mut read = || -> Result<_, WireError> {
        let fields = (
            c.str()?,
            c.path()?,
            c.str()?,
            c.fd_index()?,
            c.u32()?,
            c.str()?,
            c.u32()?,
            c.bool()?,
        );
        c.end()?;
        Ok(fields)
    };
    let (id, path, runtime, index, uid, seat, vtnr, existing) = read().map_err(|e| bad(e.0))?;
    let fd = fd_at(reply, index).map_err(|e| bad(e.0))?;
    let keep = !pidfd_path || is_fifo(fd);
    let fd = if keep { Some(dup_cloexec(fd)?) } else { None };
    Ok(Reply {
        id: id.to_owned(),
        object_path: path.to_owned(),
        runtime_path: runtime.to_owned(),
        fd,
        uid,
        seat: seat.to_owned(),
        vtnr,
        existing,
    })
}

/// Reads a CreateSession reply from a whole received message and the fds that came with it,
/// as the module does (for fuzzing: any bytes, any fds). An error reply is a failed call.
pub fn decode_reply(msg: &[u8], fds: Vec<OwnedFd>) -> Result<Reply, Failure> {
    match bus::Reply::from_message(msg, fds) {
        Ok(reply) => parse_reply(&reply, false),
        Err(e @ bus::Error::Reply { .. }) => Err(call_failure(e, Instant::now())),
        Err(e) => Err(Failure::BadReply { detail: e.to_string() }),
    }
}

fn is_fifo(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: an all-zero stat is a valid out-parameter; fstat only writes it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer.
    let r = unsafe { libc::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd), &mut st) };
    r == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
}

fn dup_cloexec(fd: BorrowedFd<'_>) -> Result<OwnedFd, Failure> {
    // SAFETY: fcntl on a valid fd; F_DUPFD_CLOEXEC returns a new fd we then own.
    let n = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(Failure::DupFd { errno: errno() });
    }
    // SAFETY: `n` is a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// `pidfd_open(getpid(), 0)`; with `unsupported_fallback`, `Ok(None)` where pidfds are not
/// supported or not permitted (`ERRNO_IS_NOT_SUPPORTED`/`ERRNO_IS_PRIVILEGE`: then
/// CreateSession is used); an error for any other errno.
fn pidfd_self(unsupported_fallback: bool) -> Result<Option<OwnedFd>, Failure> {
    // SAFETY: plain syscalls with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd < 0 {
        let e = errno();
        return if unsupported_fallback && pidfd_unsupported(e) {
            Ok(None)
        } else {
            Err(Failure::BuildMessage { errno: e })
        };
    }
    let fd = i32::try_from(fd).map_err(|_| Failure::BuildMessage { errno: libc::EBADF })?;
    // SAFETY: a fresh fd (pidfd_open sets O_CLOEXEC) that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// The errnos after which pam_systemd 257 sends CreateSession instead.
pub fn pidfd_unsupported(e: i32) -> bool {
    [
        libc::EOPNOTSUPP,
        libc::ENOTTY,
        libc::ENOSYS,
        libc::EAFNOSUPPORT,
        libc::EPFNOSUPPORT,
        libc::EPROTONOSUPPORT,
        libc::ESOCKTNOSUPPORT,
        libc::ENOPROTOOPT,
        libc::EACCES,
        libc::EPERM,
    ]
    .contains(&e)
}

#[cfg(test)]
mod tests;
