//! A small blocking D-Bus client: what the module does with sd-bus (`sd_bus_open_system()`,
//! `sd_bus_call()`), written for a few calls on one short-lived connection.
//!
//! * **Authentication** as sd-bus's client does it, pipelined in one write: a NUL byte,
//!   `AUTH EXTERNAL <our effective uid in decimal, hex-encoded>`, on an `AF_UNIX` socket
//!   `NEGOTIATE_UNIX_FD`, then `BEGIN`; the bus must answer `OK <guid>` (then `AGREE_UNIX_FD`,
//!   or `ERROR` when it passes no fds). Then `Hello`, whose reply is awaited. Whatever fails
//!   before that reply is [`Error::Handshake`] (or [`Error::Timeout`]).
//! * **Calls** ([`Connection::call`]): little-endian method calls numbered from 1, fds as
//!   `SCM_RIGHTS` with the first byte; the reply is the METHOD_RETURN or ERROR whose reply serial
//!   is the call's. Anything else that arrives (signals such as `NameAcquired`, other replies) is
//!   read, checked and dropped, with its fds.
//! * **One deadline** over everything (connect included: the caller connects with it): every
//!   wait is a `poll()` bounded by what is left. No thread, no runtime, no signal
//!   (`MSG_NOSIGNAL`). The connection closes when the [`Connection`] is dropped, with every fd
//!   received and not handed out.
//! * **Limits**: messages as `wire` checks them (at most 128 MiB; the buffer only grows with the
//!   bytes that do arrive, read at most 16 KiB at a time into its spare capacity, never from a
//!   length the peer announced); fds lost to a short control buffer (`MSG_CTRUNC`) fail the call with
//!   `EXFULL`, as sd-bus's `recvmsg_safe()` does.

use std::collections::VecDeque;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Instant;

pub mod wire;

use wire::{Body, Call, Cursor, WireError};

/// How a call (or the handshake) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The deadline passed (sd-bus: `ETIMEDOUT`).
    Timeout,
    /// Authentication or `Hello` failed: what went wrong.
    Handshake(String),
    /// The peer closed or reset the connection (sd-bus: `ECONNRESET`).
    Disconnected,
    /// A system call failed with this errno.
    Os(i32),
    /// A message that is not D-Bus as sd-bus reads it (`EBADMSG`).
    Protocol(&'static str),
    /// fds came with a message but did not fit, or were lost (`EXFULL`).
    FdsLost,
    /// fds were to be sent, but the connection does not pass them (`EOPNOTSUPP`).
    NoFdPassing,
    /// An error reply: its name and its first argument, when that is a string.
    Reply { name: String, message: Option<String> },
}

impl Error {
    /// The errno sd-bus would report for this failure (an error reply: `EIO`, its name tells).
    pub fn errno(&self) -> i32 {
        match self {
            Error::Timeout => libc::ETIMEDOUT,
            Error::Handshake(_) => libc::ENOTCONN,
            Error::Disconnected => libc::ECONNRESET,
            Error::Os(e) => *e,
            Error::Protocol(_) => libc::EBADMSG,
            Error::FdsLost => libc::EXFULL,
            Error::NoFdPassing => libc::EOPNOTSUPP,
            Error::Reply { .. } => libc::EIO,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout => write!(f, "no answer before the deadline"),
            Error::Handshake(what) => write!(f, "handshake failed: {what}"),
            Error::Disconnected => write!(f, "the bus closed the connection"),
            Error::Os(e) => write!(f, "{}", crate::sys::strerror(*e)),
            Error::Protocol(what) => write!(f, "bad message from the bus: {what}"),
            Error::FdsLost => write!(f, "file descriptors sent with a message were lost (MSG_CTRUNC)"),
            Error::NoFdPassing => write!(f, "the connection cannot pass file descriptors"),
            Error::Reply { name, message } => match message {
                Some(m) => write!(f, "{name}: {m}"),
                None => write!(f, "{name}"),
            },
        }
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Error::Protocol(e.0)
    }
}

/// A method return: its body (with signature and byte order) and the fds that came with it.
#[derive(Debug)]
pub struct Reply {
    pub signature: String,
    pub big: bool,
    pub body: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

impl Reply {
    /// A reader of the body's arguments.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor::new(&self.body, self.big)
    }

    /// The reply read from a whole message and the fds received with it (which it owns, like
    /// [`Connection::call`]'s): a METHOD_RETURN is a reply, an ERROR is [`Error::Reply`].
    pub fn from_message(msg: &[u8], mut fds: Vec<OwnedFd>) -> Result<Reply, Error> {
        let h = wire::parse(msg)?;
        let n = usize::try_from(h.unix_fds).map_err(|_| Error::Protocol("fd count out of range"))?;
        if n > fds.len() {
            return Err(Error::Protocol("fewer fds than the message announces"));
        }
        fds.truncate(n);
        match h.kind {
            wire::METHOD_RETURN => Ok(Reply {
                signature: h.signature.to_owned(),
                big: h.big,
                body: h.body.to_vec(),
                fds,
            }),
            wire::ERROR => Err(error_reply(&h)),
            _ => Err(Error::Protocol("not a reply")),
        }
    }
}

/// An ERROR message as sd-bus reads it: the name, and the first argument if the body starts
/// with a string.
fn error_reply(h: &wire::Header<'_>) -> Error {
    let message = if h.signature.starts_with('s') {
        h.cursor().str().ok().map(str::to_owned)
    } else {
        None
    };
    Error::Reply {
        name: h.error_name.unwrap_or_default().to_owned(),
        message,
    }
}

/// The bus daemon: `Hello`'s destination, path and interface.
const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";

/// The most the authentication replies may take before `BEGIN`'s turn (sd-bus: a few KiB).
const MAX_AUTH_REPLY: usize = 16 * 1024;

/// How much is read per `recvmsg()`.
const READ_CHUNK: usize = 16 * 1024;

/// The most fds one `recvmsg()` takes (the kernel's `SCM_MAX_FD`).
const MAX_FDS_PER_READ: usize = 253;

/// One authenticated connection to a bus; closed on drop.
#[derive(Debug)]
pub struct Connection {
    fd: OwnedFd,
    deadline: Option<Instant>,
    serial: u32,
    can_fds: bool,
    input: Vec<u8>,
    fds: VecDeque<OwnedFd>,
}

impl Connection {
    /// Authenticates on the connected stream socket `fd` and says `Hello`, by `deadline`.
    pub fn open(fd: OwnedFd, deadline: Option<Instant>) -> Result<Connection, Error> {
        let unix = matches!(
            crate::sys::getsockopt::<libc::c_int>(fd.as_fd(), libc::SOL_SOCKET, libc::SO_DOMAIN),
            Ok(libc::AF_UNIX)
        );
        let mut conn = Connection {
            fd,
            deadline,
            serial: 0,
            can_fds: false,
            input: Vec::new(),
            fds: VecDeque::new(),
        };
        let handshake = |e: Error| match e {
            Error::Timeout | Error::Handshake(_) => e,
            other => Error::Handshake(other.to_string()),
        };
        conn.authenticate(unix).map_err(handshake)?;
        let hello = Call {
            destination: BUS,
            path: BUS_PATH,
            interface: BUS,
            member: "Hello",
        };
        conn.call(&hello, &Body::new(), &[]).map_err(|e| match e {
            Error::Reply { .. } => Error::Handshake(format!("Hello: {e}")),
            other => handshake(other),
        })?;
        Ok(conn)
    }

    /// Sets a new deadline for what follows.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Whether fds pass on this connection (the bus agreed to `NEGOTIATE_UNIX_FD`).
    pub fn can_pass_fds(&self) -> bool {
        self.can_fds
    }

    fn authenticate(&mut self, unix: bool) -> Result<(), Error> {
        // SAFETY: geteuid() cannot fail.
        let uid = unsafe { libc::geteuid() };
        let mut hello = Vec::with_capacity(64);
        hello.extend_from_slice(b"\0AUTH EXTERNAL ");
        // The uid's decimal digits, each as two hex digits ('0' is "30" ... '9' is "39").
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut rest = uid;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || at == 0 {
                break;
            }
        }
        for &d in digits.get(at..).unwrap_or_default() {
            hello.extend_from_slice(&[b'3', d]);
        }
        hello.extend_from_slice(b"\r\n");
        if unix {
            hello.extend_from_slice(b"NEGOTIATE_UNIX_FD\r\n");
        }
        hello.extend_from_slice(b"BEGIN\r\n");
        self.send(&hello, &[])?;
        let ok = self.auth_line()?;
        let guid = ok.strip_prefix(b"OK ").ok_or_else(|| auth_refused(&ok))?;
        if guid.len() != 32 || !guid.iter().all(u8::is_ascii_hexdigit) {
            return Err(Error::Handshake("the bus's OK has no valid GUID".into()));
        }
        if unix {
            let agree = self.auth_line()?;
            if agree == b"AGREE_UNIX_FD" {
                self.can_fds = true;
            } else if !agree.starts_with(b"ERROR") {
                return Err(auth_refused(&agree));
            }
        }
        Ok(())
    }

    /// The next line of the bus's authentication replies, without its `\r\n`.
    fn auth_line(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            if let Some(i) = self.input.windows(2).position(|w| w == b"\r\n") {
                let line = self.input.get(..i).unwrap_or_default().to_vec();
                self.input.drain(..i.saturating_add(2).min(self.input.len()));
                return Ok(line);
            }
            if self.input.len() > MAX_AUTH_REPLY {
                return Err(Error::Handshake("authentication reply too long".into()));
            }
            self.read_more()?;
        }
    }

    /// Calls `call` with `body` and `fds`, and waits for its reply: a method return, or
    /// [`Error::Reply`].
    pub fn call(&mut self, call: &Call<'_>, body: &Body, fds: &[BorrowedFd<'_>]) -> Result<Reply, Error> {
        if !fds.is_empty() && !self.can_fds {
            return Err(Error::NoFdPassing);
        }
        self.serial = self.serial.checked_add(1).ok_or(Error::Os(libc::EOVERFLOW))?;
        let n = u32::try_from(fds.len()).map_err(|_| Error::Os(libc::EINVAL))?;
        let msg = wire::method_call(self.serial, call, body, n).ok_or(Error::Os(libc::EINVAL))?;
        self.send(&msg, fds)?;
        self.reply_to(self.serial)
    }

    /// Reads messages until the reply to `serial`.
    fn reply_to(&mut self, serial: u32) -> Result<Reply, Error> {
        loop {
            let Some(len) = self.complete_message()? else {
                self.read_more()?;
                continue;
            };
            // Read in place; the message leaves the input whatever its fate.
            let outcome = self.take_message(len, serial);
            self.input.drain(..len);
            if let Some(reply) = outcome? {
                return Ok(reply);
            }
        }
    }

    /// Reads the first `len` bytes of the input as a message, with the fds it announces (taken
    /// from the queue): the reply to `serial` (a method return; an error reply is
    /// [`Error::Reply`]), or None for anything else (signals, calls, other replies), dropped
    /// with its fds.
    fn take_message(&mut self, len: usize, serial: u32) -> Result<Option<Reply>, Error> {
        let msg = self.input.get(..len).ok_or(Error::Protocol("truncated"))?;
        let h = wire::parse(msg)?;
        let n = usize::try_from(h.unix_fds).map_err(|_| Error::Protocol("fd count out of range"))?;
        if n > self.fds.len() {
            return Err(Error::Protocol("fewer fds than the message announces"));
        }
        let fds: Vec<OwnedFd> = self.fds.drain(..n).collect();
        let ours = h.reply_serial == Some(serial);
        match h.kind {
            wire::METHOD_RETURN if ours => Ok(Some(Reply {
                signature: h.signature.to_owned(),
                big: h.big,
                body: h.body.to_vec(),
                fds,
            })),
            wire::ERROR if ours => Err(error_reply(&h)),
            _ => Ok(None),
        }
    }

    /// The length of the first message in the input, once all of it is there.
    fn complete_message(&self) -> Result<Option<usize>, Error> {
        let Some(prefix) = self.input.get(..wire::PREFIX) else {
            return Ok(None);
        };
        let len = wire::frame_len(prefix)?;
        Ok((self.input.len() >= len).then_some(len))
    }

    /// Waits for `events` until the deadline.
    fn wait(&self, events: libc::c_short) -> Result<(), Error> {
        match crate::sys::poll_until(self.fd.as_fd(), events, self.deadline) {
            Ok(_) => Ok(()),
            Err(crate::sys::PollError::Timeout) => Err(Error::Timeout),
            Err(crate::sys::PollError::Os(e)) => Err(Error::Os(e)),
        }
    }

    /// Writes all of `data`; `fds` go with its first byte.
    fn send(&mut self, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), Error> {
        let mut sent = 0;
        let mut fds_pending = !fds.is_empty();
        while let Some(rest) = data.get(sent..).filter(|r| !r.is_empty()) {
            let n = crate::varlink::send_some(self.fd.as_fd(), rest, if fds_pending { fds } else { &[] });
            match n {
                Ok(0) => self.wait(libc::POLLOUT)?,
                Ok(n) => {
                    sent += n;
                    fds_pending = false;
                }
                Err(libc::EINTR) => {}
                Err(libc::EAGAIN) => self.wait(libc::POLLOUT)?,
                Err(libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN) => return Err(Error::Disconnected),
                Err(e) => return Err(Error::Os(e)),
            }
        }
        Ok(())
    }

    /// One `recvmsg()` into the input (waiting for data within the deadline), fds into the queue.
    /// The bytes go straight into the input's spare capacity and the control data into an
    /// uninitialized buffer: nothing is zero-filled first, only what the kernel writes is read.
    fn read_more(&mut self) -> Result<(), Error> {
        // u64 elements: the control buffer must be aligned for cmsghdr.
        let mut control = std::mem::MaybeUninit::<[u64; (MAX_FDS_PER_READ * 4 + 64) / 8]>::uninit();
        let start = self.input.len();
        self.input.reserve(READ_CHUNK);
        loop {
            let space = self.input.spare_capacity_mut();
            let mut iov = libc::iovec {
                iov_base: space.as_mut_ptr().cast(),
                iov_len: space.len(),
            };
            // SAFETY: an all-zero msghdr is valid (no name, no iov, no control yet).
            let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = control.as_mut_ptr().cast();
            mh.msg_controllen = std::mem::size_of_val(&control) as _;
            // SAFETY: `mh` points to live, writable iov (the input's spare capacity) and control
            // buffers for the call; the kernel only writes to them.
            let r = unsafe {
                libc::recvmsg(
                    self.fd.as_raw_fd(),
                    &mut mh,
                    libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
                )
            };
            if r < 0 {
                match crate::sys::errno() {
                    libc::EINTR => continue,
                    libc::EAGAIN => {
                        self.wait(libc::POLLIN)?;
                        continue;
                    }
                    libc::ECONNRESET | libc::EPIPE | libc::ENOTCONN => return Err(Error::Disconnected),
                    e => return Err(Error::Os(e)),
                }
            }
            // The kernel set msg_controllen to what it wrote: take_fds reads only that.
            let received = take_fds(&mh);
            let got = received.len();
            self.fds.extend(received);
            if mh.msg_flags & libc::MSG_CTRUNC != 0 {
                return Err(Error::FdsLost);
            }
            if got > 0 && !self.can_fds {
                return Err(Error::Protocol("fds on a connection that does not pass them"));
            }
            let n = r.unsigned_abs().min(self.input.capacity().saturating_sub(start));
            if n == 0 {
                return Err(Error::Disconnected);
            }
            // SAFETY: recvmsg() initialized the first `n` bytes of the spare capacity, which
            // starts at `start` (n is at most its length).
            unsafe { self.input.set_len(start + n) };
            return Ok(());
        }
    }
}

/// The fds a `recvmsg()` put in `mh`'s control buffer, now ours.
fn take_fds(mh: &libc::msghdr) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    // SAFETY: `mh` was filled by recvmsg; CMSG_FIRSTHDR reads its control fields only.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(mh) };
    while !cmsg.is_null() {
        // SAFETY: a non-null header inside the control buffer, as the CMSG macros walk it.
        let (level, kind, len) = unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type, (*cmsg).cmsg_len as usize) };
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            // SAFETY: CMSG_LEN is a pure size computation.
            let head = unsafe { libc::CMSG_LEN(0) } as usize;
            let count = len.saturating_sub(head) / std::mem::size_of::<libc::c_int>();
            // SAFETY: the header's data holds `count` ints written by the kernel.
            let data = unsafe { libc::CMSG_DATA(cmsg) }.cast::<libc::c_int>();
            for i in 0..count {
                // SAFETY: `i < count`, inside the data; read unaligned as the buffer allows.
                let fd = unsafe { data.add(i).read_unaligned() };
                if fd >= 0 {
                    // SAFETY: a fresh fd the kernel installed for us; nothing else owns it.
                    out.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        // SAFETY: walks to the next header of the same buffer (null at its end).
        cmsg = unsafe { libc::CMSG_NXTHDR(mh, cmsg) };
    }
    out
}

/// A refused authentication, in the bus's words.
fn auth_refused(line: &[u8]) -> Error {
    let text = String::from_utf8_lossy(line.get(..line.len().min(200)).unwrap_or_default()).into_owned();
    if line.starts_with(b"REJECTED") {
        Error::Handshake(format!("the bus rejected EXTERNAL authentication ({text})"))
    } else {
        Error::Handshake(format!("unexpected authentication reply '{text}'"))
    }
}

#[cfg(test)]
mod tests;
