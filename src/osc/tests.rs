//! The OSC 3008 bytes (table tests against sequences written out by hand from osc-context.c),
//! and open/close over a scripted terminal and libpam: every condition and failure path.

use super::*;
use crate::ffi::PAM_SYSTEM_ERR;
use crate::pam::fake::{Datum, FakePam};
use std::os::fd::AsRawFd;

const ID: ContextId = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
];

fn who() -> Identity {
    Identity {
        user: Some(b"root".to_vec()),
        hostname: Some(b"forky".to_vec()),
        machine_id: Some([0x11; 16]),
        boot_id: Some([0x22; 16]),
        pid: 4242,
        pidfd_id: Some(77),
        comm: b"login".to_vec(),
    }
}

#[test]
fn v4_sets_version_and_variant_only() {
    assert_eq!(
        v4([0xff; 16]),
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]
    );
    let z = v4([0; 16]);
    assert_eq!((z[6], z[8]), (0x40, 0x80));
    assert!(end_sequence(&z).is_some(), "a v4 id is never the null id");
}

#[test]
fn escape_table() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"alice", b"alice"),
        (b"", b""),
        (b"a;b", b"a\\x3bb"),
        (b"a\\b", b"a\\x5cb"),
        (b"\x1b]0;x\x07", b"\\x1b]0\\x3bx\\x07"),
        (b"tab\there", b"tab\\x09here"),
        (b"\x7f", b"\\x7f"),
        ("jörg".as_bytes(), b"j\\xc3\\xb6rg"),
        (b"a=b c", b"a=b c"),
        (b"~", b"~"),
    ];
    for (input, want) in cases {
        assert_eq!(escape(input), *want, "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn wanted_table() {
    type Case<'a> = (&'a [u8], Option<&'a [u8]>, bool);
    let cases: &[Case<'_>] = &[
        (b"tty", Some(b"xterm-256color"), true),
        (b"tty", None, true),
        (b"tty", Some(b""), true),
        (b"tty", Some(b"dumb"), false),
        (b"tty", Some(b"dumb "), true),
        (b"x11", Some(b"xterm"), false),
        (b"wayland", None, false),
        (b"unspecified", None, false),
        (b"", None, false),
        (b"TTY", None, false),
    ];
    for (ty, term, want) in cases {
        assert_eq!(wanted(ty, *term), *want, "{:?} {:?}", String::from_utf8_lossy(ty), term);
    }
}

#[test]
fn start_sequence_every_field_in_c_order() {
    let seq = start_sequence(&ID, &who(), Some(b"alice"), Some(b"7"));
    let want = "\x1b]3008;start=0123456789abcdeffedcba9876543210;user=root;hostname=forky;\
                machineid=11111111111111111111111111111111;bootid=22222222222222222222222222222222;\
                pid=4242;pidfdid=77;comm=login;targetuser=alice;sessionid=7;type=session\x1b\\";
    assert_eq!(String::from_utf8(seq).unwrap(), want);
}

#[test]
fn start_sequence_leaves_out_what_c_leaves_out() {
    let bare = Identity {
        pid: 1,
        ..Identity::default()
    };
    let seq = start_sequence(&ID, &bare, None, None);
    assert_eq!(
        String::from_utf8(seq).unwrap(),
        "\x1b]3008;start=0123456789abcdeffedcba9876543210;pid=1;comm=;type=session\x1b\\"
    );
    // An empty USER is still a user (secure_getenv returned a string).
    let empty_user = Identity {
        user: Some(Vec::new()),
        pid: 1,
        ..Identity::default()
    };
    let seq = start_sequence(&ID, &empty_user, Some(b""), Some(b""));
    assert_eq!(
        String::from_utf8(seq).unwrap(),
        "\x1b]3008;start=0123456789abcdeffedcba9876543210;user=;pid=1;comm=;targetuser=;sessionid=;type=session\x1b\\"
    );
}

#[test]
fn start_sequence_escapes_the_text_fields_only() {
    let w = Identity {
        user: Some(b"a;b".to_vec()),
        hostname: Some(b"h\\x".to_vec()),
        comm: b"s\x1bu".to_vec(),
        pid: 9,
        ..Identity::default()
    };
    let seq = start_sequence(&ID, &w, Some(b"t\nu"), Some(b"1;2"));
    assert_eq!(
        String::from_utf8(seq).unwrap(),
        "\x1b]3008;start=0123456789abcdeffedcba9876543210;user=a\\x3bb;hostname=h\\x5cx;pid=9;\
         comm=s\\x1bu;targetuser=t\\x0au;sessionid=1\\x3b2;type=session\x1b\\"
    );
}

#[test]
fn end_sequence_bytes() {
    assert_eq!(
        end_sequence(&ID).unwrap(),
        b"\x1b]3008;end=0123456789abcdeffedcba9876543210\x1b\\".to_vec()
    );
    assert_eq!(end_sequence(&[0; 16]), None);
}

#[test]
fn parse_id128_table() {
    let id = Some([
        0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9,
    ]);
    let plain = b"0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let uuid = b"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
    assert_eq!(parse_id128(plain, false), id);
    assert_eq!(parse_id128(b"0a1b2c3d4e5f60718293a4b5c6d7e8f9\n", false), id);
    assert_eq!(parse_id128(b"0A1B2C3D4E5F60718293A4B5C6D7E8F9\n", false), id);
    assert_eq!(parse_id128(uuid, true), id);
    assert_eq!(parse_id128(b"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9\n", true), id);
    assert_eq!(parse_id128(uuid, false), None, "machine-id is plain only");
    assert_eq!(parse_id128(plain, true), None, "boot_id is UUID only");
    assert_eq!(parse_id128(b"uninitialized\n", false), None);
    assert_eq!(parse_id128(b"", false), None);
    assert_eq!(parse_id128(&[b'0'; 32], false), None, "null refused");
    assert_eq!(parse_id128(b"0a1b2c3d4e5f60718293a4b5c6d7e8f9\n\n", false), None);
    assert_eq!(parse_id128(b"0a1b2c3d4e5f60718293a4b5c6d7e8fg", false), None);
    assert_eq!(parse_id128(b"0a1b2c3d-4e5f-6071-8293_a4b5c6d7e8f9", true), None);
}

#[test]
fn hostname_validity() {
    for ok in ["forky", "a.b-c", "x1", &"a".repeat(64)] {
        assert!(hostname_is_valid(ok.as_bytes()), "{ok}");
    }
    for bad in ["", ".a", "a.", "a..b", "a b", "a_b", &"a".repeat(65), "a?b"] {
        assert!(!hostname_is_valid(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn os_release_value_table() {
    let text = b"NAME=\"Debian GNU/Linux\"\nDEFAULT_HOSTNAME=box\n#DEFAULT_HOSTNAME=no\n";
    assert_eq!(os_release_value(text, b"DEFAULT_HOSTNAME"), Some(b"box".to_vec()));
    assert_eq!(os_release_value(text, b"NAME"), Some(b"Debian GNU/Linux".to_vec()));
    assert_eq!(
        os_release_value(b"DEFAULT_HOSTNAME='q'\n", b"DEFAULT_HOSTNAME"),
        Some(b"q".to_vec())
    );
    assert_eq!(os_release_value(b"DEFAULT_HOSTNAMEX=a\n", b"DEFAULT_HOSTNAME"), None);
    assert_eq!(os_release_value(b"ID=debian\n", b"DEFAULT_HOSTNAME"), None);
}

/// A scripted terminal: what each call answers, and what was written where.
struct Script {
    term: Option<Vec<u8>>,
    tty: bool,
    pin: Result<(), i32>,
    random: [u8; 16],
    stdout_write: Result<(), i32>,
    reopen: Result<(), i32>,
    reopened_is_tty: bool,
    fd_write: Result<(), i32>,
    /// Everything written to stdout.
    stdout: Vec<Vec<u8>>,
    /// Everything written to a reopened tty.
    written: Vec<Vec<u8>>,
    /// The pins the close reopened.
    reopened: Vec<RawFd>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            term: None,
            tty: true,
            pin: Ok(()),
            random: [0xaa; 16],
            stdout_write: Ok(()),
            reopen: Ok(()),
            reopened_is_tty: true,
            fd_write: Ok(()),
            stdout: Vec::new(),
            written: Vec::new(),
            reopened: Vec::new(),
        }
    }
}

fn dev_null() -> OwnedFd {
    OwnedFd::from(std::fs::File::open("/dev/null").unwrap())
}

impl Terminal for Script {
    fn term_env(&self) -> Option<Vec<u8>> {
        self.term.clone()
    }
    fn stdout_is_tty(&self) -> bool {
        self.tty
    }
    fn pin_stdout(&mut self) -> Result<OwnedFd, i32> {
        self.pin.map(|()| dev_null())
    }
    fn random(&mut self) -> [u8; 16] {
        self.random
    }
    fn identity(&mut self) -> Identity {
        who()
    }
    fn write_stdout(&mut self, seq: &[u8]) -> Result<(), i32> {
        self.stdout.push(seq.to_vec());
        self.stdout_write
    }
    fn reopen(&mut self, pin: RawFd) -> Result<OwnedFd, i32> {
        self.reopened.push(pin);
        self.reopen.map(|()| dev_null())
    }
    fn is_tty(&self, _fd: BorrowedFd<'_>) -> bool {
        self.reopened_is_tty
    }
    fn write_fd(&mut self, _fd: BorrowedFd<'_>, seq: &[u8]) -> Result<(), i32> {
        self.written.push(seq.to_vec());
        self.fd_write
    }
}

/// The id the script's random bytes become.
fn script_id() -> ContextId {
    v4([0xaa; 16])
}

fn run_open(pam: &mut FakePam, t: &mut Script, ty: &str, debug: bool) -> (Result<(), Error>, Vec<String>) {
    crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", debug, |_| open_osc_context(pam, t, ty.as_bytes(), b"alice"))
    })
}

fn run_close(pam: &FakePam, t: &mut Script) -> Vec<String> {
    crate::logging::tests::captured(|| crate::logging::with_scope(b"login", true, |_| close_osc_context(pam, t))).1
}

fn expected_start(session_id: Option<&[u8]>) -> Vec<u8> {
    start_sequence(&script_id(), &who(), Some(b"alice"), session_id)
}

#[test]
fn open_writes_start_and_keeps_id_and_pin() {
    let mut pam = FakePam::default().env(c"XDG_SESSION_ID", "7");
    let mut t = Script::default();
    let (r, lines) = run_open(&mut pam, &mut t, "tty", true);
    assert_eq!(r, Ok(()));
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(t.stdout, vec![expected_start(Some(b"7"))]);
    assert!(matches!(pam.data.get(ID_KEY), Some(Datum::Id(Some(id))) if *id == script_id()));
    let pin = pam.fd(FD_KEY).expect("pin kept").as_raw_fd();
    assert!(pin > 2);

    // Close: the pin (fd + 1 in PAM data, read back as the fd) reopened, the end written there.
    let lines = run_close(&pam, &mut t);
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(t.reopened, vec![pin]);
    assert_eq!(t.written, vec![end_sequence(&script_id()).unwrap()]);
    assert!(pam.fd(FD_KEY).is_some(), "the pin stays until pam_end");
}

#[test]
fn open_without_session_id_leaves_it_out() {
    let mut pam = FakePam::default();
    let mut t = Script::default();
    let (r, _) = run_open(&mut pam, &mut t, "tty", false);
    assert_eq!(r, Ok(()));
    assert_eq!(t.stdout, vec![expected_start(None)]);
}

#[test]
fn open_writes_nothing_unless_tty_type_not_dumb_and_stdout_a_tty() {
    struct Case {
        ty: &'static str,
        pam_term: Option<&'static str>,
        env_term: Option<&'static str>,
        tty: bool,
        writes: bool,
    }
    let cases = [
        Case {
            ty: "tty",
            pam_term: None,
            env_term: None,
            tty: true,
            writes: true,
        },
        Case {
            ty: "x11",
            pam_term: None,
            env_term: None,
            tty: true,
            writes: false,
        },
        Case {
            ty: "unspecified",
            pam_term: None,
            env_term: None,
            tty: true,
            writes: false,
        },
        Case {
            ty: "tty",
            pam_term: Some("dumb"),
            env_term: None,
            tty: true,
            writes: false,
        },
        Case {
            ty: "tty",
            pam_term: None,
            env_term: Some("dumb"),
            tty: true,
            writes: false,
        },
        // The PAM env wins over the process env, even when empty.
        Case {
            ty: "tty",
            pam_term: Some("xterm"),
            env_term: Some("dumb"),
            tty: true,
            writes: true,
        },
        Case {
            ty: "tty",
            pam_term: Some(""),
            env_term: Some("dumb"),
            tty: true,
            writes: true,
        },
        Case {
            ty: "tty",
            pam_term: Some("dumb"),
            env_term: Some("xterm"),
            tty: true,
            writes: false,
        },
        Case {
            ty: "tty",
            pam_term: None,
            env_term: None,
            tty: false,
            writes: false,
        },
    ];
    for c in cases {
        let mut pam = FakePam::default();
        if let Some(v) = c.pam_term {
            pam = pam.env(c"TERM", v);
        }
        let mut t = Script {
            term: c.env_term.map(|v| v.as_bytes().to_vec()),
            tty: c.tty,
            ..Script::default()
        };
        let (r, lines) = run_open(&mut pam, &mut t, c.ty, true);
        assert_eq!(r, Ok(()));
        assert!(lines.is_empty());
        assert_eq!(
            !t.stdout.is_empty(),
            c.writes,
            "{} {:?} {:?} {}",
            c.ty,
            c.pam_term,
            c.env_term,
            c.tty
        );
        assert_eq!(pam.data.contains_key(ID_KEY), c.writes);
        assert_eq!(pam.data.contains_key(FD_KEY), c.writes);
    }
}

#[test]
fn pin_failure_is_a_debug_line_and_no_fd_data() {
    let mut pam = FakePam::default();
    let mut t = Script {
        pin: Err(libc::ENOSYS),
        ..Script::default()
    };
    let (r, lines) = run_open(&mut pam, &mut t, "tty", true);
    assert_eq!(r, Ok(()));
    assert_eq!(
        lines,
        vec![format!("DEBUG Failed to pin TTY, ignoring: {}", strerror(libc::ENOSYS))]
    );
    assert_eq!(t.stdout.len(), 1);
    assert!(pam.data.contains_key(ID_KEY));
    assert!(!pam.data.contains_key(FD_KEY));
    // Without debug: silent.
    let mut pam = FakePam::default();
    let mut t = Script {
        pin: Err(libc::ENOSYS),
        ..Script::default()
    };
    assert!(run_open(&mut pam, &mut t, "tty", false).1.is_empty());
    // Close without a pin writes nothing.
    let lines = run_close(&pam, &mut t);
    assert!(lines.is_empty());
    assert!(t.reopened.is_empty() && t.written.is_empty());
}

#[test]
fn write_failure_fails_open_and_stores_nothing() {
    for (e, code) in [
        (libc::EAGAIN, PAM_SERVICE_ERR),
        (libc::EIO, PAM_SERVICE_ERR),
        (libc::ENOMEM, PAM_BUF_ERR),
    ] {
        let mut pam = FakePam::default();
        let mut t = Script {
            stdout_write: Err(e),
            ..Script::default()
        };
        let (r, lines) = run_open(&mut pam, &mut t, "tty", true);
        let err = r.unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(
            err.message(),
            format!("Failed to write OSC sequence to TTY: {}", strerror(e))
        );
        assert!(lines.is_empty(), "the caller logs the error line");
        assert!(pam.data.is_empty());
    }
}

#[test]
fn pam_data_failures_fail_open_with_libpam_code() {
    let mut pam = FakePam::default();
    pam.set_fails.push((ID_KEY.to_owned(), PAM_SYSTEM_ERR));
    let mut t = Script::default();
    let err = run_open(&mut pam, &mut t, "tty", false).0.unwrap_err();
    assert_eq!(err.code(), PAM_SYSTEM_ERR);
    assert_eq!(
        err.message(),
        format!("Failed to set PAM OSC sequence ID data: pam error {PAM_SYSTEM_ERR}")
    );
    assert_eq!(t.stdout.len(), 1, "written before the data is stored");
    assert!(!pam.data.contains_key(FD_KEY));

    let mut pam = FakePam::default();
    pam.set_fails.push((FD_KEY.to_owned(), PAM_BUF_ERR));
    let err = run_open(&mut pam, &mut Script::default(), "tty", false).0.unwrap_err();
    assert_eq!(err.code(), PAM_BUF_ERR);
    assert_eq!(
        err.message(),
        format!("Failed to set PAM OSC sequence fd data: pam error {PAM_BUF_ERR}")
    );
    assert!(pam.data.contains_key(ID_KEY));
}

/// An open that wrote the start and kept both keys.
fn opened() -> (FakePam, Script) {
    let mut pam = FakePam::default();
    let mut t = Script::default();
    assert_eq!(run_open(&mut pam, &mut t, "tty", false).0, Ok(()));
    t.stdout.clear();
    (pam, t)
}

#[test]
fn close_failure_paths() {
    // pam_get_data of the pin fails: ERR, nothing else.
    let (mut pam, mut t) = opened();
    pam.get_fails.push((FD_KEY.to_owned(), PAM_SYSTEM_ERR));
    assert_eq!(
        run_close(&pam, &mut t),
        vec![format!(
            "ERROR Failed to get PAM OSC context fd: pam error {PAM_SYSTEM_ERR}"
        )]
    );
    assert!(t.reopened.is_empty());

    // pam_get_data of the id fails: ERR, nothing else.
    let (mut pam, mut t) = opened();
    pam.get_fails.push((ID_KEY.to_owned(), PAM_SYSTEM_ERR));
    assert_eq!(
        run_close(&pam, &mut t),
        vec![format!(
            "ERROR Failed to get PAM OSC context id data: pam error {PAM_SYSTEM_ERR}"
        )]
    );
    assert!(t.reopened.is_empty());

    // No id: nothing.
    let (mut pam, mut t) = opened();
    pam.data.remove(ID_KEY);
    assert!(run_close(&pam, &mut t).is_empty());
    assert!(t.reopened.is_empty());

    // Reopen fails: DEBUG.
    let (pam, mut t) = opened();
    t.reopen = Err(libc::EIO);
    assert_eq!(
        run_close(&pam, &mut t),
        vec![format!("DEBUG Failed to reopen TTY, ignoring: {}", strerror(libc::EIO))]
    );
    assert!(t.written.is_empty());

    // Reopened fd not a tty: silently nothing.
    let (pam, mut t) = opened();
    t.reopened_is_tty = false;
    assert!(run_close(&pam, &mut t).is_empty());
    assert!(t.written.is_empty());

    // Write fails: DEBUG, and close goes on.
    let (pam, mut t) = opened();
    t.fd_write = Err(libc::EAGAIN);
    assert_eq!(
        run_close(&pam, &mut t),
        vec![format!(
            "DEBUG Failed to write OSC sequence to TTY, ignoring: {}",
            strerror(libc::EAGAIN)
        )]
    );
    assert_eq!(t.written.len(), 1);
}

#[test]
fn close_without_open_does_nothing() {
    let pam = FakePam::default();
    let mut t = Script::default();
    assert!(run_close(&pam, &mut t).is_empty());
    assert!(t.reopened.is_empty() && t.written.is_empty());
    // A cleared pin (NULL data: fd -1) is no pin.
    let mut pam = FakePam::default();
    pam.data.insert(FD_KEY.to_owned(), Datum::Value(0));
    pam.data.insert(ID_KEY.to_owned(), Datum::Id(Some(ID)));
    assert!(run_close(&pam, &mut t).is_empty());
    assert!(t.reopened.is_empty());
}

/// The real terminal on a real pseudo-terminal: start written to "stdout" is not testable
/// without replacing fd 1, but the close half is: pin a pty, reopen it, write the end, read it
/// back on the master.
#[test]
fn system_terminal_reopens_a_pinned_pty_and_writes_the_end() {
    // SAFETY: plain libc calls on fds this test owns.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(master >= 0);
    // SAFETY: a fresh fd.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    // SAFETY: valid master fd.
    assert_eq!(unsafe { libc::grantpt(master.as_raw_fd()) }, 0);
    // SAFETY: valid master fd.
    assert_eq!(unsafe { libc::unlockpt(master.as_raw_fd()) }, 0);
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: valid buffer of the stated length.
    assert_eq!(
        unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) },
        0
    );
    // SAFETY: ptsname_r NUL-terminated it.
    let slave_path = unsafe { CStr::from_ptr(name.as_ptr()) }.to_owned();
    // SAFETY: NUL-terminated path; the result is checked.
    let pin = unsafe { libc::open(slave_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    assert!(pin >= 0);
    // SAFETY: a fresh fd.
    let pin = unsafe { OwnedFd::from_raw_fd(pin) };
    // Raw mode on the slave so the bytes come through unchanged.
    // SAFETY: NUL-terminated path.
    let slave = unsafe { libc::open(slave_path.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(slave >= 0);
    // SAFETY: a fresh fd.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    // SAFETY: zeroed termios is a valid out-parameter; valid fds.
    unsafe {
        let mut tio: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(slave.as_raw_fd(), &mut tio), 0);
        libc::cfmakeraw(&mut tio);
        assert_eq!(libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &tio), 0);
    }

    let mut pam = FakePam::default();
    pam.data.insert(FD_KEY.to_owned(), Datum::Fd(pin));
    pam.data.insert(ID_KEY.to_owned(), Datum::Id(Some(ID)));
    let mut t = SystemTerminal;
    let lines = run_close_real(&pam, &mut t);
    assert!(lines.is_empty(), "{lines:?}");
    let want = end_sequence(&ID).unwrap();
    let mut got = vec![0u8; want.len()];
    // SAFETY: valid buffer and fd.
    let n = unsafe { libc::read(master.as_raw_fd(), got.as_mut_ptr().cast(), got.len()) };
    assert_eq!(usize::try_from(n).unwrap(), want.len());
    assert_eq!(got, want);

    // A pin that is not a tty (/dev/null): reopened, checked, nothing written, no line.
    let mut pam = FakePam::default();
    pam.data.insert(FD_KEY.to_owned(), Datum::Fd(dev_null()));
    pam.data.insert(ID_KEY.to_owned(), Datum::Id(Some(ID)));
    assert!(run_close_real(&pam, &mut t).is_empty());
    drop(slave);
}

fn run_close_real(pam: &FakePam, t: &mut SystemTerminal) -> Vec<String> {
    crate::logging::tests::captured(|| crate::logging::with_scope(b"login", true, |_| close_osc_context(pam, t))).1
}

#[test]
fn system_terminal_pieces() {
    let mut t = SystemTerminal;
    let a = t.random();
    let b = t.random();
    assert_ne!(a, b);
    let who = t.identity();
    assert_eq!(who.pid, std::process::id());
    assert!(!who.comm.is_empty(), "program_invocation_short_name");
    assert!(who.hostname.is_some_and(|h| !h.is_empty()));
    // Reopening a closed fd number: EBADF (or ENOSYS without /proc), never a panic.
    let e = t.reopen(1_000_000).unwrap_err();
    assert!(e == libc::EBADF || e == libc::ENOSYS, "{e}");
    // move_above_stdio leaves fds above 2 alone.
    let fd = dev_null();
    let raw = fd.as_raw_fd();
    assert_eq!(move_above_stdio(fd).as_raw_fd(), raw);
    // loop_write to a pipe: all bytes arrive.
    let mut fds = [0; 2];
    // SAFETY: valid out-array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    assert_eq!(t.write_fd(w.as_fd(), b"abc"), Ok(()));
    let mut got = [0u8; 3];
    // SAFETY: valid buffer and fd.
    assert_eq!(unsafe { libc::read(r.as_raw_fd(), got.as_mut_ptr().cast(), 3) }, 3);
    assert_eq!(&got, b"abc");
    // A pipe is not a tty.
    assert!(!t.is_tty(w.as_fd()));
    // Writing to a pipe with no reader fails with EPIPE (SIGPIPE is ignored by the test harness).
    drop(r);
    let e = t.write_fd(w.as_fd(), b"x");
    assert!(e.is_err());
}
