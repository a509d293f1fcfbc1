//! The connection against a scripted bus on a socket pair: the authentication lines as sd-bus
//! sends them, Hello, replies found among other messages (whose fds are closed), error replies,
//! refusals, a bus that hangs up or never answers.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::wire::tests::reply_message;
use super::wire::{METHOD_RETURN, PREFIX};
use super::*;
use crate::limits::PropValue;

/// What the module writes before its first message.
fn auth_lines() -> Vec<u8> {
    // SAFETY: geteuid() cannot fail.
    let uid = unsafe { libc::geteuid() }.to_string();
    let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
    format!("\0AUTH EXTERNAL {hex}\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n").into_bytes()
}

/// The scripted bus's side.
struct Bus(UnixStream);

impl Bus {
    /// Reads the authentication lines, checks them, answers with `answer`.
    fn auth(&mut self, answer: &str) {
        let want = auth_lines();
        let mut got = vec![0; want.len()];
        self.0.read_exact(&mut got).unwrap();
        assert_eq!(got, want);
        self.0.write_all(answer.as_bytes()).unwrap();
    }

    /// Reads one message (fds are left to the kernel to drop): its serial, member, unix_fds.
    fn read_call(&mut self) -> (u32, String, u32) {
        let mut m = vec![0; PREFIX];
        self.0.read_exact(&mut m).unwrap();
        let len = wire::frame_len(&m).unwrap();
        m.resize(len, 0);
        self.0.read_exact(&mut m[PREFIX..]).unwrap();
        let h = wire::parse(&m).unwrap();
        (h.serial, h.member.unwrap().to_owned(), h.unix_fds)
    }

    fn send(&mut self, m: &[u8], fds: &[BorrowedFd<'_>]) {
        if fds.is_empty() {
            self.0.write_all(m).unwrap();
        } else {
            let n = crate::varlink::send_with_fds(self.0.as_raw_fd(), m, fds).unwrap();
            self.0.write_all(&m[n..]).unwrap();
        }
    }

    /// Authenticates and answers Hello.
    fn hello(&mut self) {
        self.auth(&format!("OK {}\r\nAGREE_UNIX_FD\r\n", "0123456789abcdef".repeat(2)));
        let (serial, member, _) = self.read_call();
        assert_eq!((serial, member.as_str()), (1, "Hello"));
        let name = [&5u32.to_le_bytes()[..], b":1.42\0"].concat();
        self.send(&reply_message(false, METHOD_RETURN, 1, None, &name, "s", 0), &[]);
    }
}

/// Runs `bus` on the other end of a socket pair while the client opens a connection with
/// `deadline` and runs `client` on it.
fn with_bus<T>(
    deadline: Option<Duration>,
    bus: impl FnOnce(&mut Bus) + Send + 'static,
    client: impl FnOnce(Result<Connection, Error>) -> T,
) -> T {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let server = std::thread::spawn(move || bus(&mut Bus(theirs)));
    let deadline = deadline.map(|d| Instant::now() + d);
    let out = client(Connection::open(OwnedFd::from(ours), deadline));
    server.join().unwrap();
    out
}

fn call_of(member: &str) -> Call<'_> {
    Call {
        destination: "org.freedesktop.login1",
        path: "/org/freedesktop/login1",
        interface: "org.freedesktop.login1.Manager",
        member,
    }
}

#[test]
#[cfg_attr(miri, ignore)] // sockets and threads: not under miri
fn the_reply_is_found_among_other_messages_and_their_fds_closed() {
    let (probe_r, probe_w) = std::io::pipe().unwrap();
    let probe_w = OwnedFd::from(probe_w);
    with_bus(
        Some(Duration::from_secs(10)),
        move |bus| {
            bus.hello();
            let (serial, member, fds) = bus.read_call();
            assert_eq!((serial, member.as_str(), fds), (2, "CreateSessionWithPIDFD", 1));
            // A reply to someone else's serial, with an fd: read and dropped.
            bus.send(
                &reply_message(false, METHOD_RETURN, 77, None, &[], "", 1),
                &[probe_w.as_fd()],
            );
            drop(probe_w);
            let (fifo_r, _fifo_w) = std::io::pipe().unwrap();
            let mut body = Body::new();
            body.str("c1")
                .path("/org/freedesktop/login1/session/c1")
                .str("/run/user/0")
                .fd(0)
                .u32(0)
                .str("")
                .u32(0)
                .bool(false);
            bus.send(
                &reply_message(false, METHOD_RETURN, 2, None, body.bytes(), body.signature(), 1),
                &[OwnedFd::from(fifo_r).as_fd()],
            );
        },
        move |conn| {
            let mut conn = conn.unwrap();
            assert!(conn.can_pass_fds());
            let (r, _w) = std::io::pipe().unwrap();
            let mut body = Body::new();
            body.u32(0).fd(0);
            let reply = conn
                .call(&call_of("CreateSessionWithPIDFD"), &body, &[OwnedFd::from(r).as_fd()])
                .unwrap();
            assert_eq!((reply.signature.as_str(), reply.fds.len()), ("soshusub", 1));
            assert_eq!(reply.cursor().str(), Ok("c1"));
        },
    );
    // The skipped message's fd was the last copy of the probe's write end: EOF.
    let mut probe_r = probe_r;
    let mut buf = [0u8; 1];
    assert_eq!(probe_r.read(&mut buf).unwrap(), 0);
}

#[test]
#[cfg_attr(miri, ignore)] // sockets and threads: not under miri
fn error_replies_and_a_bus_that_hangs_up_mid_call() {
    with_bus(
        None,
        |bus| {
            bus.hello();
            let (serial, _, _) = bus.read_call();
            let text = [&11u32.to_le_bytes()[..], b"No seat 'x'\0"].concat();
            bus.send(
                &reply_message(
                    false,
                    wire::ERROR,
                    serial,
                    Some("org.freedesktop.login1.NoSuchSeat"),
                    &text,
                    "s",
                    0,
                ),
                &[],
            );
            bus.read_call();
        },
        |conn| {
            let mut conn = conn.unwrap();
            assert_eq!(
                conn.call(&call_of("CreateSession"), &Body::new(), &[]).err(),
                Some(Error::Reply {
                    name: "org.freedesktop.login1.NoSuchSeat".into(),
                    message: Some("No seat 'x'".into())
                })
            );
            assert_eq!(
                conn.call(&call_of("ReleaseSession"), &Body::new(), &[]).err(),
                Some(Error::Disconnected)
            );
        },
    );
}

#[test]
#[cfg_attr(miri, ignore)] // sockets and threads: not under miri
fn refusals_during_the_handshake() {
    let rows: Vec<(&str, &str)> = vec![
        (
            "REJECTED EXTERNAL\r\n",
            "the bus rejected EXTERNAL authentication (REJECTED EXTERNAL)",
        ),
        ("ERROR\r\n", "unexpected authentication reply 'ERROR'"),
        ("OK 0123\r\n", "the bus's OK has no valid GUID"),
        ("", "the bus closed the connection"),
    ];
    for (answer, want) in rows {
        let e = with_bus(
            Some(Duration::from_secs(10)),
            move |bus| bus.auth(answer),
            |conn| conn.err(),
        );
        assert_eq!(e, Some(Error::Handshake(want.into())), "{answer:?}");
    }
    // Hello refused.
    let e = with_bus(
        Some(Duration::from_secs(10)),
        |bus| {
            bus.auth(&format!("OK {}\r\nAGREE_UNIX_FD\r\n", "a".repeat(32)));
            bus.read_call();
            bus.send(
                &reply_message(
                    false,
                    wire::ERROR,
                    1,
                    Some("org.freedesktop.DBus.Error.AccessDenied"),
                    &[],
                    "",
                    0,
                ),
                &[],
            );
        },
        |conn| conn.err(),
    );
    assert_eq!(
        e,
        Some(Error::Handshake(
            "Hello: org.freedesktop.DBus.Error.AccessDenied".into()
        ))
    );
}

#[test]
#[cfg_attr(miri, ignore)] // sockets and threads: not under miri
fn a_bus_without_fd_passing_refuses_calls_with_fds() {
    with_bus(
        Some(Duration::from_secs(10)),
        |bus| {
            bus.auth(&format!("OK {}\r\nERROR\r\n", "b".repeat(32)));
            bus.read_call();
            let name = [&2u32.to_le_bytes()[..], b":1\0"].concat();
            bus.send(&reply_message(false, METHOD_RETURN, 1, None, &name, "s", 0), &[]);
        },
        |conn| {
            let mut conn = conn.unwrap();
            assert!(!conn.can_pass_fds());
            let (r, _w) = std::io::pipe().unwrap();
            let r = OwnedFd::from(r);
            assert_eq!(
                conn.call(&call_of("X"), &Body::new(), &[r.as_fd()]).err(),
                Some(Error::NoFdPassing)
            );
        },
    );
}

#[test]
#[cfg_attr(miri, ignore)] // sockets, threads and time: not under miri
fn a_mute_bus_ends_at_the_deadline() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let started = Instant::now();
    let e = with_bus(
        Some(Duration::from_millis(300)),
        move |_bus| {
            // Holds the connection open, answering nothing, until the client gave up.
            let _ = rx.recv_timeout(Duration::from_secs(10));
        },
        |conn| {
            let e = conn.err();
            drop(tx);
            e
        },
    );
    let took = started.elapsed();
    assert_eq!(e, Some(Error::Timeout));
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn errnos_and_words() {
    let rows = [
        (Error::Timeout, libc::ETIMEDOUT, "no answer before the deadline"),
        (Error::Handshake("x".into()), libc::ENOTCONN, "handshake failed: x"),
        (Error::Disconnected, libc::ECONNRESET, "the bus closed the connection"),
        (Error::Protocol("y"), libc::EBADMSG, "bad message from the bus: y"),
        (
            Error::FdsLost,
            libc::EXFULL,
            "file descriptors sent with a message were lost (MSG_CTRUNC)",
        ),
        (
            Error::NoFdPassing,
            libc::EOPNOTSUPP,
            "the connection cannot pass file descriptors",
        ),
        (
            Error::Reply {
                name: "a.B".into(),
                message: None,
            },
            libc::EIO,
            "a.B",
        ),
    ];
    for (e, errno, words) in rows {
        assert_eq!((e.errno(), e.to_string().as_str()), (errno, words));
    }
}

#[test]
#[cfg_attr(miri, ignore)] // zbus: not under miri
fn zbus_reads_our_calls_as_sent() {
    use zbus::wire::Endian;
    use zbus::wire::serialized::{Context, Data};
    let mut body = Body::new();
    body.u32(1000)
        .u32(0)
        .str("sshd")
        .bool(true)
        .props(&[("TasksMax", PropValue::U32(5)), ("MemoryMax", PropValue::U64(1 << 40))]);
    let m = wire::method_call(2, &call_of("CreateSession"), &body, 0).unwrap();
    // SAFETY: zbus's own receive path parses socket bytes this way.
    let msg = unsafe { zbus::Message::from_bytes(Data::new(m, Context::new(Endian::Little, 0))) }.unwrap();
    let h = msg.header();
    assert_eq!(h.member().unwrap().as_str(), "CreateSession");
    assert_eq!(h.path().unwrap().as_str(), "/org/freedesktop/login1");
    assert_eq!(h.interface().unwrap().as_str(), "org.freedesktop.login1.Manager");
    assert_eq!(h.destination().unwrap().to_string(), "org.freedesktop.login1");
    assert_eq!(h.primary().serial_num().get(), 2);
    let b = msg.body();
    let (uid, leader, service, remote, props): (u32, u32, &str, bool, Vec<(&str, zbus::Variant<'_>)>) =
        b.deserialize().unwrap();
    assert_eq!((uid, leader, service, remote), (1000, 0, "sshd", true));
    assert_eq!(
        props,
        [
            ("TasksMax", zbus::Variant::from(5u32)),
            ("MemoryMax", zbus::Variant::from(1u64 << 40))
        ]
    );
}
