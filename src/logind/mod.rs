//! The thin layer that talks to logind over the system bus (behaviour.md: open steps 14–18,
//! "Close", "The system bus"), and the [`Plan`] that decides, from logind's answers, which
//! generation's request it gets.
//!
//! Every operation runs inside one `zbus::block_on` on the calling thread: connect
//! (SASL, Hello), the call(s), and the connection's drop all happen before it returns, so the
//! host process keeps the threads it had and no connection outlives the hook. One deadline
//! covers the whole operation (`timeout=`): a bus that accepts and never answers, or a logind
//! that never replies, ends the hook in time.

use std::future::Future;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use zbus::connection::Builder;
use zbus::{Connection, DBusError, Message};

use crate::address::{self, Target};
use crate::context::{Generation, Request};
use crate::limits::PropValue;
pub use crate::sys::{errno, strerror};

/// sd-bus's default when `$DBUS_SYSTEM_BUS_ADDRESS` is unset (or ignored).
pub const DEFAULT_SYSTEM_BUS_ADDRESS: &str = "unix:path=/run/dbus/system_bus_socket";

const DESTINATION: &str = "org.freedesktop.login1";
const PATH: &str = "/org/freedesktop/login1";
const INTERFACE: &str = "org.freedesktop.login1.Manager";

/// What logind answered to CreateSession (`soshusub`).
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

/// How a bus operation failed. The session layer turns each into its PAM code and log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection to the bus could be made (or authenticated) in time.
    Connect {
        errno: i32,
        detail: String,
        elapsed: Duration,
    },
    /// The message could not be built: a string that is not UTF-8 (sd-bus: EINVAL), or
    /// `pidfd_open()` failing with an unexpected errno.
    BuildMessage { errno: i32 },
    /// The method call failed: a D-Bus error reply, a timeout, or a lost connection.
    Call {
        name: Option<String>,
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
    pub fn is_named(&self, wanted: &str) -> bool {
        matches!(self, Failure::Call { name: Some(n), .. } if n == wanted)
    }
}

/// Where and how long: what every bus operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The D-Bus address (possibly several, `;`-separated, tried in order like sd-bus).
    pub address: String,
    /// One deadline over connect and call; `None`: wait for ever.
    pub timeout: Option<Duration>,
}

/// A method call on logind's Manager object; D-Bus errors become `Failure::Call`.
macro_rules! call {
    ($conn:expr, $method:literal, $body:expr, $started:expr) => {
        $conn
            .call_method(Some(DESTINATION), PATH, Some(INTERFACE), $method, $body)
            .await
            .map_err(|e| call_failure(e, $started))
    };
}

/// `org.freedesktop.DBus.Error.UnknownMethod`: what logind < 255 answers CreateSessionWithPIDFD.
pub const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";
/// `org.freedesktop.DBus.Error.InvalidArgs`: among others, an unknown session class.
pub const INVALID_ARGS: &str = "org.freedesktop.DBus.Error.InvalidArgs";

/// Which method a create attempt calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `CreateSessionWithPIDFD` (`uhsssssussbssta(sv)`, logind ≥ 255).
    WithPidfd,
    /// `CreateSession` (`uusssssussbssa(sv)`, leader 0).
    Classic,
}

/// One CreateSession* call: the method, and which generation's request it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub method: Method,
    pub request: Generation,
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

/// How the requests of a login are sent: which generation's request goes first and how an
/// older logind's refusals are answered (README "Beyond upstream"):
/// * pinned to 257 (`compat=257`): as pam_systemd 257: CreateSessionWithPIDFD, then
///   CreateSession on exactly UnknownMethod, nothing else;
/// * pinned to 252 (`compat=252`): the 252 request, with the PIDFD probe first;
/// * decided by logind (no `compat=`): the 257 request with CreateSessionWithPIDFD; on
///   UnknownMethod (logind < 255) the 252 request with CreateSession; on `Invalid session class
///   X`, where X is the 257 request's class and differs from the 252 one (so a 257 rule chose
///   it, never the admin), once more with the 252 request. Where the 252 outcome is "no
///   session" (the `systemd-user` stack), no second call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'r> {
    /// `None`: decided by logind's answers.
    pub pinned: Option<Generation>,
    /// The 257 request (not sent when pinned to 252).
    pub v257: Request<'r>,
    /// The 252 request; `None` where 252 registers no session (`systemd-user`).
    pub v252: Option<Request<'r>>,
}

impl<'r> Plan<'r> {
    /// The first call.
    pub fn first(&self) -> Attempt {
        Attempt {
            method: Method::WithPidfd,
            request: self.pinned.unwrap_or(Generation::V257),
        }
    }

    /// The request an attempt carries.
    pub fn request(&self, g: Generation) -> Option<&Request<'r>> {
        match g {
            Generation::V257 => Some(&self.v257),
            Generation::V252 => self.v252.as_ref(),
        }
    }

    /// The call after `done` failed with `failure`.
    pub fn next(&self, done: Attempt, failure: &Failure) -> Next {
        let unknown_method = done.method == Method::WithPidfd && failure.is_named(UNKNOWN_METHOD);
        match self.pinned {
            Some(request) if unknown_method => Next::Send(Attempt {
                method: Method::Classic,
                request,
            }),
            Some(_) => Next::Stop,
            None if done.request == Generation::V257 => {
                let legacy = |method| match self.v252 {
                    Some(_) => Next::Send(Attempt {
                        method,
                        request: Generation::V252,
                    }),
                    None => Next::NoSession,
                };
                if unknown_method {
                    legacy(Method::Classic)
                } else if self.class_refused(failure) {
                    legacy(done.method)
                } else {
                    Next::Stop
                }
            }
            None => Next::Stop,
        }
    }

    /// `InvalidArgs "Invalid session class X"` for the class a 257 rule chose.
    fn class_refused(&self, failure: &Failure) -> bool {
        let Failure::Call {
            name: Some(name),
            message,
            ..
        } = failure
        else {
            return false;
        };
        let chosen_by_257 = self.v252.as_ref().is_none_or(|r| r.class != self.v257.class);
        name == INVALID_ARGS
            && chosen_by_257
            && message
                .strip_prefix("Invalid session class ")
                .is_some_and(|c| c.as_bytes() == self.v257.class)
    }

    /// The generation whose rules logind's answers put in force, if they tell: the pinned one;
    /// 252 once a 252 request was sent (or 252's "no session" chosen); 257 when logind took or
    /// refused (itself, not the bus) a CreateSessionWithPIDFD. `None` when nothing logind said
    /// tells (no connection, the bus answered instead of logind, a message never built).
    pub fn answered(&self, attempts: &[Attempt], result: &Result<Answer, Failure>) -> Option<Generation> {
        if let Some(g) = self.pinned {
            return Some(g);
        }
        if matches!(result, Ok(Answer::NoSession)) || attempts.iter().any(|a| a.request == Generation::V252) {
            return Some(Generation::V252);
        }
        let pidfd = attempts.first().is_some_and(|a| a.method == Method::WithPidfd);
        match result {
            Ok(Answer::Session(_)) => Some(Generation::V257),
            Err(f) if pidfd && from_logind(f) => Some(Generation::V257),
            _ => None,
        }
    }
}

/// Whether an error reply is logind's own (or PID 1's, which logind passes on), as opposed to
/// the bus daemon's (no such service, spawn failures, timeouts, disconnects).
fn from_logind(f: &Failure) -> bool {
    match f {
        Failure::Call { name: Some(n), .. } => {
            n.starts_with("org.freedesktop.login1.") || n.starts_with("org.freedesktop.systemd1.") || n == INVALID_ARGS
        }
        _ => false,
    }
}

/// What a create conversation came to.
#[derive(Debug)]
pub enum Answer {
    /// logind created (or found) the session.
    Session(Reply),
    /// The 252 outcome for the `systemd-user` stack: no session.
    NoSession,
}

/// A create conversation: the attempts made, in order, and how it ended.
#[derive(Debug)]
pub struct Created {
    pub attempts: Vec<Attempt>,
    pub result: Result<Answer, Failure>,
    /// On a failing login only: the line naming why (PID 1 asked on the same connection,
    /// within the same deadline; `inquiry::after_create`).
    pub why: Option<String>,
}

/// What the session story asks of logind.
pub trait Logind {
    /// Connects, then follows `plan` (one call per attempt, all on one connection), and closes
    /// the connection before returning. `props` are the session limits every attempt carries.
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, props: &[(&'static str, PropValue)]) -> Created;
    /// ReleaseSession(id).
    fn release_session(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure>;
}

/// The real thing: a fresh connection per operation, closed before returning.
pub struct SystemBus;

impl Logind for SystemBus {
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, props: &[(&'static str, PropValue)]) -> Created {
        let started = Instant::now();
        let mut attempts = Vec::new();
        let mut why = None;
        let result = match ep.connect(started) {
            Ok(socket) => ep.converse(socket, started, async |conn| {
                let r = converse_create(conn, plan, props, &mut attempts, started).await;
                why = crate::inquiry::after_create(conn, plan.v257.uid, &r, ep.deadline(started)).await;
                r
            }),
            Err(f) => Err(f),
        };
        Created { attempts, result, why }
    }

    fn release_session(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure> {
        let started = Instant::now();
        let socket = ep.connect(started)?;
        let id = std::str::from_utf8(id).map_err(|_| Failure::BuildMessage { errno: libc::EINVAL })?;
        ep.converse(socket, started, async |conn| {
            call!(conn, "ReleaseSession", &(id,), started).map(drop)
        })
    }
}

/// A connected socket, not yet authenticated.
enum Socket {
    Unix(std::os::unix::net::UnixStream),
    /// A transport other than `unix:`, which zbus connects itself.
    Other(String),
}

impl Endpoint {
    fn deadline(&self, started: Instant) -> Option<Instant> {
        self.timeout.and_then(|t| started.checked_add(t))
    }

    /// The socket connect: the first address of the list that accepts us.
    fn connect(&self, started: Instant) -> Result<Socket, Failure> {
        let deadline = self.deadline(started);
        let mut errno = libc::ECONNREFUSED;
        for target in address::parse_list(&self.address) {
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
                    name: Some("org.freedesktop.DBus.Error.Timeout".into()),
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

pub(crate) fn call_failure(e: zbus::Error, started: Instant) -> Failure {
    let elapsed = started.elapsed();
    let (name, message) = match e {
        zbus::Error::MethodError(name, message, _) => {
            let name = name.to_string();
            let message = error_message(&name, message.as_deref());
            return Failure::Call {
                name: Some(name),
                message,
                detail: String::new(),
                elapsed,
            };
        }
        zbus::Error::FDO(fdo) => {
            let name = fdo.name().to_string();
            let message = error_message(&name, fdo.description());
            return Failure::Call {
                name: Some(name),
                message,
                detail: String::new(),
                elapsed,
            };
        }
        zbus::Error::InputOutput(io) => (None, strerror(io.raw_os_error().unwrap_or(libc::EIO))),
        other => (None, other.to_string()),
    };
    Failure::Call {
        name,
        message,
        detail: String::new(),
        elapsed,
    }
}

/// systemd's `bus_error_message()`: logind's text, except that AccessDenied always reads
/// "Access denied"; an error without a text reads as `strerror` of the errno sd-bus maps the
/// error name to.
pub fn error_message(name: &str, message: Option<&str>) -> String {
    if name == "org.freedesktop.DBus.Error.AccessDenied" {
        return "Access denied".into();
    }
    match message {
        Some(m) => m.to_owned(),
        None => strerror(errno_of_error_name(name)),
    }
}

/// sd-bus's table from D-Bus error names to errno values (bus-error.c), for the names a bus or
/// logind sends; anything else is EIO.
fn errno_of_error_name(name: &str) -> i32 {
    let Some(short) = name.strip_prefix("org.freedesktop.DBus.Error.") else {
        return libc::EIO;
    };
    match short {
        "Failed" | "AccessDenied" | "AuthFailed" | "InteractiveAuthorizationRequired" => libc::EACCES,
        "NoMemory" => libc::ENOMEM,
        "ServiceUnknown" => libc::EHOSTUNREACH,
        "NameHasNoOwner" => libc::ENXIO,
        "NoReply" | "Timeout" | "TimedOut" => libc::ETIMEDOUT,
        "IOError" => libc::EIO,
        "BadAddress" => libc::EADDRNOTAVAIL,
        "NotSupported" => libc::EOPNOTSUPP,
        "LimitsExceeded" => libc::ENOBUFS,
        "NoServer" => libc::EHOSTDOWN,
        "NoNetwork" => libc::ENONET,
        "AddressInUse" => libc::EADDRINUSE,
        "Disconnected" => libc::ECONNRESET,
        "InvalidArgs" | "InvalidSignature" | "MatchRuleInvalid" | "InvalidFileContent" => libc::EINVAL,
        "FileNotFound" | "MatchRuleNotFound" => libc::ENOENT,
        "FileExists" => libc::EEXIST,
        "UnknownMethod" | "UnknownObject" | "UnknownInterface" | "UnknownProperty" => libc::EBADR,
        "PropertyReadOnly" => libc::EROFS,
        "UnixProcessIdUnknown" | "SELinuxSecurityContextUnknown" => libc::ESRCH,
        "InconsistentMessage" => libc::EBADMSG,
        "ObjectPathInUse" => libc::EBUSY,
        _ => libc::EIO,
    }
}

/// The create conversation on one connection: the plan's attempts, in order.
async fn converse_create(
    conn: &Connection,
    plan: &Plan<'_>,
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
    let mut attempt = plan.first();
    loop {
        let req = plan
            .request(attempt.request)
            .ok_or(Failure::BuildMessage { errno: libc::EINVAL })?;
        let pidfd = match attempt.method {
            // 257: an unexpected pidfd_open() errno fails the login ("Failed to create bus
            // message"); 252 has no pidfd to lose, so under compat=252 the probe just goes.
            Method::WithPidfd if attempt.request == Generation::V252 => pidfd_self().or(Ok(None)),
            Method::WithPidfd => pidfd_self(),
            Method::Classic => Ok(None),
        };
        if matches!(pidfd, Ok(None)) {
            attempt.method = Method::Classic;
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
            Next::Send(a) => attempt = a,
            Next::NoSession => return Ok(Answer::NoSession),
            Next::Stop => return Err(failure),
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

/// `pidfd_open(getpid(), 0)`; `Ok(None)` where pidfds are not supported or not permitted
/// (`ERRNO_IS_NOT_SUPPORTED`/`ERRNO_IS_PRIVILEGE`: then CreateSession is used), an error for
/// any other errno.
fn pidfd_self() -> Result<Option<OwnedFd>, Failure> {
    // SAFETY: plain syscalls with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd < 0 {
        let e = errno();
        return if pidfd_unsupported(e) {
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
