//! The Varlink transport against peers of our own (`varlink::tests::serve`): what it sends, how
//! it reads logind's answers, and what the plan makes of them.

use std::io::Write;
use std::time::Duration;

use super::*;
use crate::context::{Generation, Request};
use crate::varlink::tests::{TempSock, answer};

fn request(class: &'static [u8]) -> Request<'static> {
    Request {
        uid: 1000,
        service: b"sshd",
        session_type: b"tty",
        class,
        desktop: b"",
        seat: b"",
        vtnr: 0,
        tty: b"pts/1",
        display: b"",
        remote: true,
        remote_user: b"",
        remote_host: b"10.0.0.1",
        area: None,
        extra_device_access: vec![],
    }
}

fn plan(pinned: Option<Generation>) -> Plan<'static> {
    Plan {
        pinned,
        requests: vec![
            (Generation::V262, Some(request(b"user-light"))),
            (Generation::V257, Some(request(b"user-early"))),
            (Generation::V252, Some(request(b"user"))),
        ],
        varlink: true,
    }
}

fn ep(sock: &[u8]) -> Endpoint {
    Endpoint {
        bus: "unix:path=/nonexistent".into(),
        varlink: String::from_utf8(sock.to_vec()).unwrap(),
        timeout: Some(Duration::from_secs(5)),
    }
}

fn create(sock: &[u8], p: &Plan<'_>) -> (Vec<Attempt>, Result<Answer, Failure>) {
    let mut attempts = Vec::new();
    let r = Varlink::default().create(&ep(sock), p, p.first(), &[], &mut attempts);
    (attempts, r)
}

const VL262: Attempt = Attempt {
    via: Via::Varlink,
    request: Generation::V262,
};

#[test]
fn created_over_varlink() {
    let (sock, h) = answer(
        b"{\"parameters\":{\"Id\":\"7\",\"RuntimePath\":\"/run/user/1000\",\"UID\":1000,\"Class\":\"user_light\"}}\0",
    );
    let (attempts, r) = create(sock.bytes(), &plan(None));
    let Ok(Answer::Session(reply)) = r else { panic!("{r:?}") };
    assert_eq!(attempts, [VL262]);
    assert_eq!(
        (
            reply.id.as_str(),
            reply.runtime_path.as_str(),
            reply.uid,
            reply.seat.as_str(),
            reply.vtnr
        ),
        ("7", "/run/user/1000", 1000, "", 0)
    );
    assert!(reply.fd.is_none() && !reply.existing && reply.object_path.is_empty());
    let sent = String::from_utf8(h.join().unwrap().request).unwrap();
    let pid = std::process::id();
    assert!(
        sent.starts_with(&format!(
            r#"{{"method":"io.systemd.Login.CreateSession","parameters":{{"UID":1000,"PID":{{"pid":{pid}"#
        )),
        "{sent}"
    );
    assert!(
        sent.ends_with(
            r#""Service":"sshd","Type":"tty","Class":"user_light","TTY":"pts/1","Remote":true,"RemoteHost":"10.0.0.1"}}"#
        ),
        "{sent}"
    );
}

/// The connection `reachable` made carries the call: the peer serves one connection only (a
/// second connect would sit in its backlog unanswered until the 5 s deadline).
#[test]
fn the_probed_connection_carries_the_call() {
    let (sock, h) = answer(b"{\"parameters\":{\"Id\":\"7\",\"RuntimePath\":\"/run/user/1000\",\"UID\":1000}}\0");
    let mut t = Varlink::default();
    assert_eq!(t.reachable(&ep(sock.bytes())), Ok(()));
    let p = plan(None);
    let mut attempts = Vec::new();
    let started = std::time::Instant::now();
    let r = t.create(&ep(sock.bytes()), &p, p.first(), &[], &mut attempts);
    assert!(matches!(r, Ok(Answer::Session(_))), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        h.join()
            .unwrap()
            .request
            .starts_with(br#"{"method":"io.systemd.Login.CreateSession""#)
    );
    // Used once: a later create connects afresh.
    assert!(t.probed.is_none());
}

#[test]
fn no_socket_falls_back() {
    let sock = TempSock::new();
    let (attempts, r) = create(sock.bytes(), &plan(None));
    let f = r.unwrap_err();
    assert!(f.falls_back(), "{f:?}");
    assert!(attempts.is_empty(), "no call was sent");
    assert_eq!(
        plan(None).next(VL262, &f),
        Next::Send(Attempt {
            via: Via::DbusPidfd,
            request: Generation::V257
        })
    );
}

#[test]
fn already_member_is_an_answer() {
    let (sock, _h) = answer(b"{\"error\":\"io.systemd.Login.AlreadySessionMember\",\"parameters\":{}}\0");
    let (_, r) = create(sock.bytes(), &plan(None));
    assert!(
        matches!(&r, Ok(Answer::AlreadyInSession { message }) if message == "io.systemd.Login.AlreadySessionMember"),
        "{r:?}"
    );
}

/// A peer that accepts one connection per reply, reads its call, answers the reply; joins to
/// the calls read.
fn peer(replies: &'static [&'static [u8]]) -> (TempSock, std::thread::JoinHandle<Vec<String>>) {
    let sock = TempSock::new();
    let l = std::os::unix::net::UnixListener::bind(&sock.0).unwrap();
    let h = std::thread::spawn(move || {
        let mut calls = Vec::new();
        for reply in replies {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let mut b = [0u8; 1];
            while std::io::Read::read(&mut s, &mut b).unwrap() == 1 && b[0] != 0 {
                buf.push(b[0]);
            }
            let _ = s.write_all(reply);
            calls.push(String::from_utf8(buf).unwrap());
        }
        calls
    });
    (sock, h)
}

const CLASS_REFUSED: &[u8] =
    b"{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"Class\"}}\0";

/// A class the 262 rules chose, refused (logind 258–261 without it): once more with the 257
/// request, on a new connection.
#[test]
fn refused_class_retried_with_older_request() {
    let (sock, h) = peer(&[
        CLASS_REFUSED,
        b"{\"parameters\":{\"Id\":\"8\",\"RuntimePath\":\"/run/user/1000\",\"UID\":1000}}\0",
    ]);
    let (attempts, r) = create(sock.bytes(), &plan(None));
    assert!(matches!(&r, Ok(Answer::Session(s)) if s.id == "8"), "{r:?}");
    assert_eq!(
        attempts,
        [
            VL262,
            Attempt {
                via: Via::Varlink,
                request: Generation::V257
            }
        ]
    );
    let calls = h.join().unwrap();
    assert!(calls[0].contains(r#""Class":"user_light""#), "{calls:?}");
    assert!(calls[1].contains(r#""Class":"user_early""#), "{calls:?}");
}

/// Pinned to 262, the refusal stands: C 262's line and SERVICE_ERR.
#[test]
fn refused_class_pinned_stands() {
    let (sock, _h) = peer(&[CLASS_REFUSED]);
    let (attempts, r) = create(sock.bytes(), &plan(Some(Generation::V262)));
    let f = r.unwrap_err();
    assert_eq!(attempts, [VL262]);
    assert!(
        matches!(&f, Failure::Varlink { parameter: Some(p), .. } if p == "Class"),
        "{f:?}"
    );
    let e = crate::logind::bus_error(crate::logind::Op::Create, &f, &ep(sock.bytes()), 0);
    assert_eq!(e.code(), crate::ffi::PAM_SERVICE_ERR);
    assert!(
        e.message().starts_with(
            "Varlink call io.systemd.Login.CreateSession failed: org.varlink.service.InvalidParameter (socket "
        ),
        "{}",
        e.message()
    );
}

#[test]
fn release_over_varlink() {
    let (sock, h) = answer(b"{}\0");
    assert_eq!(Varlink::default().release(&ep(sock.bytes()), b"7"), Ok(()));
    assert_eq!(
        h.join().unwrap().request,
        br#"{"method":"io.systemd.Login.ReleaseSession","parameters":{"Id":"7"}}"#
    );
    let (sock, _h) = answer(b"{\"error\":\"io.systemd.Login.NoSuchSession\"}\0");
    let f = Varlink::default().release(&ep(sock.bytes()), b"7").unwrap_err();
    let e = crate::logind::bus_error(crate::logind::Op::Release, &f, &ep(sock.bytes()), 0);
    assert_eq!(e.code(), crate::ffi::PAM_SERVICE_ERR);
    assert!(
        e.message().starts_with(
            "Varlink call io.systemd.Login.ReleaseSession failed: io.systemd.Login.NoSuchSession (socket "
        ),
        "{}",
        e.message()
    );
    let missing = TempSock::new();
    assert!(
        Varlink::default()
            .release(&ep(missing.bytes()), b"7")
            .unwrap_err()
            .falls_back()
    );
}
