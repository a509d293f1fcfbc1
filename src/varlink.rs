//! A small blocking Varlink client: what pam_systemd 262 does with sd-varlink
//! (`sd_varlink_connect_address()`, `sd_varlink_callbo()`, `src/libsystemd/sd-varlink/`,
//! `src/libsystemd/sd-json/json-stream.c`), written for one call per connection.
//!
//! * **Wire**: one JSON object per message, ended by a NUL byte, on an `AF_UNIX` stream socket.
//!   A call is `{"method":NAME,"parameters":{...}}` ([`Connection::call`]); its reply is
//!   `{"parameters":{...}}` or `{"error":NAME,"parameters":{...}}`.
//! * **One deadline** over connect, send and reply: the connect is non-blocking
//!   (`logind::address::connect_unix`), every wait is a `poll()` bounded by what is left of it. No thread,
//!   no runtime, no signal: `MSG_NOSIGNAL` on every send.
//! * **File descriptors** ride on the first byte of the call as `SCM_RIGHTS`; any the peer sends
//!   back are dropped by the kernel (we pass no control buffer when reading), as sd-varlink drops
//!   them when input fd passing is off.
//! * **The reply** is read up to its NUL byte, at most [`MAX_MESSAGE`] bytes, and checked as
//!   sd-varlink checks a reply to a call without `more` ([`read_reply`]): JSON by sd-json's rules
//!   (`crate::json`), an object whose only keys are `parameters` (an object or null), `error` (a
//!   string) and `continues` (a boolean, which must not be true), each at most once.
//! * **Errors** ([`Error`]) say which call, which socket, what failed, with which errno and after how
//!   long; [`Error::c_line`] is the C module's log text for it. An error reply's errno is
//!   `sd_varlink_error_to_errno()`'s ([`error_to_errno`]).
//!
//! The connection is closed when the [`Connection`] is dropped.
//!
//! `login` builds and reads the two io.systemd.Login calls the module makes.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::json::{self, Value};
use crate::logind::address::connect_unix;

mod errno;
pub mod login;

pub use errno::error_to_errno;

/// The largest message read, without its NUL. sd-varlink allows 16 MiB
/// (`JSON_STREAM_BUFFER_MAX_DEFAULT`); the replies this module asks for are a few hundred bytes,
/// and a parsed message holds up to ~24 bytes of heap per input byte (`tests/systemd_corpus.rs`
/// measures it), so inside sshd we stop at 1 MiB, and refuse more with sd-varlink's own error
/// for an overlong message (`ENOBUFS`).
pub const MAX_MESSAGE: usize = 1 << 20;

/// How much is read per `recv()`.
const READ_CHUNK: usize = 8192;

/// Which part of the exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `socket()` + `connect()`.
    Connect,
    /// Writing the call.
    Send,
    /// Waiting for, reading or checking the reply.
    Receive,
}

/// What went wrong, with the errno sd-varlink would report for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connect failed (`errno`): C falls back to D-Bus on this one only.
    Connect(i32),
    /// The deadline passed (sd-varlink: `ETIME`, "Connection timed out.").
    Timeout(Step),
    /// The peer closed the connection, or reset it, before a whole reply (sd-varlink:
    /// `ECONNRESET`, "Connection was closed.").
    Disconnected(Step),
    /// The reply grew beyond [`MAX_MESSAGE`] without its NUL (`ENOBUFS`).
    TooLarge,
    /// The reply is not a JSON object by sd-json's rules (`EINVAL`, `EUCLEAN`, `ELNRNG`).
    NotJson(json::Error),
    /// The reply is JSON but not a Varlink reply (a key other than parameters/error/continues,
    /// a key twice, a wrong type, `continues: true` on a call without `more`): sd-varlink closes
    /// the connection, so the call fails with `ECONNRESET`.
    Protocol(&'static str),
    /// A system call failed (`errno`).
    Os(Step, i32),
    /// The service answered with an error: its name and [`error_to_errno`]'s errno.
    Reply { name: String, errno: i32 },
    /// The reply's parameters are not what the method returns (`errno` as `sd_json_dispatch()`).
    BadParameters(i32),
    /// The call could not be written: a parameter sd-json refuses (`EUCLEAN`: not UTF-8).
    Encode(i32),
    /// `pidfd_open()` on ourselves failed other than for lack of resources (C 262:
    /// `Failed to acquire PID reference on ourselves: %m`).
    Pidref(i32),
}

impl Failure {
    /// The errno C's `%m` would print for this failure.
    pub fn errno(&self) -> i32 {
        match *self {
            Failure::Connect(e)
            | Failure::Os(_, e)
            | Failure::BadParameters(e)
            | Failure::Encode(e)
            | Failure::Pidref(e) => e,
            Failure::Reply { errno, .. } => errno,
            Failure::Timeout(_) => libc::ETIME,
            Failure::Disconnected(_) | Failure::Protocol(_) => libc::ECONNRESET,
            Failure::TooLarge => libc::ENOBUFS,
            Failure::NotJson(json::Error::Syntax) => libc::EINVAL,
            Failure::NotJson(json::Error::NonCharacter) => libc::EUCLEAN,
            Failure::NotJson(json::Error::TooDeep) => libc::ELNRNG,
        }
    }

    /// Words for our log line (C's line has only the errno text).
    fn detail(&self) -> String {
        match self {
            Failure::Connect(e) => format!("connect: {}", crate::sys::strerror(*e)),
            Failure::Timeout(step) => format!("no {} before the deadline", step_words(*step)),
            Failure::Disconnected(step) => format!("peer closed the connection during {}", step_words(*step)),
            Failure::TooLarge => format!("reply longer than {MAX_MESSAGE} bytes"),
            Failure::NotJson(e) => format!("reply is not a JSON object ({e:?})"),
            Failure::Protocol(why) => format!("not a Varlink reply: {why}"),
            Failure::Os(step, e) => format!("{}: {}", step_words(*step), crate::sys::strerror(*e)),
            Failure::Reply { name, errno } => format!("error {name} ({})", crate::sys::strerror(*errno)),
            Failure::BadParameters(e) => format!("reply parameters: {}", crate::sys::strerror(*e)),
            Failure::Encode(_) => "a parameter is not valid UTF-8".to_owned(),
            Failure::Pidref(e) => format!("pidfd_open of our own process: {}", crate::sys::strerror(*e)),
        }
    }
}

fn step_words(step: Step) -> &'static str {
    match step {
        Step::Connect => "connect",
        Step::Send => "send",
        Step::Receive => "reply",
    }
}

/// A failed call: which method on which socket, what failed, and after how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The full method name, e.g. `io.systemd.Login.CreateSession`.
    pub method: String,
    /// The socket path, as given (lossy UTF-8).
    pub socket: String,
    /// From the start of the connect to the failure.
    pub elapsed: Duration,
    pub failure: Failure,
}

impl Error {
    /// The errno C's `%m` prints for this error.
    pub fn errno(&self) -> i32 {
        self.failure.errno()
    }

    /// Whether C goes on with D-Bus after this error: only when the connect itself failed.
    pub fn falls_back(&self) -> bool {
        matches!(self.failure, Failure::Connect(_))
    }

    /// The C module's log line for this error (pam_systemd.c 262, `register_session()` and
    /// `pam_sm_close_session()`); the method's short name (`CreateSession`) names the reply.
    /// C logs the connect failure at debug level only (it goes on with D-Bus), the others at
    /// `LOG_ERR`.
    pub fn c_line(&self) -> String {
        let short = self.method.rsplit('.').next().unwrap_or(&self.method);
        let m = crate::sys::strerror(self.errno());
        match &self.failure {
            Failure::Connect(_) => format!("Failed to connect to logind via Varlink, falling back to D-Bus: {m}"),
            Failure::Reply { name, .. } => format!("Varlink call {} failed: {name}", self.method),
            Failure::BadParameters(_) => format!("Failed to parse {short}() reply: {m}"),
            Failure::Pidref(_) => format!("Failed to acquire PID reference on ourselves: {m}"),
            _ => format!("Failed to issue {} varlink call: {m}", self.method),
        }
    }

    /// `errno_to_pam_error()`: what the C module returns after logging this error
    /// (`PAM_BUF_ERR` for ENOMEM, else `PAM_SERVICE_ERR`). A connect failure is not returned:
    /// C goes on with D-Bus.
    pub fn pam_code(&self) -> std::ffi::c_int {
        if self.errno() == libc::ENOMEM {
            crate::ffi::PAM_BUF_ERR
        } else {
            crate::ffi::PAM_SERVICE_ERR
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (socket {}, {}, after {} ms)",
            self.c_line(),
            self.socket,
            self.failure.detail(),
            self.elapsed.as_millis()
        )
    }
}

/// A reply that passed sd-varlink's checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The `error` member: the error's name.
    pub error: Option<String>,
    /// The `parameters` member: None when absent, `Some(Value::Null)` when null, else an object.
    pub parameters: Option<Value>,
}

/// Reads one reply message (the bytes before its NUL) as sd-varlink does for a call made without
/// `more`: `sd_json_parse(SD_JSON_PARSE_MUST_BE_OBJECT)` + `varlink_dispatch_reply()`.
pub fn read_reply(message: &[u8]) -> Result<Reply, Failure> {
    let v = json::parse(message).map_err(Failure::NotJson)?;
    let Value::Object(members) = v else {
        return Err(Failure::NotJson(json::Error::Syntax));
    };
    let mut error = None;
    let mut parameters = None;
    let mut continues = None;
    for (k, v) in members {
        match k.as_slice() {
            b"error" => {
                if error.is_some() {
                    return Err(Failure::Protocol("error twice"));
                }
                let Value::Str(name) = v else {
                    return Err(Failure::Protocol("error is not a string"));
                };
                error = Some(String::from_utf8_lossy(&name).into_owned());
            }
            b"parameters" => {
                if parameters.is_some() {
                    return Err(Failure::Protocol("parameters twice"));
                }
                if !matches!(v, Value::Object(_) | Value::Null) {
                    return Err(Failure::Protocol("parameters is neither an object nor null"));
                }
                parameters = Some(v);
            }
            b"continues" => {
                // sd-varlink only refuses a second `continues` once one said true.
                if continues == Some(true) {
                    return Err(Failure::Protocol("continues twice"));
                }
                let Value::Bool(b) = v else {
                    return Err(Failure::Protocol("continues is not a boolean"));
                };
                continues = Some(b);
            }
            _ => return Err(Failure::Protocol("unknown key")),
        }
    }
    if continues == Some(true) {
        return Err(Failure::Protocol("continues on a call without more"));
    }
    Ok(Reply { error, parameters })
}

/// The call message: `{"method":NAME,"parameters":PARAMETERS}` and its NUL. `parameters` is a
/// JSON object as `crate::json` writes it; an empty one is left out, as sd-varlink does.
pub fn call_message(method: &str, parameters: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(parameters.len() + method.len() + 32);
    m.push(b'{');
    json::push_str(&mut m, "method", method.as_bytes());
    if parameters != b"{}" {
        json::push_key(&mut m, "parameters");
        m.extend_from_slice(parameters);
    }
    m.push(b'}');
    m.push(0);
    m
}

/// One connection to a Varlink service, good for one call; closed on drop.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    socket: String,
    deadline: Option<Instant>,
    started: Instant,
}

impl Connection {
    /// Connects to the `AF_UNIX` socket at `path` (non-blocking, bounded by `deadline`). The
    /// same deadline then bounds the call. On failure the error's method is `method`, the call
    /// this connection was for.
    pub fn connect(path: &[u8], deadline: Option<Instant>, method: &str) -> Result<Connection, Error> {
        let started = Instant::now();
        let socket = String::from_utf8_lossy(path).into_owned();
        match connect_unix(path, false, deadline) {
            Ok(stream) => Ok(Connection {
                stream,
                socket,
                deadline,
                started,
            }),
            Err(e) => Err(Error {
                method: method.to_owned(),
                socket,
                elapsed: started.elapsed(),
                failure: match e {
                    // Not an AF_UNIX outcome (its connect never is in progress), but bounded.
                    libc::ETIMEDOUT => Failure::Timeout(Step::Connect),
                    // A full listen backlog: sd-varlink takes EAGAIN as "connect in progress",
                    // keeps the socket, and the call then fails on the unconnected socket
                    // (json-stream.c: POLLHUP, then ENOTCONN on send, "Connection was closed"):
                    // so no D-Bus fallback here, as in C.
                    libc::EAGAIN => Failure::Disconnected(Step::Connect),
                    e => Failure::Connect(e),
                },
            }),
        }
    }

    /// The connection, now bounded by `deadline` and reporting the time from now (kept open
    /// from an earlier step of the same hook, to be used for its one call).
    pub fn rebound(mut self, deadline: Option<Instant>) -> Connection {
        self.deadline = deadline;
        self.started = Instant::now();
        self
    }

    /// Sends `method` with `parameters` (a JSON object, see `call_message`) and `fds` (as
    /// `SCM_RIGHTS` on the first byte), then reads and checks the reply. An error reply is an
    /// `Ok` [`Reply`] with `error` set: what it means is the caller's business (C maps some
    /// error names to success).
    pub fn call(&mut self, method: &str, parameters: &[u8], fds: &[BorrowedFd<'_>]) -> Result<Reply, Error> {
        let message = call_message(method, parameters);
        self.send(&message, fds)
            .and_then(|()| self.receive())
            .and_then(|m| read_reply(&m))
            .map_err(|failure| self.error(method, failure))
    }

    /// An `Error` for `failure` during this connection's call of `method`.
    pub fn error(&self, method: &str, failure: Failure) -> Error {
        Error {
            method: method.to_owned(),
            socket: self.socket.clone(),
            elapsed: self.started.elapsed(),
            failure,
        }
    }

    /// Waits for `events` on the socket until the deadline: Ok(revents), or Timeout.
    fn wait(&self, events: libc::c_short, step: Step) -> Result<libc::c_short, Failure> {
        crate::sys::poll_until(self.stream.as_fd(), events, self.deadline).map_err(|e| match e {
            crate::sys::PollError::Timeout => Failure::Timeout(step),
            crate::sys::PollError::Os(e) => Failure::Os(step, e),
        })
    }

    /// Writes the whole message; `fds` go with the first byte.
    fn send(&mut self, message: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), Failure> {
        let mut sent = 0;
        let mut fds_pending = !fds.is_empty();
        while let Some(rest) = message.get(sent..).filter(|r| !r.is_empty()) {
            let n = send_some(self.stream.as_fd(), rest, if fds_pending { fds } else { &[] });
            match n {
                Ok(0) => {
                    // Nothing taken (not expected on a stream socket): wait, within the deadline.
                    self.wait(libc::POLLOUT, Step::Send)?;
                }
                Ok(n) => {
                    sent += n;
                    fds_pending = false;
                }
                Err(libc::EINTR) => {}
                Err(libc::EAGAIN) => {
                    self.wait(libc::POLLOUT, Step::Send)?;
                }
                Err(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN) => {
                    return Err(Failure::Disconnected(Step::Send));
                }
                Err(e) => return Err(Failure::Os(Step::Send, e)),
            }
        }
        Ok(())
    }

    /// Reads up to the first NUL byte (bytes after it are dropped: one call per connection).
    fn receive(&mut self) -> Result<Vec<u8>, Failure> {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            if buf.len() > MAX_MESSAGE {
                return Err(Failure::TooLarge);
            }
            let start = buf.len();
            let want = READ_CHUNK.min(MAX_MESSAGE + 1 - start);
            // Read into the spare capacity (not zeroed first: the kernel writes what it returns).
            buf.reserve(want);
            let space = buf.spare_capacity_mut();
            let want = want.min(space.len());
            // SAFETY: `space` is valid for writes of at least `want` bytes; the fd is open (owned
            // by self).
            let r = unsafe {
                libc::recv(
                    self.stream.as_raw_fd(),
                    space.as_mut_ptr().cast(),
                    want,
                    libc::MSG_DONTWAIT,
                )
            };
            if r < 0 {
                match crate::sys::errno() {
                    libc::EINTR => {}
                    libc::EAGAIN => {
                        self.wait(libc::POLLIN, Step::Receive)?;
                    }
                    libc::ECONNRESET | libc::EPIPE | libc::ENOTCONN => {
                        return Err(Failure::Disconnected(Step::Receive));
                    }
                    e => return Err(Failure::Os(Step::Receive, e)),
                }
                continue;
            }
            let n = r.unsigned_abs().min(want);
            // SAFETY: recv() initialized the first `n` bytes of the spare capacity (n <= want,
            // which fits in it).
            unsafe { buf.set_len(start + n) };
            if n == 0 {
                return Err(Failure::Disconnected(Step::Receive));
            }
            let fresh = buf.get(start..).unwrap_or_default();
            if let Some(i) = fresh.iter().position(|&b| b == 0) {
                buf.truncate(start + i);
                if buf.len() > MAX_MESSAGE {
                    return Err(Failure::TooLarge);
                }
                return Ok(buf);
            }
        }
    }
}

/// One non-blocking write of (a first part of) `data` on the connected socket `sock`, with
/// `fds` as `SCM_RIGHTS` when there are any; never SIGPIPE. The bytes sent, or the errno. Both
/// clients (Varlink, D-Bus) send through it.
pub(crate) fn send_some(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, i32> {
    if !fds.is_empty() {
        return send_with_fds(sock.as_raw_fd(), data, fds);
    }
    // SAFETY: `data` is valid for reads of its length; `sock` is an open fd for the call.
    let r = unsafe {
        libc::send(
            sock.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        Err(crate::sys::errno())
    } else {
        Ok(r.unsigned_abs())
    }
}

/// One `sendmsg()` of `data` with `fds` as `SCM_RIGHTS`: the bytes sent, or the errno.
pub(crate) fn send_with_fds(sock: libc::c_int, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, i32> {
    let raw: Vec<libc::c_int> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let payload = std::mem::size_of_val(raw.as_slice());
    let payload_u32 = u32::try_from(payload).map_err(|_| libc::EINVAL)?;
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(payload_u32) } as usize;
    // u64 elements: the control buffer must be aligned for cmsghdr.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr().cast_mut().cast(),
        iov_len: data.len(),
    };
    // SAFETY: an all-zero msghdr is valid (no name, no iov, no control yet).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points to `space` writable, aligned bytes, enough for one header.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    if cmsg.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: `cmsg` points into `control`, which has room for the header and `payload` bytes
    // (CMSG_SPACE above); the copy writes exactly `payload` bytes from `raw`.
    unsafe {
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(payload_u32) as _;
        std::ptr::copy_nonoverlapping(raw.as_ptr().cast::<u8>(), libc::CMSG_DATA(cmsg), payload);
    }
    // SAFETY: `msg` points to live iov/control buffers for the duration of the call; `data` is
    // only read (iov_base is a *mut by the C type only).
    let r = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) };
    if r < 0 {
        Err(crate::sys::errno())
    } else {
        Ok(r.unsigned_abs())
    }
}

#[cfg(test)]
pub(crate) mod tests;
