//! The thin layer that talks to logind over the system bus (spec §3A steps 14–18, §4, §9).
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
use crate::context::Request;
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
#[derive(Debug)]
pub enum Failure {
    /// No connection to the bus could be made (or authenticated) in time.
    Connect {
        errno: i32,
        detail: String,
        elapsed: Duration,
    },
    /// A string argument is not valid UTF-8 (sd-bus: EINVAL while building the message).
    BuildMessage,
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

/// Where and how long: what every bus operation needs.
#[derive(Debug, Clone)]
pub struct Bus {
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

/// The real thing: a fresh connection per operation, closed before returning.
pub struct SystemBus {
    pub bus: Bus,
    /// Try CreateSessionWithPIDFD (logind ≥ 255) before CreateSession.
    pub try_pidfd: bool,
}

impl SystemBus {
    /// CreateSessionWithPIDFD (when `try_pidfd`), falling back to CreateSession on exactly
    /// `org.freedesktop.DBus.Error.UnknownMethod`.
    ///
    /// `connected` runs once the socket is connected, before the message is built (the C
    /// module's order: connect, debug lines, build); it returns the session properties.
    ///
    /// On a failing login (see `inquiry::after_create`) it also asks PID 1 why, on the same
    /// connection and within the same deadline: the second value is the line naming the cause.
    pub fn create_session(
        &self,
        req: &Request<'_>,
        user: &[u8],
        connected: impl FnOnce() -> Vec<(&'static str, PropValue)>,
    ) -> (Result<Reply, Failure>, Option<String>) {
        let started = Instant::now();
        let socket = match self.bus.connect(started) {
            Ok(s) => s,
            Err(f) => return (Err(f), None),
        };
        let props = connected();
        // Checked before a byte is sent, as sd-bus refuses to build such a message.
        let strings = match Strings::new(req) {
            Ok(s) => s,
            Err(f) => return (Err(f), None),
        };
        let try_pidfd = self.try_pidfd;
        let deadline = self.bus.deadline(started);
        let outcome = self.bus.converse(socket, started, async |conn| {
            let created = create(conn, req, &strings, &props, try_pidfd, started).await;
            let why = crate::inquiry::after_create(conn, user, req.uid, &created, deadline).await;
            Ok((created, why))
        });
        match outcome {
            Ok(done) => done,
            Err(f) => (Err(f), None),
        }
    }

    /// ReleaseSession(id).
    pub fn release_session(&self, id: &[u8]) -> Result<(), Failure> {
        let started = Instant::now();
        let socket = self.bus.connect(started)?;
        let id = std::str::from_utf8(id).map_err(|_| Failure::BuildMessage)?;
        self.bus.converse(socket, started, async |conn| {
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

impl Bus {
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

/// How many scheduler turns [`Bus::converse`] lets the runtime have after the work is done.
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

const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";

async fn create(
    conn: &Connection,
    req: &Request<'_>,
    st: &Strings<'_>,
    props: &[(&'static str, PropValue)],
    try_pidfd: bool,
    started: Instant,
) -> Result<Reply, Failure> {
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

    if try_pidfd && let Some(pidfd) = pidfd_self() {
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
        match call!(conn, "CreateSessionWithPIDFD", &body, started) {
            Ok(msg) => return parse_reply(&msg, true),
            // logind < 255: fall back, silently, so that the log reads as the C module's.
            Err(Failure::Call { name: Some(n), .. }) if n == UNKNOWN_METHOD => {}
            Err(e) => return Err(e),
        }
    }

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
    let msg = call!(conn, "CreateSession", &body, started)?;
    parse_reply(&msg, false)
}

/// The request's strings, checked to be UTF-8.
pub struct Strings<'a> {
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

impl<'a> Strings<'a> {
    /// sd-bus refuses strings that are not UTF-8 while building the message (EINVAL).
    fn new(req: &Request<'a>) -> Result<Self, Failure> {
        let utf8 = |b| std::str::from_utf8(b).map_err(|_| Failure::BuildMessage);
        Ok(Strings {
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

/// `pidfd_open(getpid(), 0)`; `None` where the kernel has no pidfds (then CreateSession is used).
fn pidfd_self() -> Option<OwnedFd> {
    // SAFETY: plain syscalls with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    let fd = i32::try_from(fd).ok().filter(|&n| n >= 0)?;
    // SAFETY: a fresh fd (pidfd_open sets O_CLOEXEC) that nothing else owns.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
