//! Unit tests of the Varlink client, no root needed: the pure reply reader and error mapping as
//! tables, and the wire over a temporary unix socket served by a test thread (threads only here).

use super::errno::errno_from_name;
use super::*;
use std::io::{Read, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

// ---------------------------------------------------------------------------------------------
// A scripted peer
// ---------------------------------------------------------------------------------------------

/// A socket path in the temp directory, removed on drop.
pub(crate) struct TempSock(pub PathBuf);

impl TempSock {
    pub fn new() -> TempSock {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pam-systemd-rs-vl-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&p);
        TempSock(p)
    }
    pub fn bytes(&self) -> &[u8] {
        use std::os::unix::ffi::OsStrExt;
        self.0.as_os_str().as_bytes()
    }
}

impl Drop for TempSock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What the peer received: the call (without its NUL) and the fds that came with it.
pub(crate) struct Served {
    pub request: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

/// Reads one message up to its NUL with recvmsg, collecting SCM_RIGHTS fds.
fn read_request(s: &UnixStream) -> Served {
    let mut request = Vec::new();
    let mut fds = Vec::new();
    loop {
        let mut buf = [0u8; 4096];
        let mut control = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: zeroed msghdr, then pointed at live buffers.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: valid msghdr with live buffers; blocking socket.
        let n = unsafe { libc::recvmsg(s.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        assert!(n >= 0, "recvmsg: {}", std::io::Error::last_os_error());
        // SAFETY: walking the control messages the kernel wrote into `control`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                    let data = libc::CMSG_DATA(c).cast::<libc::c_int>();
                    for i in 0..len / std::mem::size_of::<libc::c_int>() {
                        fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let n = n as usize;
        if n == 0 {
            return Served { request, fds };
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(i) = request.iter().position(|&b| b == 0) {
            request.truncate(i);
            return Served { request, fds };
        }
    }
}

/// Listens at a fresh path; the thread accepts one connection, reads the call (if `read_first`),
/// then runs `behave` on the stream. Returns the path and the thread (joins to what was read).
pub(crate) fn serve(
    read_first: bool,
    behave: impl FnOnce(&mut UnixStream) + Send + 'static,
) -> (TempSock, JoinHandle<Served>) {
    let sock = TempSock::new();
    let listener = UnixListener::bind(&sock.0).unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let served = if read_first {
            read_request(&s)
        } else {
            Served {
                request: Vec::new(),
                fds: Vec::new(),
            }
        };
        behave(&mut s);
        served
    });
    (sock, h)
}

/// A peer that answers `reply` (bytes as given) and then closes.
pub(crate) fn answer(reply: &'static [u8]) -> (TempSock, JoinHandle<Served>) {
    serve(true, move |s| {
        let _ = s.write_all(reply);
    })
}

fn deadline(ms: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(ms))
}

fn call(sock: &TempSock, ms: u64) -> Result<Reply, Error> {
    let mut c = Connection::connect(sock.bytes(), deadline(ms), "x.y.Z")?;
    c.call("x.y.Z", br#"{"k":"v"}"#, &[])
}

// ---------------------------------------------------------------------------------------------
// The wire
// ---------------------------------------------------------------------------------------------

#[test]
fn framing_request_and_reply() {
    let (sock, h) = answer(b"{\"parameters\":{\"a\":1}}\0");
    let r = call(&sock, 5000).unwrap();
    assert_eq!(
        r,
        Reply {
            error: None,
            parameters: Some(Value::Object(vec![(b"a".to_vec(), Value::Unsigned(1))]))
        }
    );
    let served = h.join().unwrap();
    assert_eq!(served.request, br#"{"method":"x.y.Z","parameters":{"k":"v"}}"#);
    assert!(served.fds.is_empty());
}

#[test]
fn empty_parameters_are_left_out() {
    assert_eq!(call_message("a.B", b"{}"), b"{\"method\":\"a.B\"}\0");
    assert_eq!(
        call_message("a.B", br#"{"x":true}"#),
        b"{\"method\":\"a.B\",\"parameters\":{\"x\":true}}\0"
    );
}

#[test]
fn reply_split_over_many_writes() {
    let (sock, h) = serve(true, |s| {
        for chunk in [
            &b"{\"param"[..],
            b"eters\":{\"Id\":",
            b"\"c1\"}",
            b"}\0trailing bytes are not read",
        ] {
            s.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let r = call(&sock, 5000).unwrap();
    assert_eq!(r.parameters.unwrap().by_key("Id"), Some(&Value::Str(b"c1".to_vec())));
    h.join().unwrap();
}

#[test]
fn reply_without_nul_then_close_is_a_disconnect() {
    let (sock, h) = answer(b"{\"parameters\":{}}");
    let e = call(&sock, 5000).unwrap_err();
    assert_eq!(e.failure, Failure::Disconnected(Step::Receive));
    assert_eq!(e.errno(), libc::ECONNRESET);
    assert!(!e.falls_back());
    assert_eq!(
        e.c_line(),
        "Failed to issue x.y.Z varlink call: Connection reset by peer"
    );
    h.join().unwrap();
}

#[test]
fn truncated_and_garbage_replies() {
    for (reply, want) in [
        (&b"{\"parameters\":\0"[..], Failure::NotJson(json::Error::Syntax)),
        (b"\xff\xfe\x00", Failure::NotJson(json::Error::Syntax)),
        (b"\0", Failure::NotJson(json::Error::Syntax)),
        (b"[]\0", Failure::NotJson(json::Error::Syntax)),
        (
            b"{\"error\":\"\\ufdd0\"}\0",
            Failure::NotJson(json::Error::NonCharacter),
        ),
        (
            b"{\"parameters\":{},\"continues\":true}\0",
            Failure::Protocol("continues on a call without more"),
        ),
    ] {
        let (sock, h) = answer(reply);
        let e = call(&sock, 5000).unwrap_err();
        assert_eq!(e.failure, want, "{reply:?}");
        h.join().unwrap();
    }
}

#[test]
fn huge_reply_hits_the_cap() {
    let (sock, h) = serve(true, |s| {
        let block = vec![b' '; 64 * 1024];
        // More than the cap without a NUL; the client stops reading and hangs up.
        for _ in 0..(MAX_MESSAGE / block.len() + 2) {
            if s.write_all(&block).is_err() {
                break;
            }
        }
    });
    let e = call(&sock, 10_000).unwrap_err();
    assert_eq!(e.failure, Failure::TooLarge);
    assert_eq!(e.errno(), libc::ENOBUFS);
    h.join().unwrap();
}

#[test]
fn reply_of_exactly_the_cap_is_read() {
    let head = b"{\"parameters\":{\"x\":\"";
    let tail = b"\"}}";
    let mut reply = head.to_vec();
    reply.resize(MAX_MESSAGE - tail.len(), b'a');
    reply.extend_from_slice(tail);
    assert_eq!(reply.len(), MAX_MESSAGE);
    reply.push(0);
    let reply: &'static [u8] = reply.leak();
    let (sock, h) = answer(reply);
    let r = call(&sock, 10_000).unwrap();
    let Some(Value::Str(x)) = r.parameters.as_ref().and_then(|p| p.by_key("x")) else {
        panic!("no x")
    };
    assert_eq!(x.len(), MAX_MESSAGE - head.len() - tail.len());
    h.join().unwrap();
}

#[test]
fn mute_peer_times_out_within_the_deadline() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (sock, h) = serve(true, move |_s| {
        // Keep the connection open and silent until the client is done.
        let _ = rx.recv_timeout(Duration::from_secs(10));
    });
    let t0 = Instant::now();
    let e = call(&sock, 300).unwrap_err();
    let took = t0.elapsed();
    tx.send(()).unwrap();
    assert_eq!(e.failure, Failure::Timeout(Step::Receive));
    assert_eq!(e.errno(), libc::ETIME);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(e.elapsed >= Duration::from_millis(300));
    assert!(e.to_string().contains(&*sock.0.to_string_lossy()), "{e}");
    assert_eq!(e.c_line(), "Failed to issue x.y.Z varlink call: Timer expired");
    h.join().unwrap();
}

#[test]
fn error_reply() {
    let (sock, h) =
        answer(b"{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"Class\"}}\0");
    let r = call(&sock, 5000).unwrap();
    assert_eq!(r.error.as_deref(), Some("org.varlink.service.InvalidParameter"));
    assert_eq!(
        r.parameters.unwrap().by_key("parameter"),
        Some(&Value::Str(b"Class".to_vec()))
    );
    h.join().unwrap();
}

#[test]
fn fd_reaches_the_peer() {
    let (sock, h) = serve(true, |s| {
        let _ = s.write_all(b"{}\0");
    });
    let (mut rd, wr) = UnixStream::pair().unwrap();
    let mut c = Connection::connect(sock.bytes(), deadline(5000), "x.y.Z").unwrap();
    let r = c.call("x.y.Z", br#"{"k":"v"}"#, &[wr.as_fd()]).unwrap();
    assert_eq!(
        r,
        Reply {
            error: None,
            parameters: None
        }
    );
    drop(wr);
    let served = h.join().unwrap();
    assert_eq!(served.request, br#"{"method":"x.y.Z","parameters":{"k":"v"}}"#);
    assert_eq!(served.fds.len(), 1);
    // The peer's copy is the other end of our pair: a write through it arrives here.
    let mut peer = UnixStream::from(served.fds.into_iter().next().unwrap());
    peer.write_all(b"through the passed fd").unwrap();
    drop(peer);
    let mut got = String::new();
    rd.read_to_string(&mut got).unwrap();
    assert_eq!(got, "through the passed fd");
}

#[test]
fn peer_that_hangs_up_at_once() {
    let (sock, h) = serve(false, |s| {
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let e = call(&sock, 5000).unwrap_err();
    assert!(
        matches!(e.failure, Failure::Disconnected(Step::Send | Step::Receive)),
        "{:?}",
        e.failure
    );
    assert_eq!(e.errno(), libc::ECONNRESET);
    h.join().unwrap();
}

#[test]
fn missing_and_refusing_sockets_fall_back() {
    let missing = TempSock::new();
    let e = Connection::connect(missing.bytes(), deadline(1000), "a.B").unwrap_err();
    assert_eq!(e.failure, Failure::Connect(libc::ENOENT));
    assert!(e.falls_back());
    assert_eq!(
        e.c_line(),
        "Failed to connect to logind via Varlink, falling back to D-Bus: No such file or directory"
    );

    // A socket that is bound but not listening refuses.
    let refusing = TempSock::new();
    // SAFETY: plain socket/bind on a fresh fd that the OwnedFd then closes.
    let fd = unsafe { OwnedFd::from_raw_fd(libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0)) };
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as _;
    for (d, &s) in sa.sun_path.iter_mut().zip(refusing.bytes()) {
        *d = s as libc::c_char;
    }
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const sa).cast(),
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0);
    let e = Connection::connect(refusing.bytes(), deadline(1000), "a.B").unwrap_err();
    assert_eq!(e.failure, Failure::Connect(libc::ECONNREFUSED));
    assert!(e.falls_back());

    // Too long a path for sockaddr_un.
    let e = Connection::connect(&[b'x'; 200], deadline(1000), "a.B").unwrap_err();
    assert_eq!(e.failure, Failure::Connect(libc::EINVAL));
}

// ---------------------------------------------------------------------------------------------
// The reply reader (pure)
// ---------------------------------------------------------------------------------------------

#[test]
fn reply_reader_table() {
    let obj = |m: Vec<(&str, Value)>| Value::Object(m.into_iter().map(|(k, v)| (k.as_bytes().to_vec(), v)).collect());
    let ok = |error: Option<&str>, parameters: Option<Value>| {
        Ok(Reply {
            error: error.map(str::to_owned),
            parameters,
        })
    };
    let p = |why| Err(Failure::Protocol(why));
    let cases: Vec<(&[u8], Result<Reply, Failure>)> = vec![
        (b"{}", ok(None, None)),
        (b" {\"parameters\":null} ", ok(None, Some(Value::Null))),
        (b"{\"parameters\":{}}", ok(None, Some(obj(vec![])))),
        (b"{\"continues\":false,\"parameters\":{}}", ok(None, Some(obj(vec![])))),
        (b"{\"continues\":false,\"continues\":false}", ok(None, None)),
        (
            b"{\"error\":\"a.B\",\"parameters\":{\"x\":[1]}}",
            ok(
                Some("a.B"),
                Some(obj(vec![("x", Value::Array(vec![Value::Unsigned(1)]))])),
            ),
        ),
        (b"{\"error\":\"a.B\",\"error\":\"a.B\"}", p("error twice")),
        (b"{\"error\":null}", p("error is not a string")),
        (b"{\"parameters\":[]}", p("parameters is neither an object nor null")),
        (b"{\"parameters\":\"x\"}", p("parameters is neither an object nor null")),
        (b"{\"parameters\":{},\"parameters\":{}}", p("parameters twice")),
        (b"{\"continues\":1}", p("continues is not a boolean")),
        (b"{\"continues\":true,\"continues\":false}", p("continues twice")),
        (b"{\"continues\":true}", p("continues on a call without more")),
        (
            b"{\"error\":\"a.B\",\"continues\":true}",
            p("continues on a call without more"),
        ),
        (b"{\"method\":\"a.B\"}", p("unknown key")),
        (b"{\"Parameters\":{}}", p("unknown key")),
        (b"\"x\"", Err(Failure::NotJson(json::Error::Syntax))),
        (b"null", Err(Failure::NotJson(json::Error::Syntax))),
        (b"{", Err(Failure::NotJson(json::Error::Syntax))),
        (b"{}{}", Err(Failure::NotJson(json::Error::Syntax))),
    ];
    for (input, want) in cases {
        assert_eq!(read_reply(input), want, "{}", String::from_utf8_lossy(input));
    }
    let deep = format!("{{\"parameters\":{}{}}}", "[".repeat(3000), "]".repeat(3000));
    assert_eq!(read_reply(deep.as_bytes()), Err(Failure::NotJson(json::Error::TooDeep)));
    assert_eq!(Failure::NotJson(json::Error::TooDeep).errno(), libc::ELNRNG);
}

#[test]
fn error_names_to_errno() {
    let sys = |params: &str| {
        let v = json::parse(params.as_bytes()).unwrap();
        error_to_errno("io.systemd.System", Some(&v))
    };
    let cases: &[(&str, i32)] = &[
        ("io.systemd.Disconnected", libc::ECONNRESET),
        ("io.systemd.TimedOut", libc::ETIMEDOUT),
        ("io.systemd.Protocol", libc::EPROTO),
        ("org.varlink.service.InterfaceNotFound", libc::EADDRNOTAVAIL),
        ("org.varlink.service.MethodNotFound", libc::ENXIO),
        ("org.varlink.service.MethodNotImplemented", libc::ENOTTY),
        ("org.varlink.service.InvalidParameter", libc::EINVAL),
        ("org.varlink.service.PermissionDenied", libc::EACCES),
        ("org.varlink.service.ExpectedMore", libc::EBADE),
        ("org.varlink.service.ExpectedUpgrade", libc::EPROTOTYPE),
        ("io.systemd.Login.NoSuchSeat", libc::EBADR),
        ("io.systemd.Login.AlreadySessionMember", libc::EBADR),
        ("io.systemd.System", libc::EBADR),
    ];
    for &(name, want) in cases {
        assert_eq!(error_to_errno(name, None), want, "{name}");
    }
    assert_eq!(sys(r#"{"errno":13}"#), libc::EACCES);
    assert_eq!(sys(r#"{"errno":13.0}"#), libc::EACCES);
    assert_eq!(sys(r#"{"errnoName":"ENOENT","errno":13}"#), libc::ENOENT);
    assert_eq!(sys(r#"{"origin":"linux","errnoName":"EWOULDBLOCK"}"#), libc::EAGAIN);
    assert_eq!(sys(r#"{"origin":"linux","errnoName":"ENOTSUP"}"#), libc::EOPNOTSUPP);
    assert_eq!(sys(r#"{"origin":"freebsd","errno":13}"#), libc::EBADR);
    assert_eq!(sys(r#"{"origin":1,"errno":13}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errnoName":"ENOPE","errno":13}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errnoName":13}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errno":0}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errno":-5}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errno":4095}"#), 4095);
    assert_eq!(sys(r#"{"errno":4096}"#), libc::EBADR);
    assert_eq!(sys(r#"{"errno":"13"}"#), libc::EBADR);
    assert_eq!(sys(r#"{}"#), libc::EBADR);
    assert_eq!(sys(r#"null"#), libc::EBADR);
    assert_eq!(errno_from_name(b"EHWPOISON"), Some(libc::EHWPOISON));
    assert_eq!(errno_from_name(b"eperm"), None);
}

#[test]
fn pam_codes_follow_errno_to_pam_error() {
    let e = |failure| Error {
        method: "a.B".into(),
        socket: "/s".into(),
        elapsed: Duration::ZERO,
        failure,
    };
    assert_eq!(
        e(Failure::Os(Step::Receive, libc::ENOMEM)).pam_code(),
        crate::ffi::PAM_BUF_ERR
    );
    assert_eq!(
        e(Failure::Timeout(Step::Receive)).pam_code(),
        crate::ffi::PAM_SERVICE_ERR
    );
    assert_eq!(
        e(Failure::Reply {
            name: "io.systemd.Login.NoSuchSeat".into(),
            errno: libc::EBADR
        })
        .c_line(),
        "Varlink call a.B failed: io.systemd.Login.NoSuchSeat"
    );
    assert_eq!(
        e(Failure::BadParameters(libc::ENXIO)).c_line(),
        "Failed to parse B() reply: No such device or address"
    );
}
