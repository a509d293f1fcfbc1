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
        (&[("XDG_SESSION_INHIBIT", "idle")], &[], Some("sleep"), None, Some("idle"), None),
        (&[], &[("XDG_SESSION_INHIBIT", "shutdown")], Some("sleep"), None, Some("shutdown"), None),
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

/// A scripted `Inhibit`: the requests it saw, and one answer.
struct Scripted {
    answer: Option<Result<(), Failure>>,
    seen: Vec<(Vec<u8>, Vec<u8>, Vec<u8>, &'static str)>,
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
fn lock_closed(s: &Scripted) -> bool {
    let w = s.peer.as_ref().expect("a lock was handed out");
    // SAFETY: valid fd and one-byte buffer.
    let n = unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    n < 0 && crate::sys::errno() == libc::EPIPE
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
        [(b"sleep:shutdown".to_vec(), b"sshd".to_vec(), b"Backup".to_vec(), "block")]
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
        [(Vec::new(), b"pam_systemd".to_vec(), b"Active PAM session".to_vec(), "block")]
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
