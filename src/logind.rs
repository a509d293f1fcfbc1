//! The thin layer that talks to logind over the system bus (spec §3A steps 14–18, §4, §9).
//!
//! Every operation runs inside one `zbus::block_on` on the calling thread: connect
//! (SASL, Hello), the call(s), and the connection's drop all happen before it returns, so the
//! host process keeps the threads it had and no connection outlives the hook. One deadline
//! covers the whole operation (`timeout=`): a bus that accepts and never answers, or a logind
//! that never replies, ends the hook in time.

use std::cell::Cell;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use zbus::connection::Builder;
use zbus::{Connection, DBusError, Message};

use crate::context::Request;
use crate::parse::PropValue;

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
    Connect { errno: i32, detail: String, elapsed: Duration },
    /// A string argument is not valid UTF-8 (sd-bus: EINVAL while building the message).
    BuildMessage,
    /// The method call failed: a D-Bus error reply, a timeout, or a lost connection.
    Call { name: Option<String>, message: String, elapsed: Duration },
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
    /// `connected` runs once the bus connection is up, before the message is built (the C
    /// module's order: connect, debug lines, build); it returns the session properties.
    pub fn create_session(
        &self,
        req: &Request<'_>,
        connected: impl FnOnce(()) -> Vec<(&'static str, PropValue)>,
    ) -> Result<Reply, Failure> {
        let try_pidfd = self.try_pidfd;
        run(&self.bus, async |conn, started| {
            let props = connected(());
            create(conn, req, &props, try_pidfd, started).await
        })
    }

    /// ReleaseSession(id).
    pub fn release_session(&self, id: &[u8]) -> Result<(), Failure> {
        run(&self.bus, async |conn, started| {
            let id = std::str::from_utf8(id).map_err(|_| Failure::BuildMessage)?;
            call!(conn, "ReleaseSession", &(id,), started).map(drop)
        })
    }
}

/// Connects, runs `op`, and closes the connection, all under one deadline, on this thread.
fn run<T>(bus: &Bus, op: impl AsyncFnOnce(&Connection, Instant) -> Result<T, Failure>) -> Result<T, Failure> {
    let started = Instant::now();
    // Which phase a timeout interrupts decides how it is reported (connect or call failure).
    let connected = Cell::new(false);
    let work = async {
        let conn = connect(&bus.address, started).await?;
        connected.set(true);
        let result = op(&conn, started).await;
        // Close now, on this thread: nothing of the connection may outlive the hook.
        let _ = conn.close().await;
        result
    };
    zbus::block_on(async {
        let Some(timeout) = bus.timeout else {
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
        match runtime.timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) if connected.get() => Err(Failure::Call {
                name: Some("org.freedesktop.DBus.Error.NoReply".into()),
                message: "Method call timed out".into(),
                elapsed: started.elapsed(),
            }),
            Err(_) => Err(Failure::Connect {
                errno: libc::ETIMEDOUT,
                detail: String::new(),
                elapsed: started.elapsed(),
            }),
        }
    })
}

/// Connects to the first address of the `;`-separated list that accepts us.
async fn connect(addresses: &str, started: Instant) -> Result<Connection, Failure> {
    let mut last = Failure::Connect {
        errno: libc::EINVAL,
        detail: "no bus address".into(),
        elapsed: Duration::ZERO,
    };
    for address in addresses.split(';').filter(|a| !a.is_empty()) {
        match Builder::address(address).build().await {
            Ok(conn) => return Ok(conn),
            Err(e) => last = connect_failure(&e, started),
        }
    }
    Err(last)
}

fn connect_failure(e: &zbus::Error, started: Instant) -> Failure {
    let (errno, detail) = match e {
        zbus::Error::Connection(io, _) | zbus::Error::InputOutput(io) => {
            (io.raw_os_error().unwrap_or(libc::EIO), String::new())
        }
        zbus::Error::Address(_) => (libc::EINVAL, format!("invalid address: {e}")),
        zbus::Error::Handshake(h) => (libc::ECONNRESET, format!("handshake failed: {h}")),
        other => (libc::EIO, other.to_string()),
    };
    Failure::Connect { errno, detail, elapsed: started.elapsed() }
}

fn call_failure(e: zbus::Error, started: Instant) -> Failure {
    let elapsed = started.elapsed();
    match e {
        zbus::Error::MethodError(name, message, _) => Failure::Call {
            name: Some(name.to_string()),
            message: message.unwrap_or_default(),
            elapsed,
        },
        zbus::Error::FDO(fdo) => Failure::Call {
            name: Some(fdo.name().to_string()),
            message: fdo.description().unwrap_or_default().to_string(),
            elapsed,
        },
        zbus::Error::InputOutput(io) => Failure::Call {
            name: None,
            message: strerror(io.raw_os_error().unwrap_or(libc::EIO)),
            elapsed,
        },
        other => Failure::Call { name: None, message: other.to_string(), elapsed },
    }
}

const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";

async fn create(
    conn: &Connection,
    req: &Request<'_>,
    props: &[(&'static str, PropValue)],
    try_pidfd: bool,
    started: Instant,
) -> Result<Reply, Failure> {
    // sd-bus refuses strings that are not UTF-8 while building the message (EINVAL).
    let utf8 = |b| std::str::from_utf8(b).map_err(|_| Failure::BuildMessage);
    let st = Strings {
        service: utf8(req.service)?,
        session_type: utf8(req.session_type)?,
        class: utf8(req.class)?,
        desktop: utf8(req.desktop)?,
        seat: utf8(req.seat)?,
        tty: utf8(req.tty)?,
        display: utf8(req.display)?,
        remote_user: utf8(req.remote_user)?,
        remote_host: utf8(req.remote_host)?,
    };
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
struct Strings<'a> {
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

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// `strerror(errno)` text, as `%m` prints it.
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length; the XSI strerror_r NUL-terminates.
    let r = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return format!("Unknown error {errno}");
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned()
}
