//! The D-Bus transport: logind on the system bus (behaviour.md: open steps 14–18, "Close",
//! "The system bus"), and the fresh connection on which the diagnosis asks PID 1 why a login
//! failed.
//!
//! Every operation runs inside one `zbus::block_on` on the calling thread: connect
//! (SASL, Hello), the call(s), and the connection's drop all happen before it returns, so the
//! host process keeps the threads it had and no connection outlives the hook. One deadline
//! covers the whole operation (`timeout=`): a bus that accepts and never answers, or a logind
//! that never replies, ends the hook in time.

use std::future::Future;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use log::debug;
use zbus::connection::Builder;
use zbus::{Connection, Message};

use super::address::{self, Target};
use super::dbus_error;
use super::plan::{self, Answer, Attempt, DBUS_TIMEOUT, ErrorName, Failure, Next, Plan, Reply, Via};
use super::question::Question;
use super::{Endpoint, Explain, Transport};
use crate::context::Request;
use crate::diagnose::rule::{self as diagnose, Trigger};
use crate::limits::PropValue;
use crate::sys::{errno, strerror};

const DESTINATION: &str = "org.freedesktop.login1";
const PATH: &str = "/org/freedesktop/login1";
const INTERFACE: &str = "org.freedesktop.login1.Manager";

/// A method call on logind's Manager object; D-Bus errors become `Failure::Call`.
macro_rules! call {
    ($conn:expr, $method:literal, $body:expr, $started:expr) => {
        $conn
            .call_method(Some(DESTINATION), PATH, Some(INTERFACE), $method, $body)
            .await
            .map_err(|e| call_failure(e, $started))
    };
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
        ep.converse(socket, started, async |conn| {
            converse_create(conn, plan, first, props, attempts, started).await
        })
    }

    fn release(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure> {
        let started = Instant::now();
        let socket = ep.connect(started)?;
        let id = std::str::from_utf8(id).map_err(|_| Failure::BuildMessage { errno: libc::EINVAL })?;
        ep.converse(socket, started, async |conn| {
            call!(conn, "ReleaseSession", &(id,), started).map(drop)
        })
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
        let question = &self.question;
        let asked = ep
            .connect(started)
            .and_then(|socket| ep.converse(socket, started, async |conn| Ok(question.ask(conn, uid, trigger).await)));
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
/// as C does; the message's own copy closes with the message. Strings that are not UTF-8 fail
/// as sd-bus fails to build the message (`EINVAL`).
pub fn inhibit(ep: &Endpoint, what: &[u8], who: &[u8], why: &[u8], mode: &str) -> Result<OwnedFd, Failure> {
    let started = Instant::now();
    let socket = ep.connect(started)?;
    let utf8 = |b| std::str::from_utf8(b).map_err(|_| Failure::BuildMessage { errno: libc::EINVAL });
    let body = (utf8(what), utf8(who), utf8(why));
    ep.converse(socket, started, async |conn| {
        let body = (body.0?, body.1?, body.2?, mode);
        let msg = call!(conn, "Inhibit", &body, started)?;
        let b = msg.body();
        let (fd,): (zbus::Fd<'_>,) = b.deserialize().map_err(|e| Failure::BadReply {
            detail: format!("signature '{}', expected 'h': {e}", b.signature()),
        })?;
        dup_cloexec(fd.as_fd())
    })
}

/// A connected socket, not yet authenticated.
enum Socket {
    Unix(std::os::unix::net::UnixStream),
    /// A transport other than `unix:`, which zbus connects itself.
    Other(String),
}

impl Endpoint {
    /// The socket connect: the first address of the list that accepts us.
    fn connect(&self, started: Instant) -> Result<Socket, Failure> {
        let deadline = self.deadline(started);
        let mut errno = libc::ECONNREFUSED;
        for target in address::parse_list(&self.bus) {
            let r = match target {
                Target::Path(p) => address::connect_unix(&p, false, deadline),
                Target::Abstract(p) => address::connect_unix(&p, true, deadline),
                Target::Other(a) => return Ok(Socket::Other(a)),
            };
            match r {
                Ok(s) => return Ok(Socket::Unix(s)),
                Err(e) => errno = e,
            }
        }
        Err(Failure::Connect {
            errno,
            detail: String::new(),
            elapsed: started.elapsed(),
        })
    }

    /// Authenticates (SASL, Hello), runs `op` and closes the connection, all on this thread and
    /// within what is left of the deadline. Like sd-bus, whatever goes wrong after the socket
    /// connect counts as a failure of the call.
    fn converse<T>(
        &self,
        socket: Socket,
        started: Instant,
        op: impl AsyncFnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        zbus::block_on(async {
            let mut slot: Option<Connection> = None;
            let result = self
                .within_deadline(started, async {
                    let conn = match socket {
                        Socket::Unix(s) => Builder::unix_stream(s).build().await.map_err(|e| Failure::Call {
                            name: None,
                            message: strerror(libc::ENOTCONN),
                            detail: format!("handshake failed: {e}"),
                            elapsed: started.elapsed(),
                        })?,
                        Socket::Other(a) => Builder::address(a.as_str())
                            .build()
                            .await
                            .map_err(|e| connect_failure(&e, started))?,
                    };
                    op(slot.insert(conn)).await
                })
                .await;
            if let Some(conn) = slot.take() {
                close(conn).await;
            }
            // Give the runtime a few turns to finish what the connection's teardown left
            // (cancelled tasks, deregistrations): a runtime with work left when `block_on`
            // returns would hand it to a helper thread, and the hook must leave none.
            for _ in 0..SETTLE_TURNS {
                yield_now().await;
            }
            result
        })
    }

    async fn within_deadline<T>(
        &self,
        started: Instant,
        work: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        {
            let Some(deadline) = self.deadline(started) else {
                return work.await;
            };
            let runtime = match zruntime::SharedRuntime::current() {
                Ok(rt) => rt,
                Err(e) => {
                    return Err(Failure::Connect {
                        errno: e.raw_os_error().unwrap_or(libc::EIO),
                        detail: format!("no I/O reactor: {e}"),
                        elapsed: started.elapsed(),
                    });
                }
            };
            match runtime.timeout_at(deadline, work).await {
                Ok(result) => result,
                // sd-bus: -ETIMEDOUT, reported as org.freedesktop.DBus.Error.Timeout.
                Err(_) => Err(Failure::Call {
                    name: Some(ErrorName::Dbus(DBUS_TIMEOUT.into())),
                    message: strerror(libc::ETIMEDOUT),
                    detail: String::new(),
                    elapsed: started.elapsed(),
                }),
            }
        }
    }
}

/// Closes the connection on this thread and waits until zbus has let go of every part of it,
/// so that nothing is left for a helper thread after the hook. Bounded on its own, and its
/// outcome ignored: the call's result is already decided and must not turn into a timeout.
async fn close(conn: Connection) {
    let last = conn.clone();
    let teardown = async {
        let _ = conn.close().await;
        last.graceful_shutdown().await;
    };
    match zruntime::SharedRuntime::current() {
        Ok(rt) => {
            let _ = rt.timeout(TEARDOWN_LIMIT, teardown).await;
        }
        Err(_) => teardown.await,
    }
}

/// The most closing a connection may take (in practice it takes microseconds).
const TEARDOWN_LIMIT: Duration = Duration::from_millis(250);

/// How many scheduler turns [`Endpoint::converse`] lets the runtime have after the work is done.
const SETTLE_TURNS: usize = 8;

/// Returns `Pending` once (after asking to be polled again), so the runtime gets a turn.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}

/// A transport zbus connected itself failed before authenticating.
fn connect_failure(e: &zbus::Error, started: Instant) -> Failure {
    let (errno, detail) = match e {
        zbus::Error::Connection(io, _) | zbus::Error::InputOutput(io) => {
            (io.raw_os_error().unwrap_or(libc::EIO), String::new())
        }
        other => (libc::ECONNREFUSED, other.to_string()),
    };
    Failure::Connect {
        errno,
        detail,
        elapsed: started.elapsed(),
    }
}

/// A failed call, as the module reports it (names and texts as sd-bus reads them).
fn call_failure(e: zbus::Error, started: Instant) -> Failure {
    let elapsed = started.elapsed();
    let (name, message) = dbus_error::name_and_message(e);
    Failure::Call {
        name: name.map(ErrorName::Dbus),
        message,
        detail: String::new(),
        elapsed,
    }
}

/// The create conversation on one connection: the plan's attempts, in order. An error reply
/// that says the caller is already in a session is an answer ([`plan::settle`]).
async fn converse_create(
    conn: &Connection,
    plan: &Plan<'_>,
    first: Attempt,
    props: &[(&'static str, PropValue)],
    attempts: &mut Vec<Attempt>,
    started: Instant,
) -> Result<Answer, Failure> {
    let props: Vec<(&str, zbus::wire::Variant<'_>)> = props
        .iter()
        .map(|(k, v)| {
            let v = match *v {
                PropValue::U32(n) => zbus::wire::Variant::from(n),
                PropValue::U64(n) => zbus::wire::Variant::from(n),
            };
            (*k, v)
        })
        .collect();
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
                let body = (
                    req.uid,
                    zbus::Fd::from(pidfd.as_fd()),
                    st.service,
                    st.session_type,
                    st.class,
                    st.desktop,
                    st.seat,
                    req.vtnr,
                    st.tty,
                    st.display,
                    req.remote,
                    st.remote_user,
                    st.remote_host,
                    0u64,
                    &props,
                );
                call!(conn, "CreateSessionWithPIDFD", &body, started)
            }
            None => {
                let body = (
                    req.uid,
                    0u32,
                    st.service,
                    st.session_type,
                    st.class,
                    st.desktop,
                    st.seat,
                    req.vtnr,
                    st.tty,
                    st.display,
                    req.remote,
                    st.remote_user,
                    st.remote_host,
                    &props,
                );
                call!(conn, "CreateSession", &body, started)
            }
        };
        let failure = match sent {
            Ok(msg) => return parse_reply(&msg, pidfd.is_some()).map(Answer::Session),
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

type ReplyBody<'m> = (
    &'m str,
    zbus::wire::ObjectPath<'m>,
    &'m str,
    zbus::Fd<'m>,
    u32,
    &'m str,
    u32,
    bool,
);

/// Reads a `soshusub` reply. The fd is duplicated like the C module does
/// (`F_DUPFD_CLOEXEC`, ≥ 3); the message's own copy closes with the message. On the PIDFD path
/// (logind ≥ 255) only a FIFO is kept, as upstream does: newer logind sends a placeholder.
fn parse_reply(msg: &Message, pidfd_path: bool) -> Result<Reply, Failure> {
    let body = msg.body();
    let (id, path, runtime, fd, uid, seat, vtnr, existing): ReplyBody<'_> =
        body.deserialize().map_err(|e| Failure::BadReply {
            detail: format!("signature '{}', expected 'soshusub': {e}", body.signature()),
        })?;
    let fd = fd.as_fd();
    let keep = !pidfd_path || is_fifo(fd);
    let fd = if keep { Some(dup_cloexec(fd)?) } else { None };
    Ok(Reply {
        id: id.to_owned(),
        object_path: path.to_string(),
        runtime_path: runtime.to_owned(),
        fd,
        uid,
        seat: seat.to_owned(),
        vtnr,
        existing,
    })
}

/// Reads a CreateSession reply from an already-received message, as the module does
/// (for fuzzing: any message, any body).
pub fn decode_reply(msg: &Message) -> Result<Reply, Failure> {
    parse_reply(msg, false)
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
