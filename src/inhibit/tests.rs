//! The inputs and the request (tables), acquire over a scripted call (every failure path, its
//! line and what is kept), and release.

use super::*;
use crate::ffi::{PAM_BUF_ERR, PAM_SYSTEM_ERR};
use crate::logind::plan::ErrorName;
use crate::pam::fake::{Datum, FakePam};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Duration;

fn secure_env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&CStr) -> Option<Vec<u8>> {
    move |name: &CStr| {
        vars.iter()
            .find(|(k, _)| k.as_bytes() == name.to_bytes())
            .map(|(_, v)| v.as_bytes().to_vec())
    }
}

#[test]
fn inputs_table() {
    type Case = (
        &'static [(&'static str, &'static str)], // PAM env
        &'static [(&'static str, &'static str)], // process env (secure_getenv)
        Option<&'static str>,                    // inhibit=
        Option<&'static str>,                    // inhibit-why=
        Option<&'static str>,                    // what
        Option<&'static str>,                    // why
    );
    let cases: &[Case] = &[
        (&[], &[], None, None, None, None),
        (&[], &[], Some("sleep"), None, Some("sleep"), None),
        // An empty argument is still a lock request.
        (&[], &[], Some(""), Some(""), Some(""), Some("")),
        (
            &[("XDG_SESSION_INHIBIT", "idle")],
            &[],
            Some("sleep"),
            None,
            Some("idle"),
            None,
        ),
        (
            &[],
            &[("XDG_SESSION_INHIBIT", "shutdown")],
            Some("sleep"),
            None,
            Some("shutdown"),
            None,
        ),
        // PAM env beats the process env; empty values fall through.
        (
            &[("XDG_SESSION_INHIBIT", "idle")],
            &[("XDG_SESSION_INHIBIT", "shutdown")],
            None,
            None,
            Some("idle"),
            None,
        ),
        (
            &[("XDG_SESSION_INHIBIT", "")],
            &[("XDG_SESSION_INHIBIT", "")],
            Some("sleep"),
            None,
            Some("sleep"),
            None,
        ),
        (&[("XDG_SESSION_INHIBIT", "")], &[], None, None, None, None),
        (
            &[("XDG_SESSION_INHIBIT_WHY", "Backup")],
            &[],
            None,
            Some("x"),
            None,
            Some("Backup"),
        ),
        (
            &[],
            &[("XDG_SESSION_INHIBIT_WHY", "Env")],
            Some("sleep"),
            Some("Arg"),
            Some("sleep"),
            Some("Env"),
        ),
    ];
    for (pam_env, proc_env, arg_what, arg_why, what, why) in cases {
        let mut pam = FakePam::default();
        for (k, v) in *pam_env {
            pam = pam.env(&CString::new(*k).unwrap(), v);
        }
        let got = inputs(
            &pam,
            secure_env(proc_env),
            arg_what.map(str::as_bytes),
            arg_why.map(str::as_bytes),
        );
        assert_eq!(
            got,
            (what.map(|s| s.as_bytes().to_vec()), why.map(|s| s.as_bytes().to_vec())),
            "{pam_env:?} {proc_env:?} {arg_what:?} {arg_why:?}"
        );
    }
}

#[test]
fn request_table() {
    assert_eq!(
        request(b"sleep:shutdown", Some(b"Backup"), Some(b"sshd")),
        Request {
            what: b"sleep:shutdown",
            who: b"sshd",
            why: b"Backup",
            mode: "block"
        }
    );
    assert_eq!(
        request(b"", None, None),
        Request {
            what: b"",
            who: b"pam_systemd",
            why: b"Active PAM session",
            mode: "block"
        }
    );
    // Empty values are sent empty: only NULL takes the default.
    assert_eq!(request(b"idle", Some(b""), Some(b"")).why, b"");
    assert_eq!(request(b"idle", Some(b""), Some(b"")).who, b"");
}

/// What, who, why and mode of one request.
type SeenRequest = (Vec<u8>, Vec<u8>, Vec<u8>, &'static str);

/// A scripted `Inhibit`: the requests it saw, and one answer.
struct Scripted {
    answer: Option<Result<(), Failure>>,
    seen: Vec<SeenRequest>,
    /// The write end of the pipe whose read end was handed out, to tell when it is closed.
    peer: Option<OwnedFd>,
}

impl Scripted {
    fn answering(answer: Result<(), Failure>) -> Self {
        Scripted {
            answer: Some(answer),
            seen: Vec::new(),
            peer: None,
        }
    }
}

impl InhibitCall for Scripted {
    fn inhibit(&mut self, _ep: &Endpoint, req: &Request<'_>) -> Result<OwnedFd, Failure> {
        self.seen
            .push((req.what.to_vec(), req.who.to_vec(), req.why.to_vec(), req.mode));
        self.answer.take().expect("one call")?;
        let mut fds = [0; 2];
        // SAFETY: valid out-array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: fresh fds.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        self.peer = Some(w);
        Ok(r)
    }
}

/// Whether the read end of the scripted pipe has been closed (a write then fails with EPIPE).
/// Another test of this binary that forks at the wrong moment hands its child a copy of every
/// fd open then (CLOEXEC only acts at exec), so a closed lock may look open until that child
/// exits: the check gives such a copy up to 2 s to go away.
fn lock_closed(s: &Scripted) -> bool {
    let w = s.peer.as_ref().expect("a lock was handed out");
    let until = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        // SAFETY: valid fd and one-byte buffer.
        let n = unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        if n < 0 && crate::sys::errno() == libc::EPIPE {
            return true;
        }
        if std::time::Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ep() -> Endpoint {
    Endpoint::new("unix:path=/nowhere".into(), Some(Duration::from_secs(1)))
}

fn run(pam: &mut FakePam, call: &mut Scripted, what: &str, why: Option<&str>, debug: bool) -> Vec<String> {
    crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"sshd", debug, |_| {
            acquire_inhibit_lock(pam, call, &ep(), what.as_bytes(), why.map(str::as_bytes), 4242, 0)
        })
    })
    .1
}

#[test]
fn acquire_keeps_the_fd_and_release_closes_it() {
    let mut pam = FakePam::default().item(StringItem::Service, "sshd");
    let mut call = Scripted::answering(Ok(()));
    let lines = run(&mut pam, &mut call, "sleep:shutdown", Some("Backup"), true);
    assert_eq!(
        lines,
        [
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.",
            "DEBUG Acquired inhibit lock for 'sleep:shutdown'."
        ]
    );
    assert_eq!(
        call.seen,
        [(
            b"sleep:shutdown".to_vec(),
            b"sshd".to_vec(),
            b"Backup".to_vec(),
            "block"
        )]
    );
    assert!(pam.fd(FD_KEY).is_some());
    assert!(!lock_closed(&call));

    release_inhibit_lock(&mut pam);
    assert_eq!(pam.cleared, [FD_KEY.to_owned()]);
    assert!(lock_closed(&call), "clearing the key runs the close cleanup");
}

#[test]
fn acquire_defaults_and_silence_without_debug() {
    let mut pam = FakePam::default();
    let mut call = Scripted::answering(Ok(()));
    assert!(run(&mut pam, &mut call, "", None, false).is_empty());
    assert_eq!(
        call.seen,
        [(
            Vec::new(),
            b"pam_systemd".to_vec(),
            b"Active PAM session".to_vec(),
            "block"
        )]
    );
    // An unreadable PAM_SERVICE is no service, as C ignores pam_get_item's answer.
    let mut pam = FakePam {
        item_fails: Some(PAM_SYSTEM_ERR),
        ..FakePam::default()
    };
    let mut call = Scripted::answering(Ok(()));
    run(&mut pam, &mut call, "idle", None, false);
    assert_eq!(call.seen[0].1, b"pam_systemd");
}

#[test]
fn acquire_failures_are_logged_and_never_fatal() {
    let call_err = Failure::Call {
        name: Some(ErrorName::Dbus("org.freedesktop.DBus.Error.InvalidArgs".into())),
        message: "Invalid what specification bogus".into(),
        detail: String::new(),
        elapsed: Duration::from_millis(3),
    };
    let bus_line = "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.";
    let cases: Vec<(Failure, Vec<String>)> = vec![
        (
            Failure::Connect {
                errno: libc::ENOENT,
                detail: String::new(),
                elapsed: Duration::from_millis(0),
            },
            vec![format!(
                "ERROR Failed to connect to system bus: {} (unix:path=/nowhere after 0 ms)",
                strerror(libc::ENOENT)
            )],
        ),
        (
            call_err,
            vec![
                bus_line.into(),
                "WARN Failed to acquire inhibit lock: Invalid what specification bogus".into(),
            ],
        ),
        (
            Failure::BuildMessage { errno: libc::EINVAL },
            vec![
                bus_line.into(),
                format!("WARN Failed to acquire inhibit lock: {}", strerror(libc::EINVAL)),
            ],
        ),
        (
            Failure::BadReply {
                detail: "signature 's', expected 'h'".into(),
            },
            vec![
                bus_line.into(),
                format!(
                    "ERROR Failed to parse bus message: {} (signature 's', expected 'h')",
                    strerror(libc::ENXIO)
                ),
            ],
        ),
        (
            Failure::DupFd { errno: libc::EMFILE },
            vec![
                bus_line.into(),
                format!("ERROR Failed to dup inhibit lock fd: {}", strerror(libc::EMFILE)),
            ],
        ),
    ];
    for (failure, want) in cases {
        let mut pam = FakePam::default();
        let mut call = Scripted::answering(Err(failure.clone()));
        let lines = run(&mut pam, &mut call, "bogus", None, true);
        assert_eq!(lines, want, "{failure:?}");
        assert!(pam.data.is_empty());
    }
}

#[test]
fn store_failure_closes_the_fd() {
    let mut pam = FakePam::default();
    pam.set_fails.push((FD_KEY.to_owned(), PAM_BUF_ERR));
    let mut call = Scripted::answering(Ok(()));
    let lines = run(&mut pam, &mut call, "sleep", None, true);
    assert_eq!(
        lines,
        [
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.".to_owned(),
            format!("ERROR Failed to store inhibit lock fd: pam error {PAM_BUF_ERR}")
        ]
    );
    assert!(lock_closed(&call));
    assert!(!matches!(pam.data.get(FD_KEY), Some(Datum::Fd(_))));
}

#[test]
fn release_without_lock_clears_the_key_all_the_same() {
    let mut pam = FakePam::default();
    release_inhibit_lock(&mut pam);
    assert_eq!(pam.cleared, [FD_KEY.to_owned()]);
    // A failing pam_set_data is ignored, as C ignores it.
    let mut pam = FakePam::default();
    pam.set_fails.push((FD_KEY.to_owned(), PAM_SYSTEM_ERR));
    release_inhibit_lock(&mut pam);
    assert!(pam.cleared.is_empty());
}

/// A private `dbus-daemon` on a socket in a fresh directory; killed and removed on drop.
struct Bus {
    child: std::process::Child,
    dir: std::path::PathBuf,
    address: String,
}

impl Bus {
    fn start() -> Bus {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pam_systemd_rs-inhibit-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("bus");
        let conf = dir.join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                sock.display()
            ),
        )
        .unwrap();
        let mut cmd = std::process::Command::new("dbus-daemon");
        cmd.arg(format!("--config-file={}", conf.display()))
            .arg("--nofork")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: prctl only, async-signal-safe, in the child before exec: the daemon dies with
        // this test's thread, also when the test binary is killed.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("dbus-daemon (package dbus-daemon) runs");
        let address = format!("unix:path={}", sock.display());
        let bus = Bus { child, dir, address };
        let t0 = std::time::Instant::now();
        while std::os::unix::net::UnixStream::connect(&sock).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(10), "dbus-daemon did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
        bus
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A logind that owns `org.freedesktop.login1` on `address` and answers `Manager.Inhibit`: for
/// `what` = `bogus` logind's `InvalidArgs` error, else the read end of a fresh pipe. Sends
/// `(what, who, why, mode)` and the pipe's write end (or `None`) through the channel per call.
type Seen = ((String, String, String, String), Option<OwnedFd>);

fn serve_logind(address: String, calls: usize) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Receiver<Seen>) {
    use futures_core::Stream;
    use std::pin::Pin;
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        zbus::block_on(async move {
            let conn = zbus::connection::Builder::address(address.as_str())
                .name("org.freedesktop.login1")
                .build()
                .await
                .unwrap();
            let mut stream = zbus::MessageStream::from(&conn);
            ready_tx.send(()).unwrap();
            let mut served = 0;
            while served < calls {
                let Some(Ok(msg)) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await else {
                    return;
                };
                let hdr = msg.header();
                if hdr.message_type() != zbus::message::Type::MethodCall
                    || hdr.member().map(|m| m.as_str()) != Some("Inhibit")
                {
                    continue;
                }
                assert_eq!(
                    hdr.interface().map(|i| i.as_str()),
                    Some("org.freedesktop.login1.Manager")
                );
                assert_eq!(hdr.path().map(|p| p.as_str()), Some("/org/freedesktop/login1"));
                let (what, who, why, mode): (String, String, String, String) = msg.body().deserialize().unwrap();
                served += 1;
                if what == "bogus" {
                    conn.reply_error(
                        &hdr,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &("Invalid what specification bogus",),
                    )
                    .await
                    .unwrap();
                    tx.send(((what, who, why, mode), None)).unwrap();
                    continue;
                }
                let mut fds = [0; 2];
                // SAFETY: valid out-array.
                assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
                // SAFETY: fresh fds.
                let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
                conn.reply(&hdr, &(zbus::Fd::from(&r),)).await.unwrap();
                drop(r);
                tx.send(((what, who, why, mode), Some(w))).unwrap();
            }
        });
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("fake logind on the bus");
    (h, rx)
}

/// Whether the pipe's read end is closed everywhere (a write fails with EPIPE).
fn reader_gone(w: &OwnedFd) -> bool {
    // SAFETY: valid fd and one-byte buffer.
    let n = unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    n < 0 && crate::sys::errno() == libc::EPIPE
}

/// [`reader_gone`] within 5 s: the copies outside the module (the in-test logind's, which zbus
/// drops after its reply is written, and dbus-daemon's, dropped after forwarding) close on their
/// own time, which a fast client can beat. A copy the module kept never closes: still a failure.
fn reader_gone_soon(w: &OwnedFd) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if reader_gone(w) {
            return true;
        }
        if std::time::Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
#[cfg_attr(miri, ignore)] // processes and sockets
fn real_bus_lock_taken_kept_and_released() {
    let bus = Bus::start();
    let (server, calls) = serve_logind(bus.address.clone(), 2);
    let ep = Endpoint::new(bus.address.clone(), Some(Duration::from_secs(10)));

    let mut pam = FakePam::default().item(StringItem::Service, "login");
    let (_, lines) = crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", true, |_| {
            acquire_inhibit_lock(&mut pam, &mut DbusInhibit, &ep, b"sleep:shutdown", None, 4242, 0)
        })
    });
    assert_eq!(
        lines,
        [
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.",
            "DEBUG Acquired inhibit lock for 'sleep:shutdown'."
        ]
    );
    let ((what, who, why, mode), w) = calls.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        (what.as_str(), who.as_str(), why.as_str(), mode.as_str()),
        ("sleep:shutdown", "login", "Active PAM session", "block")
    );
    let w = w.unwrap();
    let kept = pam.fd(FD_KEY).expect("lock kept").as_raw_fd();
    assert!(kept >= 3);
    // SAFETY: fcntl F_GETFD on a valid fd.
    let flags = unsafe { libc::fcntl(kept, libc::F_GETFD) };
    assert_eq!(
        flags & libc::FD_CLOEXEC,
        libc::FD_CLOEXEC,
        "dup'ed with F_DUPFD_CLOEXEC"
    );
    assert!(!reader_gone(&w), "the lock is held while the fd is kept");
    release_inhibit_lock(&mut pam);
    assert!(reader_gone_soon(&w), "released: the only copy of the lock fd is closed");

    // logind refuses: WARNING, nothing kept.
    let mut pam = FakePam::default();
    let (_, lines) = crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", false, |_| {
            acquire_inhibit_lock(&mut pam, &mut DbusInhibit, &ep, b"bogus", Some(b"Backup"), 4242, 0)
        })
    });
    assert_eq!(
        lines,
        ["WARN Failed to acquire inhibit lock: Invalid what specification bogus"]
    );
    let ((what, who, why, _), w) = calls.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        (what.as_str(), who.as_str(), why.as_str()),
        ("bogus", "pam_systemd", "Backup")
    );
    assert!(w.is_none());
    assert!(pam.data.is_empty());
    server.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore)] // sockets
fn real_bus_absent_is_the_connect_line() {
    let ep = Endpoint::new("unix:path=/nonexistent/bus".into(), Some(Duration::from_secs(1)));
    let mut pam = FakePam::default();
    let (_, lines) = crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", true, |_| {
            acquire_inhibit_lock(&mut pam, &mut DbusInhibit, &ep, b"sleep", None, 1, 0)
        })
    });
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(
            "ERROR Failed to connect to system bus: No such file or directory (unix:path=/nonexistent/bus after "
        ),
        "{lines:?}"
    );
    assert!(pam.data.is_empty());
}
