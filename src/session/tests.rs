//! The session story against scripted fakes of libpam, logind and the host: one test per rule.
//! The fakes check on drop that every expected call happened.

#![allow(clippy::type_complexity)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::Duration;

use super::*;
use crate::diagnose::Trigger;
use crate::ffi::{PAM_BUF_ERR, PAM_SESSION_ERR};
use crate::host::{FileInfo, NssUser};
use crate::limits::PropValue;
use crate::logind::plan::{self, Created, ErrorName, INVALID_ARGS, Next, Reply, SESSION_BUSY, UNKNOWN_METHOD};

// ---------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Data {
    Str(Vec<u8>),
    Value(usize),
    /// A 16-byte id (`set_data_id128`).
    Id([u8; 16]),
    /// An fd with the close cleanup (its number; the fd itself is in `FakePam::fds`).
    Fd(i32),
}

thread_local! {
    /// What the fakes were asked, across libpam, logind and the terminal, in order (each test
    /// runs on a thread of its own).
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn event(e: impl Into<String>) {
    EVENTS.with(|v| v.borrow_mut().push(e.into()));
}

/// The events so far, emptied.
fn events() -> Vec<String> {
    EVENTS.with(|v| std::mem::take(&mut *v.borrow_mut()))
}

/// libpam: items, env (in order) and data, with optional failures.
struct FakePam {
    user: Result<Vec<u8>, Code>,
    items: Vec<(StringItem, Result<Option<Vec<u8>>, Code>)>,
    env: Vec<(String, Vec<u8>)>,
    data: Vec<(Vec<u8>, Data)>,
    fail_putenv: Option<(&'static str, Code)>,
    fail_set_data: Option<(&'static str, Code)>,
    fail_get_data: Option<(&'static str, Code)>,
    /// PAM_TEXT_INFO messages sent (`pam_info()`).
    infos: Vec<String>,
    /// The fds kept with a close cleanup; dropping one is libpam running the cleanup.
    fds: Vec<(Vec<u8>, OwnedFd)>,
}

impl FakePam {
    fn new(user: &str) -> Self {
        FakePam {
            user: Ok(user.as_bytes().to_vec()),
            items: Vec::new(),
            env: Vec::new(),
            data: Vec::new(),
            fail_putenv: None,
            fail_set_data: None,
            fail_get_data: None,
            infos: Vec::new(),
            fds: Vec::new(),
        }
    }
    fn item(mut self, which: StringItem, v: &str) -> Self {
        self.items.push((which, Ok(Some(v.as_bytes().to_vec()))));
        self
    }
    fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.as_bytes().to_vec()));
        self
    }
    fn data(mut self, k: &str, v: Data) -> Self {
        self.data.push((k.as_bytes().to_vec(), v));
        self
    }
    fn get_env(&self, k: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
    fn names(&self) -> Vec<&str> {
        self.env.iter().map(|(n, _)| n.as_str()).collect()
    }
    fn get_data(&self, k: &str) -> Option<&Data> {
        self.data.iter().find(|(n, _)| n == k.as_bytes()).map(|(_, v)| v)
    }
}

impl PamOps for FakePam {
    fn user(&mut self) -> Result<Vec<u8>, Code> {
        self.user.clone()
    }
    fn item(&self, which: StringItem) -> Result<Option<Vec<u8>>, Code> {
        self.items
            .iter()
            .find(|(w, _)| *w == which)
            .map_or(Ok(None), |(_, v)| v.clone())
    }
    fn getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        let name = name.to_str().unwrap();
        self.env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
    fn putenv(&mut self, name: &str, value: &[u8]) -> Result<(), Code> {
        if let Some((n, code)) = self.fail_putenv
            && n == name
        {
            return Err(code);
        }
        event(format!("putenv {name}"));
        match self.env.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = value.to_vec(),
            None => self.env.push((name.to_owned(), value.to_vec())),
        }
        Ok(())
    }
    fn info(&mut self, text: &str) {
        self.infos.push(text.to_owned());
    }
    fn unsetenv(&mut self, name: &str) -> Result<(), Code> {
        if let Some((n, code)) = self.fail_putenv
            && n == name
        {
            return Err(code);
        }
        self.env.retain(|(n, _)| n != name);
        Ok(())
    }
    fn data_value(&self, name: &CStr) -> Result<Option<usize>, Code> {
        if let Some((n, code)) = self.fail_get_data
            && n.as_bytes() == name.to_bytes()
            && n.starts_with("systemd.osc")
        {
            return Err(code);
        }
        Ok(match self.get_data(name.to_str().unwrap()) {
            Some(Data::Value(v)) => Some(*v),
            // FD_TO_PTR: fd + 1.
            Some(Data::Fd(fd)) => Some(usize::try_from(*fd).unwrap() + 1),
            _ => None,
        })
    }
    fn data_is_set(&self, name: &CStr) -> Result<bool, Code> {
        if let Some((n, code)) = self.fail_get_data
            && n.as_bytes() == name.to_bytes()
        {
            return Err(code);
        }
        Ok(self
            .get_data(name.to_str().unwrap())
            .is_some_and(|d| *d != Data::Value(0)))
    }
    unsafe fn data_str(&self, name: &CStr) -> Result<Option<Vec<u8>>, Code> {
        if let Some((n, code)) = self.fail_get_data
            && n.as_bytes() == name.to_bytes()
        {
            return Err(code);
        }
        Ok(match self.get_data(name.to_str().unwrap()) {
            Some(Data::Str(s)) => Some(s.clone()),
            _ => None,
        })
    }
    fn set_data_value(&mut self, name: &CStr, value: usize) -> Result<(), Code> {
        self.set(name, Data::Value(value))
    }
    fn set_data_string(&mut self, name: &CStr, value: &[u8]) -> Result<(), Code> {
        self.set(name, Data::Str(value.to_vec()))
    }
    fn strerror(&self, code: Code) -> String {
        match code {
            5 => "Memory buffer error".into(),
            29 => "Bad item passed to pam_*_item()".into(),
            c => format!("PAM error {c}"),
        }
    }
}

impl PamData for FakePam {
    fn set_data_fd(&mut self, name: &CStr, fd: OwnedFd) -> Result<(), Code> {
        // On failure `fd` is dropped: closed, as the real one closes it.
        self.set(name, Data::Fd(std::os::fd::AsRawFd::as_raw_fd(&fd)))?;
        event(format!("set-fd {}", name.to_str().unwrap()));
        self.fds.retain(|(n, _)| n != name.to_bytes());
        self.fds.push((name.to_bytes().to_vec(), fd));
        Ok(())
    }
    fn set_data_id128(&mut self, name: &CStr, id: [u8; 16]) -> Result<(), Code> {
        self.set(name, Data::Id(id))?;
        event(format!("set-id {}", name.to_str().unwrap()));
        Ok(())
    }
    unsafe fn data_id128(&self, name: &CStr) -> Result<Option<[u8; 16]>, Code> {
        Ok(match self.get_data(name.to_str().unwrap()) {
            Some(Data::Id(id)) => Some(*id),
            _ => None,
        })
    }
    fn clear_data(&mut self, name: &CStr) -> Result<(), Code> {
        // libpam runs the old cleanup: a kept fd is closed now.
        self.set(name, Data::Value(0))?;
        event(format!("clear {}", name.to_str().unwrap()));
        self.fds.retain(|(n, _)| n != name.to_bytes());
        Ok(())
    }
}

impl FakePam {
    fn set(&mut self, name: &CStr, d: Data) -> Result<(), Code> {
        if let Some((n, code)) = self.fail_set_data
            && n.as_bytes() == name.to_bytes()
        {
            return Err(code);
        }
        let name = name.to_bytes().to_vec();
        self.data.retain(|(n, _)| *n != name);
        self.data.push((name, d));
        Ok(())
    }
}

/// What the scripted logind answers to one attempt.
#[derive(Debug)]
enum Answer1 {
    Reply(FakeReply),
    Fail(Failure),
}

#[derive(Debug, Clone)]
struct FakeReply {
    id: &'static str,
    runtime_path: String,
    uid: u32,
    seat: &'static str,
    vtnr: u32,
    existing: bool,
    fd: bool,
}

fn reply(uid: u32) -> FakeReply {
    FakeReply {
        id: "c1",
        runtime_path: format!("/run/user/{uid}"),
        uid,
        seat: "",
        vtnr: 0,
        existing: false,
        fd: true,
    }
}

/// The key fields of a request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    via: Via,
    class: String,
    session_type: String,
    tty: String,
    service: String,
}

enum Expect {
    /// A create conversation: the attempts logind sees, in order, with its answers.
    Create(Vec<(Attempt, Answer1)>),
    /// The socket connect fails.
    CreateConnectFails(Failure),
    Release(&'static str, Result<(), Failure>),
    /// `Inhibit(what, who, why, "block")`, answered with the lock's fd or a failure.
    Inhibit([&'static str; 3], Result<OwnedFd, Failure>),
}

/// logind: a script of expected operations, checked on drop; the questions why a login failed
/// are recorded (uid, trigger, the deadline given) and answered with `why_line`.
struct ScriptedLogind {
    script: VecDeque<Expect>,
    sent: Vec<Sent>,
    endpoints: Vec<Endpoint>,
    asked: Vec<(u32, Trigger, Option<std::time::Instant>)>,
    why_line: Option<&'static str>,
}

impl ScriptedLogind {
    fn new(script: Vec<Expect>) -> Self {
        ScriptedLogind {
            script: script.into(),
            sent: Vec::new(),
            endpoints: Vec::new(),
            asked: Vec::new(),
            why_line: None,
        }
    }
}

impl Drop for ScriptedLogind {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(
                self.script.is_empty(),
                "logind calls that never came: {}",
                self.script.len()
            );
        }
    }
}

fn a(via: Via, request: Generation) -> Attempt {
    Attempt { via, request }
}

/// The Varlink connect failure of a logind without `io.systemd.Login`.
fn varlink_absent() -> Failure {
    Failure::Varlink {
        error: crate::varlink::Error {
            method: "io.systemd.Login.CreateSession".into(),
            socket: "/run/systemd/io.systemd.Login".into(),
            elapsed: std::time::Duration::from_millis(0),
            failure: crate::varlink::Failure::Connect(libc::ENOENT),
        },
        parameter: None,
    }
}

fn pipe_fd() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: a valid array of two ints for pipe2.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds we own; the read end is closed at once.
    unsafe {
        libc::close(fds[0]);
        <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1])
    }
}

impl Logind for ScriptedLogind {
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, _props: &[(&'static str, PropValue)]) -> Created {
        self.endpoints.push(ep.clone());
        event("create");
        let steps = match self.script.pop_front() {
            Some(Expect::Create(steps)) => steps,
            Some(Expect::CreateConnectFails(f)) => {
                return Created {
                    attempts: Vec::new(),
                    result: Err(f),
                    fell_back: None,
                };
            }
            Some(Expect::Release(..)) => panic!("CreateSession* where ReleaseSession was expected"),
            Some(Expect::Inhibit(..)) => panic!("CreateSession* where Inhibit was expected"),
            None => panic!("unexpected CreateSession*"),
        };
        let mut attempts = Vec::new();
        let mut attempt = plan.first();
        let mut fell_back = None;
        if attempt.via == Via::Varlink && steps.first().is_none_or(|(a, _)| a.via != Via::Varlink) {
            // Not scripted on Varlink: logind has no io.systemd.Login socket (≤ 257).
            let f = varlink_absent();
            assert!(matches!(f, Failure::Varlink { .. }));
            fell_back = Some(f.clone());
            match plan.next(attempt, &f) {
                Next::Send(a) => attempt = a,
                other => panic!("after Varlink's absence: {other:?}"),
            }
        }
        let mut steps = steps.into_iter();
        loop {
            let (want, answer) = steps.next().expect("an attempt more than scripted");
            assert_eq!(attempt, want, "attempt {}", attempts.len());
            attempts.push(attempt);
            let req = plan.request(attempt.request).expect("a request for the attempt");
            self.sent.push(Sent {
                via: attempt.via,
                class: show(req.class).into_owned(),
                session_type: show(req.session_type).into_owned(),
                tty: show(req.tty).into_owned(),
                service: show(req.service).into_owned(),
            });
            let failure = match answer {
                Answer1::Reply(r) => {
                    assert!(steps.next().is_none(), "scripted attempts after a reply");
                    return Created {
                        attempts,
                        result: Ok(logind::Answer::Session(Reply {
                            id: r.id.into(),
                            object_path: format!("/org/freedesktop/login1/session/{}", r.id),
                            runtime_path: r.runtime_path,
                            fd: r.fd.then(pipe_fd),
                            uid: r.uid,
                            seat: r.seat.into(),
                            vtnr: r.vtnr,
                            existing: r.existing,
                        })),
                        fell_back,
                    };
                }
                Answer1::Fail(f) => f,
            };
            match plan.next(attempt, &failure) {
                Next::Send(n) => attempt = n,
                Next::NoSession => {
                    assert!(steps.next().is_none(), "scripted attempts after NoSession");
                    return Created {
                        attempts,
                        result: Ok(logind::Answer::NoSession),
                        fell_back,
                    };
                }
                Next::Stop => {
                    assert!(steps.next().is_none(), "scripted attempts after the last failure");
                    return Created {
                        attempts,
                        result: plan::settle(failure),
                        fell_back,
                    };
                }
            }
        }
    }

    fn release_session(&mut self, ep: &Endpoint, id: &[u8], _varlink: bool) -> Result<Via, Failure> {
        self.endpoints.push(ep.clone());
        event(format!("release {}", show(id)));
        match self.script.pop_front() {
            Some(Expect::Release(want, r)) => {
                assert_eq!(id, want.as_bytes());
                r.map(|()| Via::Dbus)
            }
            _ => panic!("unexpected ReleaseSession({})", show(id)),
        }
    }

    fn why(
        &mut self,
        ep: &Endpoint,
        uid: u32,
        trigger: Trigger,
        deadline: Option<std::time::Instant>,
    ) -> Option<String> {
        assert_eq!(Some(ep), self.endpoints.last(), "asked why on another endpoint");
        self.asked.push((uid, trigger, deadline));
        self.why_line.map(str::to_owned)
    }

    fn inhibit(&mut self, ep: &Endpoint, req: &inhibit::Request<'_>) -> Result<OwnedFd, Failure> {
        self.endpoints.push(ep.clone());
        event(format!("inhibit {}", show(req.what)));
        match self.script.pop_front() {
            Some(Expect::Inhibit(want, r)) => {
                assert_eq!(
                    [show(req.what), show(req.who), show(req.why)],
                    want.map(Cow::Borrowed),
                    "Inhibit's what, who, why"
                );
                assert_eq!(req.mode, "block");
                r
            }
            _ => panic!("unexpected Inhibit({})", show(req.what)),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum CapCall {
    Ambient(u64, Result<(), i32>),
    Bounding(u64, Result<(), i32>),
}

/// The host: state, plus a script of capability changes checked on drop.
struct FakeHost {
    running: bool,
    env: Vec<(&'static str, Vec<u8>)>,
    dirs: Vec<(String, FileInfo)>,
    existing_files: Vec<String>,
    users: Vec<(&'static str, u32)>,
    files: Vec<(String, Vec<u8>)>,
    /// What newlocale() can load.
    locales: Vec<&'static str>,
    /// The installed systemd's version.
    systemd: Option<u32>,
    caps: RefCell<VecDeque<CapCall>>,
    /// The process calls (umask, nice, limits) made, in order.
    process: RefCell<Vec<String>>,
    /// Records userdb knows beyond NSS (name, JSON as C would cache it, or the errno).
    userdb: Vec<(&'static str, Result<Vec<u8>, i32>)>,
    /// The userdb lookups asked: the name and whether a deadline bounded it.
    userdb_asked: RefCell<Vec<(String, bool)>>,
    /// Area directories (`chase_directory`): path → (resolved path, owner).
    areas: Vec<(String, String, u32)>,
    /// `make_area_runtime_directory` calls (rt, area, uid, gid), and the failure to answer.
    area_runtime: RefCell<Vec<(String, String, u32, u32)>>,
    area_runtime_fails: Option<AreaDirError>,
    /// `homeDirectory` in the looked-up records of these users.
    homes: Vec<(&'static str, &'static str)>,
    /// The terminal OSC 3008 sees.
    tty: FakeTty,
}

/// The terminal: whether stdout (and the reopened pin) is a tty, `TERM` in the process
/// environment, a write failure to answer; the sequences written.
#[derive(Default)]
struct FakeTty {
    is_tty: bool,
    term: Option<&'static str>,
    write_fails: Option<i32>,
    pin_fails: Option<i32>,
    written: RefCell<Vec<String>>,
}

/// The id the fake terminal's randomness gives (made v4 by the module).
const RANDOM: [u8; 16] = [0xab; 16];

struct FakeTerminal<'h>(&'h FakeTty);

impl osc::Terminal for FakeTerminal<'_> {
    fn term_env(&self) -> Option<Vec<u8>> {
        self.0.term.map(|t| t.as_bytes().to_vec())
    }
    fn stdout_is_tty(&self) -> bool {
        self.0.is_tty
    }
    fn pin_stdout(&mut self) -> Result<OwnedFd, i32> {
        match self.0.pin_fails {
            Some(e) => Err(e),
            None => Ok(pipe_fd()),
        }
    }
    fn random(&mut self) -> [u8; 16] {
        RANDOM
    }
    fn identity(&mut self) -> osc::Identity {
        osc::Identity {
            user: Some(b"root".to_vec()),
            hostname: Some(b"host".to_vec()),
            pid: 4242,
            comm: b"login".to_vec(),
            ..osc::Identity::default()
        }
    }
    fn write_stdout(&mut self, seq: &[u8]) -> Result<(), i32> {
        event("osc-start");
        if let Some(e) = self.0.write_fails {
            return Err(e);
        }
        self.0
            .written
            .borrow_mut()
            .push(String::from_utf8_lossy(seq).into_owned());
        Ok(())
    }
    fn reopen(&mut self, pin: std::os::fd::RawFd) -> Result<OwnedFd, i32> {
        // SAFETY: the pin is the fake pam's open fd, borrowed for the dup.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(pin) };
        fd.try_clone_to_owned()
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
    }
    fn is_tty(&self, _fd: std::os::fd::BorrowedFd<'_>) -> bool {
        self.0.is_tty
    }
    fn write_fd(&mut self, _fd: std::os::fd::BorrowedFd<'_>, seq: &[u8]) -> Result<(), i32> {
        event("osc-end");
        self.0
            .written
            .borrow_mut()
            .push(String::from_utf8_lossy(seq).into_owned());
        Ok(())
    }
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            running: true,
            env: Vec::new(),
            dirs: Vec::new(),
            existing_files: Vec::new(),
            users: vec![
                ("root", 0),
                ("alice", 1000),
                ("daemon", 1),
                ("nobody", 65534),
                ("dyn", 61184),
            ],
            files: vec![
                ("/usr/share/zoneinfo/Europe/Berlin".into(), b"TZif2...".to_vec()),
                ("/usr/share/zoneinfo/Broken".into(), b"nope".to_vec()),
            ],
            locales: vec!["de_DE.UTF-8", "fr_FR.UTF-8"],
            systemd: Some(257),
            caps: RefCell::new(VecDeque::new()),
            process: RefCell::new(Vec::new()),
            userdb: Vec::new(),
            userdb_asked: RefCell::new(Vec::new()),
            areas: Vec::new(),
            area_runtime: RefCell::new(Vec::new()),
            area_runtime_fails: None,
            homes: Vec::new(),
            tty: FakeTty::default(),
        }
    }
}

impl FakeHost {
    /// `/run/user/<uid>` exists as a directory owned by uid.
    fn runtime_dir(mut self, uid: u32) -> Self {
        self.dirs
            .push((format!("/run/user/{uid}"), FileInfo { is_dir: true, uid }));
        self
    }
    fn no_logind(mut self) -> Self {
        self.running = false;
        self
    }
    fn expect_caps(self, calls: Vec<CapCall>) -> Self {
        self.caps.borrow_mut().extend(calls);
        self
    }
}

impl Drop for FakeHost {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(
                self.caps.borrow().is_empty(),
                "capability changes that never came: {:?}",
                self.caps.borrow()
            );
        }
    }
}

impl Host for FakeHost {
    fn logind_running(&self) -> bool {
        self.running
    }
    fn secure_getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        let name = name.to_str().unwrap();
        self.env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }
    fn lstat(&self, path: &[u8]) -> Result<FileInfo, i32> {
        self.dirs
            .iter()
            .find(|(p, _)| p.as_bytes() == path)
            .map(|(_, i)| *i)
            .ok_or(libc::ENOENT)
    }
    fn exists(&self, path: &[u8]) -> bool {
        self.existing_files.iter().any(|p| p.as_bytes() == path)
    }
    fn lookup_user(&self, name: &[u8]) -> Result<NssUser, i32> {
        let (n, uid) = self
            .users
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .ok_or(libc::ESRCH)?;
        let json = match self.homes.iter().find(|(h, _)| h == n) {
            Some((_, home)) => format!("{{\"userName\":\"{n}\",\"uid\":{uid},\"homeDirectory\":\"{home}\"}}"),
            None => format!("{{\"userName\":\"{n}\",\"uid\":{uid}}}"),
        };
        Ok(NssUser {
            json: json.into_bytes(),
            uid: *uid,
        })
    }
    fn userdb_by_name(
        &self,
        name: &[u8],
        _flavour: crate::user::userdb::Flavour,
        deadline: Option<std::time::Instant>,
    ) -> Result<crate::user::userdb::Found, i32> {
        use crate::user::userdb::{Found, Source};
        self.userdb_asked
            .borrow_mut()
            .push((String::from_utf8_lossy(name).into_owned(), deadline.is_some()));
        let json = match self.userdb.iter().find(|(n, _)| n.as_bytes() == name) {
            Some((_, r)) => r.clone()?,
            None => self.lookup_user(name)?.json,
        };
        let record = crate::user::load_cached(&json).map_err(|_| libc::EINVAL)?;
        Ok(Found {
            json,
            record,
            source: Source::Nss,
        })
    }
    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, i32> {
        self.files
            .iter()
            .find(|(p, _)| p.as_bytes() == path)
            .map(|(_, v)| v.clone())
            .ok_or(libc::ENOENT)
    }
    fn vt_of_display(&self, _display: &[u8]) -> Option<u32> {
        None
    }
    fn euid(&self) -> u32 {
        0
    }
    fn pid(&self) -> u32 {
        4242
    }
    fn is_tzif(&self, path: &[u8]) -> bool {
        self.files
            .iter()
            .any(|(p, c)| p.as_bytes() == path && c.starts_with(b"TZif"))
    }
    fn locale_installed(&self, name: &[u8]) -> bool {
        self.locales.iter().any(|l| l.as_bytes() == name)
    }
    fn systemd_version(&self) -> Option<u32> {
        self.systemd
    }
    fn last_cap(&self) -> u32 {
        40
    }
    fn umask(&self, mask: u32) -> u32 {
        self.process.borrow_mut().push(format!("umask {mask:04o}"));
        0o022
    }
    fn nice(&self, increment: i32) -> (i32, i32) {
        self.process.borrow_mut().push(format!("nice {increment}"));
        (increment, 0)
    }
    fn getrlimit(&self, resource: crate::user::process::Resource) -> Result<crate::user::process::Limit, i32> {
        self.process.borrow_mut().push(format!("getrlimit {resource}"));
        Ok(crate::user::process::Limit { cur: 0, max: 0 })
    }
    fn setrlimit(&self, resource: crate::user::process::Resource, l: crate::user::process::Limit) -> Result<(), i32> {
        self.process
            .borrow_mut()
            .push(format!("setrlimit {resource} {}:{}", l.cur, l.max));
        Ok(())
    }
    fn chase_directory(&self, path: &[u8]) -> Result<(Vec<u8>, u32), i32> {
        self.areas
            .iter()
            .find(|(p, _, _)| p.as_bytes() == path)
            .map(|(_, resolved, owner)| (resolved.as_bytes().to_vec(), *owner))
            .ok_or(libc::ENOENT)
    }
    fn make_area_runtime_directory(&self, rt: &[u8], area: &[u8], uid: u32, gid: u32) -> Result<(), AreaDirError> {
        self.area_runtime.borrow_mut().push((
            String::from_utf8_lossy(rt).into_owned(),
            String::from_utf8_lossy(area).into_owned(),
            uid,
            gid,
        ));
        self.area_runtime_fails.map_or(Ok(()), Err)
    }
    fn terminal(&self) -> impl osc::Terminal + '_ {
        FakeTerminal(&self.tty)
    }
    fn apply_ambient(&self, set: u64) -> Result<(), i32> {
        event("caps");
        match self.caps.borrow_mut().pop_front() {
            Some(CapCall::Ambient(want, r)) => {
                assert_eq!(set, want, "ambient set");
                r
            }
            other => panic!("unexpected apply_ambient({set:#x}), expected {other:?}"),
        }
    }
    fn drop_bounding(&self, keep: u64) -> Result<(), i32> {
        match self.caps.borrow_mut().pop_front() {
            Some(CapCall::Bounding(want, r)) => {
                assert_eq!(keep, want, "bounding set");
                r
            }
            other => panic!("unexpected drop_bounding({keep:#x}), expected {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const WAKE: u64 = 1 << crate::caps::CAP_WAKE_ALARM;
const PIDFD257: Attempt = Attempt {
    via: Via::DbusPidfd,
    request: Generation::V257,
};
const CLASSIC252: Attempt = Attempt {
    via: Via::Dbus,
    request: Generation::V252,
};

fn failure(name: &str, message: &str) -> Failure {
    Failure::Call {
        name: Some(ErrorName::Dbus(name.into())),
        message: message.into(),
        detail: String::new(),
        elapsed: Duration::from_millis(3),
    }
}

fn unknown_method() -> Failure {
    failure(
        UNKNOWN_METHOD,
        "Unknown method CreateSessionWithPIDFD or interface org.freedesktop.login1.Manager.",
    )
}

/// Runs open with `args` (space-separated), returning the result and the log lines.
fn run_open(
    pam: &mut FakePam,
    logind: &mut ScriptedLogind,
    host: &FakeHost,
    args: &str,
) -> (Result<(), Error>, Vec<String>) {
    let argv: Vec<&[u8]> = args.split_whitespace().map(str::as_bytes).collect();
    crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", false, |scope| open(pam, logind, host, &argv, scope))
    })
}

fn run_close(
    pam: &mut FakePam,
    logind: &mut ScriptedLogind,
    host: &FakeHost,
    args: &str,
) -> (Result<(), Error>, Vec<String>) {
    let argv: Vec<&[u8]> = args.split_whitespace().map(str::as_bytes).collect();
    crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", false, |scope| close(pam, logind, host, &argv, scope))
    })
}

fn tty_login(user: &str) -> FakePam {
    FakePam::new(user)
        .item(StringItem::Service, "login")
        .item(StringItem::Tty, "/dev/pts/3")
}

fn classes(l: &ScriptedLogind) -> Vec<(Via, &str)> {
    l.sent.iter().map(|s| (s.via, s.class.as_str())).collect()
}

// ---------------------------------------------------------------------------------------------
// The story, rule by rule
// ---------------------------------------------------------------------------------------------

/// A regular user on a terminal against logind 257: one CreateSessionWithPIDFD with class
/// `user`; the environment in the C module's order; `systemd.existing` and the session fd
/// stored; the user record cached.
#[test]
fn success_env_order_and_data() {
    let mut pam = tty_login("alice").env("XDG_SESSION_DESKTOP", "KDE");
    let host = FakeHost::default().runtime_dir(1000);
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Reply(FakeReply {
            seat: "seat0",
            vtnr: 2,
            ..reply(1000)
        }),
    )])]);
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    let (r, _) = run_open(&mut pam, &mut logind, &host, "");
    r.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user")]);
    assert_eq!(logind.sent[0].tty, "pts/3");
    assert_eq!(
        pam.names(),
        [
            "XDG_SESSION_DESKTOP",
            "XDG_SESSION_ID",
            "XDG_RUNTIME_DIR",
            "XDG_SESSION_TYPE",
            "XDG_SESSION_CLASS",
            "XDG_SEAT",
            "XDG_VTNR"
        ]
    );
    assert_eq!(pam.get_env("XDG_VTNR").as_deref(), Some("2"));
    assert_eq!(pam.get_data("systemd.existing"), Some(&Data::Value(0)));
    assert!(matches!(pam.get_data("systemd.session-fd"), Some(Data::Value(n)) if *n >= 4));
    assert_eq!(
        pam.get_data("systemd-user-record-alice"),
        Some(&Data::Str(b"{\"userName\":\"alice\",\"uid\":1000}".to_vec()))
    );
    assert_eq!(logind.endpoints[0].bus, logind::DEFAULT_SYSTEM_BUS_ADDRESS);
    assert_eq!(logind.endpoints[0].timeout, Some(Duration::from_secs(120)));
}

/// SessionBusy (su, sudo inside a session) is success, with nothing set.
#[test]
fn session_busy_is_success() {
    let mut pam = tty_login("alice");
    let host = FakeHost::default();
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Fail(failure(SESSION_BUSY, "Already running in a session")),
    )])]);
    let (r, log) = run_open(&mut pam, &mut logind, &host, "debug");
    r.unwrap();
    assert!(pam.env.is_empty());
    assert!(pam.get_data("systemd.existing").is_none());
    assert!(
        log.contains(&"DEBUG Not creating session: Already running in a session".to_owned()),
        "{log:?}"
    );
}

/// XDG_RUNTIME_DIR (and the bus address, if the socket exists) only when the reply's uid is
/// the user's; a directory not in order is logged and skipped.
#[test]
fn runtime_dir_rules() {
    // su to root from alice's session: reply uid 1000, user root.
    let mut pam = tty_login("root");
    let host = FakeHost::default().runtime_dir(0).runtime_dir(1000);
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    run_open(&mut pam, &mut logind, &host, "").0.unwrap();
    assert_eq!(pam.get_env("XDG_RUNTIME_DIR"), None);
    assert_eq!(pam.get_env("XDG_SESSION_ID").as_deref(), Some("c1"));

    let mut host = FakeHost::default().runtime_dir(1000);
    host.existing_files.push("/run/user/1000/bus".into());
    let mut pam = tty_login("alice");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    run_open(&mut pam, &mut logind, &host, "").0.unwrap();
    assert_eq!(pam.get_env("XDG_RUNTIME_DIR").as_deref(), Some("/run/user/1000"));
    assert_eq!(
        pam.get_env("DBUS_SESSION_BUS_ADDRESS").as_deref(),
        Some("unix:path=/run/user/1000/bus")
    );

    let bad: [(&str, Option<FileInfo>, &str); 3] = [
        (
            "run/user/1000",
            None,
            "ERROR Provided runtime directory 'run/user/1000' is not absolute.",
        ),
        (
            "/run/user/1000",
            Some(FileInfo {
                is_dir: false,
                uid: 1000,
            }),
            "ERROR Runtime directory '/run/user/1000' is not actually a directory.",
        ),
        (
            "/run/user/1000",
            Some(FileInfo { is_dir: true, uid: 7 }),
            "ERROR Runtime directory '/run/user/1000' is not owned by UID 1000, as it should.",
        ),
    ];
    for (path, info, line) in bad {
        let mut host = FakeHost::default();
        if let Some(i) = info {
            host.dirs.push((path.into(), i));
        }
        let mut pam = tty_login("alice");
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
            PIDFD257,
            Answer1::Reply(FakeReply {
                runtime_path: path.into(),
                ..reply(1000)
            }),
        )])]);
        let (r, log) = run_open(&mut pam, &mut logind, &host, "");
        r.unwrap();
        assert_eq!(pam.get_env("XDG_RUNTIME_DIR"), None);
        assert_eq!(
            log,
            [
                line,
                "WARN Not setting $XDG_RUNTIME_DIR, as the directory is not in order."
            ],
            "{path}"
        );
    }
}

/// `systemd.existing` is the reply's flag; the session fd is stored as fd+1, and closed again if
/// libpam refuses it (then the open fails with libpam's code).
#[test]
fn existing_and_session_fd_data() {
    let mut pam = tty_login("alice");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Reply(FakeReply {
            existing: true,
            fd: false,
            ..reply(1000)
        }),
    )])]);
    run_open(&mut pam, &mut logind, &FakeHost::default(), "").0.unwrap();
    assert_eq!(pam.get_data("systemd.existing"), Some(&Data::Value(1)));
    assert_eq!(pam.get_data("systemd.session-fd"), None);

    let mut pam = tty_login("alice");
    pam.fail_set_data = Some(("systemd.session-fd", 5));
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    let (r, _) = run_open(&mut pam, &mut logind, &FakeHost::default(), "");
    assert_eq!(
        r.unwrap_err(),
        Error::new(5, "Failed to install session fd: Memory buffer error")
    );
}

/// close: nothing without XDG_SESSION_ID or for a pre-existing session; else ReleaseSession(id),
/// whose failure is PAM_SESSION_ERR; the timeout is `$SYSTEMD_BUS_TIMEOUT` or 25 s.
#[test]
fn close_path_guards() {
    let host = FakeHost::default();
    let mut logind = ScriptedLogind::new(vec![]);
    run_close(&mut FakePam::new("alice"), &mut logind, &host, "").0.unwrap();

    let mut pam = FakePam::new("alice")
        .env("XDG_SESSION_ID", "c1")
        .data("systemd.existing", Data::Value(1));
    run_close(&mut pam, &mut logind, &host, "").0.unwrap();

    let mut pam = FakePam::new("alice").env("XDG_SESSION_ID", "c1");
    pam.fail_get_data = Some(("systemd.existing", 4));
    let (r, _) = run_close(&mut pam, &mut logind, &host, "");
    assert_eq!(
        r.unwrap_err().message(),
        "Failed to get PAM systemd.existing data: PAM error 4"
    );

    let mut pam = FakePam::new("alice").env("XDG_SESSION_ID", "c1");
    let mut logind = ScriptedLogind::new(vec![Expect::Release("c1", Ok(()))]);
    run_close(&mut pam, &mut logind, &host, "").0.unwrap();
    assert_eq!(logind.endpoints[0].timeout, Some(Duration::from_secs(25)));

    // logind 257 refuses a release from outside the session.
    let mut pam = FakePam::new("alice").env("XDG_SESSION_ID", "c1");
    let mut host = FakeHost::default();
    host.env.push(("SYSTEMD_BUS_TIMEOUT", b"3s".to_vec()));
    let mut logind = ScriptedLogind::new(vec![Expect::Release(
        "c1",
        Err(failure("org.freedesktop.DBus.Error.AccessDenied", "Access denied")),
    )]);
    let (r, _) = run_close(&mut pam, &mut logind, &host, "");
    let e = r.unwrap_err();
    assert_eq!(e.code(), PAM_SESSION_ERR);
    assert!(
        e.message().starts_with("Failed to release session: Access denied ("),
        "{e}"
    );
    assert_eq!(logind.endpoints[0].timeout, Some(Duration::from_secs(3)));
}

/// An unknown user is PAM_USER_UNKNOWN with userdb's "not found" errno, even without logind.
#[test]
fn unknown_user() {
    let host = FakeHost::default().no_logind();
    let (r, _) = run_open(&mut tty_login("mallory"), &mut ScriptedLogind::new(vec![]), &host, "");
    assert_eq!(
        r.unwrap_err(),
        Error::new(PAM_USER_UNKNOWN, "Failed to get user record: No such process")
    );
}

/// A cached record that is no JSON, and one that loads badly, say so with their own lines
/// (`Failed to parse JSON user record: %m` vs `Failed to load user record: %m`).
#[test]
fn cached_record_parse_vs_load() {
    let rows: [(&str, &str); 4] = [
        ("{", "Failed to parse JSON user record: Invalid argument"),
        ("[1]", "Failed to load user record: Bad message"),
        (
            r#"{"userName":"alice","uid":1000,"secret":{}}"#,
            "Failed to load user record: Bad message",
        ),
        (r#"{"uid":1000}"#, "Failed to load user record: Invalid argument"),
    ];
    for (json, line) in rows {
        let mut pam = tty_login("alice").data("systemd-user-record-alice", Data::Str(json.into()));
        let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &FakeHost::default(), "");
        assert_eq!(r.unwrap_err(), Error::new(PAM_SERVICE_ERR, line), "{json}");
    }
    let mut pam = tty_login("alice").data(
        "systemd-user-record-alice",
        Data::Str(br#"{"userName":"bob","uid":1000}"#.to_vec()),
    );
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &FakeHost::default(), "");
    assert_eq!(
        r.unwrap_err().message(),
        "Acquired user record does not match user name."
    );
}

/// A cached record with environment settings (as pam_systemd_home leaves it).
const SETTINGS_RECORD: &str = r#"{"userName":"alice","uid":1000,"environment":["FOO=bar","EDITOR=vi"],"emailAddress":"alice@example.org","timeZone":"Europe/Berlin","preferredLanguage":"de_DE.UTF-8","additionalLanguages":["fr_FR.UTF-8","it_IT.UTF-8"]}"#;

fn with_record(pam: FakePam, json: &str) -> FakePam {
    pam.data("systemd-user-record-alice", Data::Str(json.into()))
}

/// 252 applies the record's settings at "success" only to names not in the PAM env yet, with
/// its debug lines; 257's additional languages are not its business.
#[test]
fn record_settings_252_keep_what_is_set() {
    let mut pam = with_record(
        tty_login("alice").env("FOO", "preset").env("LANG", "C"),
        SETTINGS_RECORD,
    );
    let host = FakeHost::default().no_logind();
    let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "debug compat=252");
    r.unwrap();
    let env: Vec<(&str, String)> = pam.names().into_iter().map(|n| (n, pam.get_env(n).unwrap())).collect();
    assert_eq!(
        env,
        [
            ("FOO", "preset".into()),
            ("LANG", "C".into()),
            ("EDITOR", "vi".into()),
            ("EMAIL", "alice@example.org".into()),
            ("TZ", ":Europe/Berlin".into()),
        ]
    );
    for line in [
        "DEBUG PAM environment variable $FOO=bar already set, not changing based on record.",
        "DEBUG PAM environment variable EDITOR=vi set based on user record.",
        "DEBUG PAM environment variable EMAIL=alice@example.org set based on user record.",
        "DEBUG PAM environment variable TZ=:Europe/Berlin set based on user record.",
        "DEBUG PAM environment variable $LANG already set, not changing based on user record.",
    ] {
        assert!(log.contains(&line.to_owned()), "{line}\n{log:?}");
    }
}

/// 257 overwrites, and sets LANGUAGE when the record lists several languages.
#[test]
fn record_settings_257_overwrite_and_language() {
    let mut pam = with_record(
        tty_login("alice").env("FOO", "preset").env("LANG", "C"),
        SETTINGS_RECORD,
    );
    let host = FakeHost::default().no_logind();
    let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "debug compat=257");
    r.unwrap();
    for (k, v) in [
        ("FOO", "bar"),
        ("EDITOR", "vi"),
        ("EMAIL", "alice@example.org"),
        ("TZ", ":Europe/Berlin"),
        ("LANG", "de_DE.UTF-8"),
        ("LANGUAGE", "de_DE.UTF-8:fr_FR.UTF-8:it_IT.UTF-8"),
    ] {
        assert_eq!(pam.get_env(k).as_deref(), Some(v), "{k}\n{log:?}");
    }
    assert!(!log.iter().any(|l| l.contains("already set")), "{log:?}");
}

/// A zone without its file (or with another magic) and a locale that is not installed are
/// skipped with a debug line; `UTC` and `C` need nothing installed. On every success path:
/// here SessionBusy.
#[test]
fn record_settings_zone_and_locale_checks() {
    let rows: [(&str, &str, Option<&str>, Option<&str>, &str); 4] = [
        (
            "Broken",
            "de_DE.UTF-8",
            None,
            Some("de_DE.UTF-8"),
            "DEBUG Time zone specified in user record is not valid locally, not setting $TZ.",
        ),
        (
            "Mars/Base",
            "de_DE.UTF-8",
            None,
            Some("de_DE.UTF-8"),
            "DEBUG Time zone specified in user record is not valid locally, not setting $TZ.",
        ),
        (
            "UTC",
            "xx_XX",
            Some(":UTC"),
            None,
            "DEBUG Preferred language specified in user record is not valid or not installed, not setting $LANG.",
        ),
        (
            "UTC",
            "C",
            Some(":UTC"),
            Some("C"),
            "DEBUG PAM environment variable LANG=C set based on user record.",
        ),
    ];
    for (tz, lang, want_tz, want_lang, line) in rows {
        let json = format!(r#"{{"userName":"alice","uid":1000,"timeZone":"{tz}","preferredLanguage":"{lang}"}}"#);
        let mut pam = with_record(tty_login("alice"), &json);
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
            (PIDFD257, Answer1::Fail(unknown_method())),
            (
                CLASSIC252,
                Answer1::Fail(failure(SESSION_BUSY, "Already running in a session")),
            ),
        ])]);
        let (r, log) = run_open(&mut pam, &mut logind, &FakeHost::default(), "debug");
        r.unwrap();
        assert_eq!(pam.get_env("TZ").as_deref(), want_tz, "{tz}\n{log:?}");
        assert_eq!(pam.get_env("LANG").as_deref(), want_lang, "{lang}\n{log:?}");
        assert!(log.contains(&line.to_owned()), "{line}\n{log:?}");
    }
}

/// Without logind (nothing answers on the wire) the installed systemd decides the generation:
/// 252 keeps a set name, 257 overwrites it; no systemd at all (elogind) is 252.
#[test]
fn record_settings_without_logind_follow_the_installed_systemd() {
    for (installed, want) in [(Some(252), "preset"), (None, "preset"), (Some(257), "bar")] {
        let mut pam = with_record(tty_login("alice").env("FOO", "preset"), SETTINGS_RECORD);
        let mut host = FakeHost::default().no_logind();
        host.systemd = installed;
        let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "");
        r.unwrap();
        assert_eq!(pam.get_env("FOO").as_deref(), Some(want), "{installed:?} {log:?}");
    }
}

/// 257 takes a record's capability sets in place of the arguments' (the ambient one masked by
/// the record's bounding set; unknown names skipped); an empty ambient set applies nothing, not
/// the default. 252 knows no such fields.
#[test]
fn record_capability_sets_257() {
    let kill = 1u64 << 5;
    let chown = 1u64;
    let rows: [(&str, &str, Vec<CapCall>); 4] = [
        (
            r#""capabilityAmbientSet":["cap_kill","CAP_CHOWN","cap_nope"],"capabilityBoundingSet":["cap_kill","5","cap_net_raw"]"#,
            "",
            vec![
                CapCall::Ambient(kill, Ok(())),
                CapCall::Bounding(kill | (1 << 13), Ok(())),
            ],
        ),
        (
            r#""capabilityAmbientSet":["cap_chown"]"#,
            "default-capability-ambient-set=cap_kill default-capability-bounding-set=cap_chown,cap_kill",
            vec![CapCall::Ambient(chown, Ok(())), CapCall::Bounding(chown | kill, Ok(()))],
        ),
        // Empty: nothing raised.
        (r#""capabilityAmbientSet":[]"#, "", vec![]),
        // Unsafe names refuse the field: the argument's set stays.
        (
            r#""capabilityAmbientSet":["cap\\kill"]"#,
            "default-capability-ambient-set=cap_kill",
            vec![CapCall::Ambient(kill, Ok(()))],
        ),
    ];
    for (fields, args, calls) in rows {
        let json = format!(r#"{{"userName":"alice","uid":1000,{fields}}}"#);
        let mut pam = with_record(tty_login("alice"), &json);
        let host = FakeHost::default().no_logind().expect_caps(calls);
        let (r, _) = run_open(
            &mut pam,
            &mut ScriptedLogind::new(vec![]),
            &host,
            &format!("compat=257 {args}"),
        );
        r.unwrap();
    }
    // 252: the same record changes nothing.
    let json = r#"{"userName":"alice","uid":1000,"capabilityAmbientSet":["cap_kill"]}"#;
    let mut pam = with_record(tty_login("alice"), json);
    let host = FakeHost::default().no_logind();
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=252");
    r.unwrap();
}

/// A PAM env refusal is the hook's result, with the C module's line.
#[test]
fn record_settings_putenv_failure() {
    let mut pam = with_record(
        tty_login("alice"),
        r#"{"userName":"alice","uid":1000,"environment":["FOO=bar"]}"#,
    );
    pam.fail_putenv = Some(("FOO", PAM_BUF_ERR));
    let host = FakeHost::default().no_logind();
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "");
    assert_eq!(
        r.unwrap_err(),
        Error::new(
            PAM_BUF_ERR,
            "Failed to set PAM environment variable FOO=bar: Memory buffer error"
        )
    );
}

/// The record's process settings at "success": the umask before the environment, nice and the
/// limits (resource order) after it; a putenv failure in between leaves the umask set and
/// returns before the rest.
#[test]
fn record_process_settings_around_the_environment() {
    let json = r#"{"userName":"alice","uid":1000,"umask":63,"niceLevel":2,"environment":["FOO=bar"],"resourceLimits":{"RLIMIT_NOFILE":{"cur":1,"max":2},"RLIMIT_CORE":{"cur":0,"max":0}}}"#;
    let mut pam = with_record(tty_login("alice"), json);
    let host = FakeHost::default().no_logind();
    let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "debug compat=252");
    r.unwrap();
    assert_eq!(
        *host.process.borrow(),
        ["umask 0077", "nice 2", "setrlimit 4 0:0", "setrlimit 7 1:2"]
    );
    let at = |l: &str| {
        log.iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{l}\n{log:?}"))
    };
    assert!(
        at("DEBUG Set user umask to 0077 based on user record.")
            < at("DEBUG PAM environment variable FOO=bar set based on user record.")
    );
    assert!(
        at("DEBUG PAM environment variable FOO=bar set based on user record.")
            < at("DEBUG Nice level set to 2, based on user record.")
    );
    assert!(
        at("DEBUG Resource limit CORE set, based on user record.")
            < at("DEBUG Resource limit NOFILE set, based on user record.")
    );

    let mut pam = with_record(tty_login("alice"), json);
    pam.fail_putenv = Some(("FOO", PAM_BUF_ERR));
    let host = FakeHost::default().no_logind();
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "");
    assert_eq!(r.unwrap_err().code(), PAM_BUF_ERR);
    assert_eq!(*host.process.borrow(), ["umask 0077"]);
}

// ---------------------------------------------------------------------------------------------
// 257 rules
// ---------------------------------------------------------------------------------------------

/// Root, system, nobody and dynamic users on a terminal get `user-early` from logind 257;
/// a regular user `user`; ssh's PAM_TTY forces `user` even for root.
#[test]
fn user_early_for_non_regular_users_on_a_tty() {
    for (user, uid, tty, class) in [
        ("root", 0, "/dev/pts/3", "user-early"),
        ("daemon", 1, "tty1", "user-early"),
        ("nobody", 65534, "pts/0", "user-early"),
        ("dyn", 61184, "pts/0", "user-early"),
        ("alice", 1000, "pts/0", "user"),
        ("root", 0, "ssh", "user"),
    ] {
        let mut pam = FakePam::new(user)
            .item(StringItem::Service, "login")
            .item(StringItem::Tty, tty);
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(uid)))])]);
        let host = FakeHost::default();
        run_open(&mut pam, &mut logind, &host, "").0.unwrap();
        assert_eq!(classes(&logind), [(Via::DbusPidfd, class)], "{user} {tty}");
        assert_eq!(pam.get_env("XDG_SESSION_CLASS").as_deref(), Some(class));
    }
}

/// A record's declared disposition wins over the uid.
#[test]
fn disposition_from_the_record() {
    let mut pam = tty_login("alice").data(
        "systemd-user-record-alice",
        Data::Str(br#"{"userName":"alice","uid":1000,"disposition":"system"}"#.to_vec()),
    );
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    run_open(&mut pam, &mut logind, &FakeHost::default(), "").0.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user-early")]);
}

/// The upgrade window: logind 252 does not know CreateSessionWithPIDFD, so root on a terminal
/// gets the 252 request (class `user`), logged as 252 would, plus the line naming the
/// generation.
#[test]
fn logind_252_gets_the_252_request() {
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
        (PIDFD257, Answer1::Fail(unknown_method())),
        (CLASSIC252, Answer1::Reply(reply(0))),
    ])]);
    let host = FakeHost::default().runtime_dir(0);
    let (r, log) = run_open(&mut pam, &mut logind, &host, "debug");
    r.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user-early"), (Via::Dbus, "user")]);
    assert_eq!(pam.get_env("XDG_SESSION_CLASS").as_deref(), Some("user"));
    let debug: Vec<&String> = log.iter().filter(|l| !l.starts_with("DEBUG Reply")).collect();
    assert_eq!(
        debug,
        [
            "DEBUG pam-systemd initializing",
            "DEBUG Asking logind to create session: uid=0 pid=4242 service=login type=tty class=user desktop= seat= vtnr=0 tty=pts/3 display= remote=no remote_user= remote_host=",
            "DEBUG Session limits: memory_max=n/a tasks_max=n/a cpu_weight=n/a io_weight=n/a runtime_max_sec=n/a",
            "DEBUG logind generation 252 (CreateSessionWithPIDFD is unknown, sent the 252 request).",
        ]
    );
}

/// The same login against logind 257 logs 257's lines: the bus connection, the 257 request.
#[test]
fn logind_257_lines() {
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(0)))])]);
    let (r, log) = run_open(&mut pam, &mut logind, &FakeHost::default(), "debug");
    r.unwrap();
    assert_eq!(
        log[1],
        "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened."
    );
    assert!(log[2].contains(" class=user-early "), "{}", log[2]);
    assert_eq!(log[4], "DEBUG logind generation 257 (CreateSessionWithPIDFD answered).");
}

/// A logind that has CreateSessionWithPIDFD but not the 257 classes (255) refuses the class a
/// 257 rule chose: once more with the 252 request, still with the pidfd.
#[test]
fn refused_257_class_is_retried_once() {
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
        (
            PIDFD257,
            Answer1::Fail(failure(INVALID_ARGS, "Invalid session class user-early")),
        ),
        (a(Via::DbusPidfd, Generation::V252), Answer1::Reply(reply(0))),
    ])]);
    run_open(&mut pam, &mut logind, &FakeHost::default(), "").0.unwrap();
    assert_eq!(
        classes(&logind),
        [(Via::DbusPidfd, "user-early"), (Via::DbusPidfd, "user")]
    );
}

/// A class the admin set is never retried: logind's refusal stands (14).
#[test]
fn admin_class_is_not_retried() {
    let mut pam = tty_login("root").env("XDG_SESSION_CLASS", "user-early");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Fail(failure(INVALID_ARGS, "Invalid session class user-early")),
    )])]);
    let (r, _) = run_open(&mut pam, &mut logind, &FakeHost::default(), "");
    let e = r.unwrap_err();
    assert_eq!(e.code(), PAM_SESSION_ERR);
    assert!(
        e.message()
            .starts_with("Failed to create session: Invalid session class user-early (")
    );
}

/// `compat=257` is pam_systemd 257: CreateSession with the 257 request after UnknownVia,
/// and logind 252's refusal stands; 257's fallback line and twice the limits' warnings.
#[test]
fn compat_257_fails_like_257_against_252() {
    let mut pam = tty_login("root").data("systemd.tasks_max", Data::Str(b"lots".to_vec()));
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
        (PIDFD257, Answer1::Fail(unknown_method())),
        (
            a(Via::Dbus, Generation::V257),
            Answer1::Fail(failure(INVALID_ARGS, "Invalid session class user-early")),
        ),
    ])]);
    let (r, log) = run_open(&mut pam, &mut logind, &FakeHost::default(), "compat=257 debug");
    assert_eq!(r.unwrap_err().code(), PAM_SESSION_ERR);
    assert_eq!(
        log[4..],
        [
            "WARN Failed to parse systemd.tasks_max, ignoring: lots",
            "DEBUG CreateSessionWithPIDFD() API is not available, retrying with CreateSession().",
            "WARN Failed to parse systemd.tasks_max, ignoring: lots",
        ]
    );
}

/// `compat=252` is today's 252 module: the 252 request (with the PIDFD probe first) and no
/// session at all for user@.service's stack.
#[test]
fn compat_252() {
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
        (a(Via::DbusPidfd, Generation::V252), Answer1::Fail(unknown_method())),
        (CLASSIC252, Answer1::Reply(reply(0))),
    ])]);
    run_open(&mut pam, &mut logind, &FakeHost::default(), "compat=252")
        .0
        .unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user"), (Via::Dbus, "user")]);

    let mut pam = FakePam::new("alice").item(StringItem::Service, "systemd-user");
    let host = FakeHost::default().runtime_dir(1000);
    run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=252")
        .0
        .unwrap();
    assert_eq!(pam.names(), ["XDG_RUNTIME_DIR"]);
}

/// user@.service's stack registers a manager session (forced class, type unspecified, no tty),
/// `manager-early` for root; CAP_WAKE_ALARM for a regular user.
#[test]
fn systemd_user_registers_a_manager_session() {
    for (user, uid, class, caps) in [
        ("alice", 1000, "manager", vec![CapCall::Ambient(WAKE, Ok(()))]),
        ("root", 0, "manager-early", vec![]),
    ] {
        let mut pam = FakePam::new(user)
            .item(StringItem::Service, "systemd-user")
            .item(StringItem::Tty, "tty5")
            .env("XDG_SESSION_CLASS", "background");
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(uid)))])]);
        let host = FakeHost::default().expect_caps(caps);
        run_open(&mut pam, &mut logind, &host, "class=user").0.unwrap();
        let s = &logind.sent[0];
        assert_eq!(
            (
                s.class.as_str(),
                s.session_type.as_str(),
                s.tty.as_str(),
                s.service.as_str()
            ),
            (class, "unspecified", "", "systemd-user")
        );
        assert_eq!(pam.get_env("XDG_SESSION_CLASS").as_deref(), Some(class));
    }
}

/// Against logind 252 the systemd-user stack gets 252's outcome: no session, the runtime
/// directory only, no second call.
#[test]
fn systemd_user_against_252_is_runtime_dir_only() {
    for answer in [unknown_method(), failure(INVALID_ARGS, "Invalid session class manager")] {
        let mut pam = FakePam::new("alice").item(StringItem::Service, "systemd-user");
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Fail(answer))])]);
        let host = FakeHost::default().runtime_dir(1000);
        let (r, log) = run_open(&mut pam, &mut logind, &host, "debug");
        r.unwrap();
        assert_eq!(pam.names(), ["XDG_RUNTIME_DIR"]);
        assert_eq!(
            log[1..],
            [
                "DEBUG logind generation 252 (it refused the systemd-user session; 252 registers none and sets the runtime directory only)."
            ]
        );
    }
}

/// `$XDG_SESSION_INCOMPLETE` (PAM env, then the process env): `user` becomes
/// `user-incomplete`; any other class is kept with a warning; an unparsable value is an error
/// line and false.
#[test]
fn incomplete_flag() {
    let cases: [(&str, Option<&str>, bool, &str, &[&str]); 4] = [
        ("1", None, false, "user-incomplete", &[]),
        ("yes", None, true, "user-incomplete", &[]),
        (
            "1",
            Some("greeter"),
            false,
            "greeter",
            &["WARN PAM session of class 'greeter' is incomplete, which is not supported, ignoring."],
        ),
        (
            "maybe",
            None,
            false,
            "user",
            &["ERROR Boolean environment variable value of 'XDG_SESSION_INCOMPLETE' is not valid: maybe"],
        ),
    ];
    for (value, class, from_process, want, lines) in cases {
        let mut pam = tty_login("alice");
        let mut host = FakeHost::default().runtime_dir(1000);
        if from_process {
            host.env.push(("XDG_SESSION_INCOMPLETE", value.as_bytes().to_vec()));
        } else {
            pam = pam.env("XDG_SESSION_INCOMPLETE", value);
        }
        if let Some(c) = class {
            pam = pam.env("XDG_SESSION_CLASS", c);
        }
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
        let (r, log) = run_open(&mut pam, &mut logind, &host, "");
        r.unwrap();
        assert_eq!(logind.sent[0].class, want, "{value}");
        assert_eq!(log, lines, "{value}");
    }
}

/// The three credentials, between XDG_SEAT and XDG_VTNR, read whole and set even if empty,
/// only from an absolute, normalized `$CREDENTIALS_DIRECTORY`, and only after a created session.
#[test]
fn credentials_to_environment() {
    let creds = |dir: &str| {
        let mut host = FakeHost::default();
        host.env.push(("CREDENTIALS_DIRECTORY", dir.as_bytes().to_vec()));
        host.files = vec![
            ("/run/creds/shell.prompt.prefix".into(), b"[x] \n".to_vec()),
            ("/run/creds/shell.welcome".into(), Vec::new()),
        ];
        host
    };
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Reply(FakeReply {
            seat: "seat0",
            vtnr: 1,
            ..reply(0)
        }),
    )])]);
    run_open(&mut pam, &mut logind, &creds("/run/creds"), "").0.unwrap();
    assert_eq!(
        pam.names(),
        [
            "XDG_SESSION_ID",
            "XDG_SESSION_TYPE",
            "XDG_SESSION_CLASS",
            "XDG_SEAT",
            "SHELL_PROMPT_PREFIX",
            "SHELL_WELCOME",
            "XDG_VTNR"
        ]
    );
    assert_eq!(pam.get_env("SHELL_PROMPT_PREFIX").as_deref(), Some("[x] \n"));
    assert_eq!(pam.get_env("SHELL_WELCOME").as_deref(), Some(""));

    for dir in ["run/creds", "/run/./creds", "/run//creds", "/run/x/../creds"] {
        let mut pam = tty_login("root");
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(0)))])]);
        run_open(&mut pam, &mut logind, &creds(dir), "").0.unwrap();
        assert_eq!(pam.get_env("SHELL_PROMPT_PREFIX"), None, "{dir}");
    }
    assert!(absolute_and_normalized(b"/run/creds/"));

    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Fail(failure(SESSION_BUSY, "busy")),
    )])]);
    run_open(&mut pam, &mut logind, &creds("/run/creds"), "").0.unwrap();
    assert!(pam.env.is_empty());
}

/// Capabilities at "success": the ambient default only for regular users on a seat; the
/// arguments for everyone; failures are logged and ignored; nothing when logind answered as 252.
#[test]
fn capability_sets() {
    // Regular user on seat0 (reply seat): CAP_WAKE_ALARM; a failure only logs.
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Reply(FakeReply {
            seat: "seat0",
            ..reply(1000)
        }),
    )])]);
    let host = FakeHost::default()
        .runtime_dir(1000)
        .expect_caps(vec![CapCall::Ambient(WAKE, Err(libc::EPERM))]);
    let (r, log) = run_open(&mut tty_login("alice"), &mut logind, &host, "");
    r.unwrap();
    assert_eq!(
        log,
        ["ERROR Failed to set ambient capabilities, ignoring: Operation not permitted"]
    );

    // Arguments, even for root and with logind absent; ambient masked by bounding.
    let host = FakeHost::default().no_logind().expect_caps(vec![
        CapCall::Ambient(1 << 5, Ok(())),
        CapCall::Bounding((1 << 5) | (1 << 10), Err(libc::EPERM)),
    ]);
    let (r, log) = run_open(
        &mut tty_login("root"),
        &mut ScriptedLogind::new(vec![]),
        &host,
        "default-capability-ambient-set=cap_kill,cap_chown default-capability-bounding-set=cap_kill,cap_net_bind_service",
    );
    r.unwrap();
    assert_eq!(
        log,
        ["ERROR Failed to set bounding capabilities, ignoring: Operation not permitted"]
    );

    // logind 252 answered: 252 changes no capability.
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![
        (PIDFD257, Answer1::Fail(unknown_method())),
        (
            CLASSIC252,
            Answer1::Reply(FakeReply {
                seat: "seat0",
                ..reply(1000)
            }),
        ),
    ])]);
    run_open(&mut tty_login("alice"), &mut logind, &FakeHost::default(), "")
        .0
        .unwrap();
}

/// Argument warnings, before logind answers: in the words of `compat=`, else of the installed
/// systemd (252's without one); capability warnings at close too.
#[test]
fn argument_warnings() {
    for (installed, line) in [
        (Some(252), "WARN Unknown parameter 'bogus', ignoring"),
        (None, "WARN Unknown parameter 'bogus', ignoring"),
        (Some(257), "WARN Unknown parameter 'bogus', ignoring."),
    ] {
        let mut host = FakeHost::default().no_logind();
        host.systemd = installed;
        let (_, log) = run_open(&mut tty_login("root"), &mut ScriptedLogind::new(vec![]), &host, "bogus");
        assert_eq!(log, [line], "{installed:?}");
        let (_, log) = run_open(
            &mut tty_login("root"),
            &mut ScriptedLogind::new(vec![]),
            &host,
            "bogus compat=252",
        );
        assert_eq!(log, ["WARN Unknown parameter 'bogus', ignoring"], "{installed:?}");
    }
    let host = FakeHost::default().no_logind();
    let (_, log) = run_open(
        &mut tty_login("root"),
        &mut ScriptedLogind::new(vec![]),
        &host,
        "bogus compat=257 compat=258",
    );
    assert_eq!(
        log,
        [
            "WARN Unknown parameter 'bogus', ignoring.",
            "WARN Failed to parse compat= argument, ignoring: 258"
        ]
    );
    let (_, log) = run_close(
        &mut FakePam::new("root"),
        &mut ScriptedLogind::new(vec![]),
        &host,
        "default-capability-ambient-set=cap_nope",
    );
    assert_eq!(log, ["WARN Unknown capability, ignoring: cap_nope"]);
}

/// A bus that cannot be reached: PAM_SERVICE_ERR, no request logged, nothing set.
#[test]
fn connect_failure() {
    let mut pam = tty_login("alice");
    let mut host = FakeHost::default();
    host.env
        .push(("DBUS_SYSTEM_BUS_ADDRESS", b"unix:path=/nowhere".to_vec()));
    let mut logind = ScriptedLogind::new(vec![Expect::CreateConnectFails(Failure::Connect {
        errno: libc::ENOENT,
        detail: String::new(),
        elapsed: Duration::from_millis(0),
    })]);
    let (r, log) = run_open(&mut pam, &mut logind, &host, "debug");
    assert_eq!(
        r.unwrap_err(),
        Error::new(
            PAM_SERVICE_ERR,
            "Failed to connect to system bus: No such file or directory (unix:path=/nowhere after 0 ms)"
        )
    );
    assert_eq!(log, ["DEBUG pam-systemd initializing"]);
    assert!(pam.env.is_empty());
}

/// When nothing logind said tells the generation (the bus answered, or the message was never
/// built), the lines are 252's: the 252 request, no bus-connection line; and the generation is
/// said to be unknown.
#[test]
fn generation_unknown_words_are_252() {
    let no_logind = failure(
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "The name is not activatable",
    );
    for (answer, code) in [
        (no_logind, PAM_SESSION_ERR),
        (Failure::BuildMessage { errno: libc::EINVAL }, PAM_SERVICE_ERR),
    ] {
        let mut pam = tty_login("root");
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Fail(answer))])]);
        let (r, log) = run_open(&mut pam, &mut logind, &FakeHost::default(), "debug");
        assert_eq!(r.unwrap_err().code(), code);
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(log[1].contains(" class=user "), "{log:?}");
        assert_eq!(
            log[3],
            "DEBUG logind generation not known (no answer of logind's to tell)."
        );
    }
}

/// A failure after the socket connect but before any call (the handshake) still logs the
/// request lines, as the C module does before its first call.
#[test]
fn handshake_failure_logs_the_request() {
    let mut pam = tty_login("alice");
    let f = Failure::Call {
        name: None,
        message: "Transport endpoint is not connected".into(),
        detail: "handshake failed".into(),
        elapsed: Duration::ZERO,
    };
    let mut logind = ScriptedLogind::new(vec![Expect::CreateConnectFails(f)]);
    let (r, log) = run_open(&mut pam, &mut logind, &FakeHost::default(), "debug");
    assert_eq!(r.unwrap_err().code(), PAM_SESSION_ERR);
    assert!(
        log[1].starts_with("DEBUG Asking logind to create session: uid=1000 "),
        "{log:?}"
    );
    assert!(log[2].starts_with("DEBUG Session limits: "), "{log:?}");
}

/// `compat=257` reads the items as 257 does: one error text for all of them.
#[test]
fn compat_257_items_error() {
    let mut pam = tty_login("alice");
    pam.items.insert(0, (StringItem::XDisplay, Err(29)));
    let (r, _) = run_open(
        &mut pam,
        &mut ScriptedLogind::new(vec![]),
        &FakeHost::default(),
        "compat=257",
    );
    assert_eq!(
        r.unwrap_err(),
        Error::new(29, "Failed to get PAM items: Bad item passed to pam_*_item()")
    );
    let mut pam = tty_login("alice");
    pam.items.insert(0, (StringItem::XDisplay, Err(29)));
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &FakeHost::default(), "");
    assert_eq!(
        r.unwrap_err().message(),
        "Failed to get PAM XDISPLAY: Bad item passed to pam_*_item()"
    );
}

/// Close speaks the words of the generation open found (remembered in our PAM data): 257's
/// bus-connection line after a 257 open, none after a 252 one.
#[test]
fn close_remembers_the_generation() {
    let host = FakeHost::default().runtime_dir(0);
    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![
        Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(0)))]),
        Expect::Release("c1", Ok(())),
    ]);
    run_open(&mut pam, &mut logind, &host, "").0.unwrap();
    assert_eq!(pam.get_data("pam_systemd_rs.generation"), Some(&Data::Value(257)));
    let (r, log) = run_close(&mut pam, &mut logind, &host, "debug bogus");
    r.unwrap();
    assert_eq!(
        log,
        [
            "WARN Unknown parameter 'bogus', ignoring.",
            "DEBUG pam-systemd shutting down",
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened."
        ]
    );

    let mut pam = tty_login("root");
    let mut logind = ScriptedLogind::new(vec![
        Expect::Create(vec![
            (PIDFD257, Answer1::Fail(unknown_method())),
            (CLASSIC252, Answer1::Reply(reply(0))),
        ]),
        Expect::Release("c1", Ok(())),
    ]);
    run_open(&mut pam, &mut logind, &host, "").0.unwrap();
    let (r, log) = run_close(&mut pam, &mut logind, &host, "debug bogus");
    r.unwrap();
    assert_eq!(
        log,
        [
            "WARN Unknown parameter 'bogus', ignoring",
            "DEBUG pam-systemd shutting down"
        ]
    );
}

/// The story asks why only on a failing login, once, with the user's uid, the trigger and the
/// login's deadline: a refusal that names a failed job or a destructive transaction (the line
/// comes last, right before the hook logs the error line), and a created session of the user's
/// whose runtime directory is not in order (the line comes after the directory's own lines).
#[test]
fn why_is_asked_on_failing_logins_only() {
    const WHY: &str = "user-runtime-dir@1000.service hit its start limit; reset it";
    let job = "Job user-runtime-dir@1000.service/start failed with 'dependency'";
    let destructive = "Transaction for session-c1.scope/start is destructive (x).";
    for (message, trigger) in [(job, Trigger::JobFailed), (destructive, Trigger::Destructive)] {
        let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
            PIDFD257,
            Answer1::Fail(failure("org.freedesktop.systemd1.UnitFailed", message)),
        )])]);
        logind.why_line = Some(WHY);
        let before = std::time::Instant::now();
        let (r, log) = run_open(&mut tty_login("alice"), &mut logind, &FakeHost::default(), "timeout=7");
        let e = r.unwrap_err();
        assert_eq!(e.code(), PAM_SESSION_ERR);
        assert!(
            e.message()
                .starts_with(&format!("Failed to create session: {message} (")),
            "{e}"
        );
        assert_eq!(
            log.last().map(String::as_str),
            Some(format!("WARN {WHY}").as_str()),
            "{log:?}"
        );
        let [(uid, asked, deadline)] = logind.asked[..] else {
            panic!("asked {:?}", logind.asked);
        };
        assert_eq!((uid, asked), (1000, trigger));
        let deadline = deadline.expect("the login's deadline");
        assert!(
            deadline >= before + Duration::from_secs(7)
                && deadline <= std::time::Instant::now() + Duration::from_secs(7)
        );
    }

    // The runtime directory of the user's new session is not in order.
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    logind.why_line = Some(WHY);
    let mut pam = tty_login("alice");
    let mut host = FakeHost::default();
    host.dirs
        .push(("/run/user/1000".into(), FileInfo { is_dir: true, uid: 7 }));
    let (r, log) = run_open(&mut pam, &mut logind, &host, "");
    r.unwrap();
    assert_eq!(pam.get_env("XDG_RUNTIME_DIR"), None);
    assert_eq!(pam.get_env("XDG_SESSION_ID").as_deref(), Some("c1"));
    assert_eq!(
        log,
        [
            "ERROR Runtime directory '/run/user/1000' is not owned by UID 1000, as it should.",
            "WARN Not setting $XDG_RUNTIME_DIR, as the directory is not in order.",
            &format!("WARN {WHY}"),
        ]
    );
    assert_eq!(logind.asked.len(), 1);
    assert_eq!((logind.asked[0].0, logind.asked[0].1), (1000, Trigger::RuntimeDir));

    // Nothing to ask: a healthy login; another user's session (su); already in a session; a
    // refusal that names no job; the bus unreachable. Nor does anything get logged for it.
    let healthy = || Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))]);
    let su = || Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))]);
    let busy = || {
        Expect::Create(vec![(
            PIDFD257,
            Answer1::Fail(failure(SESSION_BUSY, "Job x failed with 'y'")),
        )])
    };
    let refused = || {
        Expect::Create(vec![(
            PIDFD257,
            Answer1::Fail(failure("org.freedesktop.login1.NoSuchSeat", "No seat 'seat9' known")),
        )])
    };
    let gone = || {
        Expect::CreateConnectFails(Failure::Connect {
            errno: libc::ENOENT,
            detail: String::new(),
            elapsed: Duration::ZERO,
        })
    };
    for (user, host, expect) in [
        ("alice", FakeHost::default().runtime_dir(1000), healthy()),
        ("root", FakeHost::default().runtime_dir(0), su()),
        ("alice", FakeHost::default(), busy()),
        ("alice", FakeHost::default(), refused()),
        ("alice", FakeHost::default(), gone()),
    ] {
        let mut logind = ScriptedLogind::new(vec![expect]);
        logind.why_line = Some(WHY);
        let (_, log) = run_open(&mut tty_login(user), &mut logind, &host, "");
        assert!(logind.asked.is_empty(), "{user}: {:?}", logind.asked);
        assert!(!log.iter().any(|l| l.contains(WHY)), "{log:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 262 (compat=262; behaviour-262.md)
// ---------------------------------------------------------------------------------------------

const PIDFD262: Attempt = Attempt {
    via: Via::DbusPidfd,
    request: Generation::V262,
};

/// behaviour-262.md section 1, section 6.5, case 1 (over D-Bus) and 21/22: a created session; the variables
/// in 262's order (no runtime directory right after the id; `HOME`, `XDG_RUNTIME_DIR` and the
/// bus address after the credentials); an empty `XDG_SESSION_DESKTOP` unset; the extra device
/// list normalized; no `systemd.existing`; 262's lines in C's order.
#[test]
fn open_262_created() {
    let mut pam = tty_login("alice").env("XDG_SESSION_DESKTOP", "");
    let mut host = FakeHost::default().runtime_dir(1000);
    host.homes.push(("alice", "/home/alice"));
    host.existing_files.push("/run/user/1000/bus".into());
    host.env
        .push(("XDG_SESSION_EXTRA_DEVICE_ACCESS", b"gpu::render:".to_vec()));
    host.env.push(("XDG_VTNR", b"abc".to_vec()));
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD262,
        Answer1::Reply(FakeReply {
            seat: "seat0",
            vtnr: 2,
            ..reply(1000)
        }),
    )])]);
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    let (r, log) = run_open(&mut pam, &mut logind, &host, "compat=262 debug");
    r.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user")]);
    assert_eq!(
        pam.names(),
        [
            "XDG_SESSION_ID",
            "XDG_SESSION_TYPE",
            "XDG_SESSION_CLASS",
            "XDG_SESSION_EXTRA_DEVICE_ACCESS",
            "XDG_SEAT",
            "XDG_VTNR",
            "HOME",
            "XDG_RUNTIME_DIR",
            "DBUS_SESSION_BUS_ADDRESS",
        ]
    );
    assert_eq!(
        pam.get_env("XDG_SESSION_EXTRA_DEVICE_ACCESS").as_deref(),
        Some("gpu:render")
    );
    assert_eq!(pam.get_env("HOME").as_deref(), Some("/home/alice"));
    assert_eq!(
        pam.get_env("DBUS_SESSION_BUS_ADDRESS").as_deref(),
        Some("unix:path=/run/user/1000/bus")
    );
    assert_eq!(pam.get_data("systemd.existing"), None);
    assert!(matches!(pam.get_data("systemd.session-fd"), Some(Data::Value(n)) if *n >= 4));
    assert_eq!(
        log,
        [
            "DEBUG pam-systemd: initializing...",
            "WARN Failed to parse environment variable value 'abc' of 'XDG_VTNR' as unsigned integer, falling back to using 0.",
            "DEBUG Automatically chose session type 'tty'.",
            "DEBUG Automatically chose session class 'user'.",
            "DEBUG Asking logind to create session: uid=1000 pid=4242 service=login type=tty class=user desktop= seat= vtnr=0 tty=pts/3 display= remote=no remote_user= remote_host=",
            "DEBUG Session limits: memory_max=n/a tasks_max=n/a cpu_weight=n/a io_weight=n/a runtime_max_sec=n/a",
            // No Varlink socket scripted: C 262's fallback line (with our details), then D-Bus.
            "DEBUG Failed to connect to logind via Varlink, falling back to D-Bus: No such file or directory (socket /run/systemd/io.systemd.Login, connect: No such file or directory, after 0 ms)",
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.",
            "DEBUG Reply from logind: id=c1 object_path=/org/freedesktop/login1/session/c1 runtime_path=/run/user/1000 seat=seat0 vtnr=2 original_uid=1000",
            "DEBUG Failed to read credential 'shell.prompt.prefix', ignoring: No such device or address",
            "DEBUG Failed to read credential 'shell.prompt.suffix', ignoring: No such device or address",
            "DEBUG Failed to read credential 'shell.welcome', ignoring: No such device or address",
        ]
    );

    // 257 from the same inputs: its order, the empty desktop left alone, no HOME, no extra
    // device access, systemd.existing stored.
    let mut pam = tty_login("alice").env("XDG_SESSION_DESKTOP", "");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD257,
        Answer1::Reply(FakeReply {
            seat: "seat0",
            vtnr: 2,
            ..reply(1000)
        }),
    )])]);
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    run_open(&mut pam, &mut logind, &host, "compat=257").0.unwrap();
    assert_eq!(
        pam.names(),
        [
            "XDG_SESSION_DESKTOP",
            "XDG_SESSION_ID",
            "XDG_RUNTIME_DIR",
            "DBUS_SESSION_BUS_ADDRESS",
            "XDG_SESSION_TYPE",
            "XDG_SESSION_CLASS",
            "XDG_SEAT",
            "XDG_VTNR",
        ]
    );
    assert_eq!(pam.get_data("systemd.existing"), Some(&Data::Value(0)));
}

/// behaviour-262.md section 1 step 9, cases 12 and 13: class `none` and a missing logind register
/// nothing, but the credentials, `HOME` and the record's settings still come; the items and
/// limits are read first (their failures count). Without `compat=` and without logind, the
/// installed systemd's generation decides (258 on: 262's story).
#[test]
fn open_262_none_and_no_logind() {
    let mut pam = FakePam::new("alice")
        .item(StringItem::Service, "systemd-user")
        .env("XDG_SESSION_CLASS", "none");
    let mut host = FakeHost::default().runtime_dir(1000);
    host.homes.push(("alice", "/home/alice"));
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262 debug");
    r.unwrap();
    assert_eq!(pam.names(), ["XDG_SESSION_CLASS", "HOME"]);
    assert!(
        log.contains(&"DEBUG Skipping logind registration for session class none.".to_owned()),
        "{log:?}"
    );
    // 257 forces the manager class whatever was asked for.
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    let mut pam = FakePam::new("alice")
        .item(StringItem::Service, "systemd-user")
        .env("XDG_SESSION_CLASS", "none");
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    run_open(&mut pam, &mut logind, &host, "compat=257").0.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "manager")]);

    // No logind: pinned, or installed 262.
    for (args, systemd) in [("compat=262 debug", Some(257)), ("debug", Some(262))] {
        let mut host = FakeHost::default().no_logind();
        host.systemd = systemd;
        let mut pam = tty_login("root");
        let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, args);
        r.unwrap();
        assert_eq!(pam.names(), ["HOME"], "{args}");
        assert_eq!(pam.get_env("HOME").as_deref(), Some("/root"));
        assert!(
            log.contains(&"DEBUG Skipping logind registration as logind is not running.".to_owned()),
            "{log:?}"
        );
        assert!(log.contains(&"DEBUG Automatically chose session class 'user-early'.".to_owned()));
    }

    // The items and limits are read before the gate: their failures fail open even without
    // logind (257: success without reading them).
    let host = FakeHost::default().no_logind();
    let mut pam = tty_login("alice");
    pam.fail_get_data = Some(("systemd.tasks_max", 4));
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262");
    assert_eq!(r.unwrap_err(), Error::new(4, "Failed to get PAM data: PAM error 4"));
    let mut pam = tty_login("alice");
    pam.fail_get_data = Some(("systemd.tasks_max", 4));
    run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=257")
        .0
        .unwrap();
    let mut pam = tty_login("alice");
    pam.items.push((StringItem::RHost, Err(PAM_BUF_ERR)));
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262");
    assert_eq!(
        r.unwrap_err(),
        Error::new(PAM_BUF_ERR, "Failed to get PAM items: Memory buffer error")
    );
    // With logind, the limits' error has one text in 262, one per key in 257.
    for (args, text) in [
        ("compat=262", "Failed to get PAM data: PAM error 4"),
        ("compat=257", "Failed to get PAM systemd.tasks_max data: PAM error 4"),
    ] {
        let mut pam = tty_login("alice");
        pam.fail_get_data = Some(("systemd.tasks_max", 4));
        let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &FakeHost::default(), args);
        assert_eq!(r.unwrap_err(), Error::new(4, text), "{args}");
    }
}

/// behaviour-262.md section 8: an empty value unsets a variable that is set; a failure other than
/// BAD_ITEM is logged at LOG_WARNING and its code returned; 257 leaves it alone.
#[test]
fn update_environment_unsets_262() {
    let script = || ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(1000)))])]);
    let mut pam = tty_login("alice").env("XDG_SESSION_DESKTOP", "");
    pam.fail_putenv = Some(("XDG_SESSION_DESKTOP", PAM_BUF_ERR));
    let (r, _) = run_open(&mut pam, &mut script(), &FakeHost::default(), "compat=262");
    let e = r.unwrap_err();
    assert_eq!(
        e,
        Error::new(
            PAM_BUF_ERR,
            "Failed to unset XDG_SESSION_DESKTOP environment variable: Memory buffer error"
        )
        .warning()
    );
    assert!(e.is_warning());
    let mut pam = tty_login("alice").env("XDG_SESSION_DESKTOP", "");
    pam.fail_putenv = Some(("XDG_SESSION_DESKTOP", crate::ffi::PAM_BAD_ITEM));
    let host = FakeHost::default().expect_caps(vec![]);
    run_open(&mut pam, &mut script(), &host, "compat=262").0.unwrap();

    // A reply without a seat unsets XDG_SEAT from the environment (262 only).
    let mut pam = tty_login("alice").env("XDG_SEAT", "seat1");
    let host = FakeHost::default().expect_caps(vec![]);
    let mut logind = script();
    run_open(&mut pam, &mut logind, &host, "compat=262").0.unwrap();
    assert_eq!(pam.get_env("XDG_SEAT"), None);
    let mut pam = tty_login("alice").env("XDG_SEAT", "seat1");
    let host = FakeHost::default().expect_caps(vec![]);
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD257, Answer1::Reply(reply(1000)))])]);
    run_open(&mut pam, &mut logind, &host, "compat=257").0.unwrap();
    assert_eq!(pam.get_env("XDG_SEAT").as_deref(), Some("seat1"));
}

/// behaviour-262.md section 5, cases 14 and 15: an area's home and runtime directory; an area that is
/// not there, or not the user's, reverts (a line and a PAM_TEXT_INFO message, `XDG_AREA`
/// unset); without a runtime directory `XDG_RUNTIME_DIR` is unset; a runtime area directory
/// that cannot be made fails open.
#[test]
fn areas_262() {
    let created = || ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(1000)))])]);
    let host = || {
        let mut h = FakeHost::default().runtime_dir(1000);
        h.homes.push(("alice", "/home/alice"));
        h.existing_files.push("/run/user/1000/bus".into());
        h
    };
    let mut h = host();
    h.areas
        .push(("/home/alice/Areas/foo".into(), "/srv/areas/foo".into(), 1000));
    let mut pam = tty_login("alice");
    let mut logind = created();
    let (r, log) = run_open(&mut pam, &mut logind, &h, "compat=262 area=foo debug");
    r.unwrap();
    assert_eq!(classes(&logind), [(Via::DbusPidfd, "user-light")]);
    assert_eq!(pam.get_env("XDG_AREA").as_deref(), Some("foo"));
    assert_eq!(pam.get_env("HOME").as_deref(), Some("/srv/areas/foo"));
    assert_eq!(
        pam.get_env("XDG_RUNTIME_DIR").as_deref(),
        Some("/run/user/1000/Areas/foo")
    );
    assert_eq!(pam.get_env("DBUS_SESSION_BUS_ADDRESS"), None);
    assert_eq!(
        *h.area_runtime.borrow(),
        [("/run/user/1000".to_owned(), "foo".to_owned(), 1000, 1000)]
    );
    assert!(log.contains(&"DEBUG Area 'foo' selected, setting $HOME to '/srv/areas/foo'.".to_owned()));

    // Missing: XDG_AREA from the environment is unset, HOME the regular one.
    let mut pam = tty_login("alice").env("XDG_AREA", "foo");
    let (r, log) = run_open(&mut pam, &mut created(), &host(), "compat=262");
    r.unwrap();
    let text = "Path '/home/alice/Areas/foo' of requested user area 'foo' is not accessible, reverting to regular home directory";
    assert!(
        log.contains(&format!("WARN {text}: No such file or directory")),
        "{log:?}"
    );
    assert_eq!(pam.infos, [format!("{text}.")]);
    assert_eq!(pam.get_env("XDG_AREA"), None);
    assert_eq!(pam.get_env("HOME").as_deref(), Some("/home/alice"));
    assert_eq!(pam.get_env("XDG_RUNTIME_DIR").as_deref(), Some("/run/user/1000"));

    // Someone else's.
    let mut h = host();
    h.areas
        .push(("/home/alice/Areas/foo".into(), "/srv/areas/foo".into(), 0));
    let mut pam = tty_login("alice");
    let (r, log) = run_open(&mut pam, &mut created(), &h, "compat=262 area=foo");
    r.unwrap();
    let text =
        "Path '/srv/areas/foo' of requested user area 'foo' is not owned by user, reverting to regular home directory.";
    assert!(log.contains(&format!("ERROR {text}")), "{log:?}");
    assert_eq!(pam.infos, [text]);
    assert_eq!(pam.get_env("HOME").as_deref(), Some("/home/alice"));

    // No runtime directory (another user's session): XDG_RUNTIME_DIR unset.
    let mut h = host();
    h.areas
        .push(("/home/alice/Areas/foo".into(), "/home/alice/Areas/foo".into(), 1000));
    let mut pam = tty_login("alice").env("XDG_RUNTIME_DIR", "/run/user/0");
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(0)))])]);
    run_open(&mut pam, &mut logind, &h, "compat=262 area=foo").0.unwrap();
    assert_eq!(pam.get_env("XDG_RUNTIME_DIR"), None);
    assert!(h.area_runtime.borrow().is_empty());

    // The runtime area directory cannot be made.
    let mut h = host();
    h.areas
        .push(("/home/alice/Areas/foo".into(), "/home/alice/Areas/foo".into(), 1000));
    h.area_runtime_fails = Some(AreaDirError::Areas(libc::EACCES));
    let (r, _) = run_open(&mut tty_login("alice"), &mut created(), &h, "compat=262 area=foo");
    assert_eq!(
        r.unwrap_err(),
        Error::new(
            PAM_SERVICE_ERR,
            "Unable to create 'Areas' directory below '/run/user/1000': Permission denied"
        )
    );
}

/// behaviour-262.md section 10.1 and case 26: a looked-up record without a uid is PAM_USER_UNKNOWN in
/// 262 (and not cached), SERVICE_ERR in 257.
#[test]
fn record_without_uid() {
    let mut host = FakeHost::default();
    host.users.push(("nouid", u32::MAX));
    let mut pam = tty_login("nouid");
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262");
    assert_eq!(
        r.unwrap_err(),
        Error::new(PAM_USER_UNKNOWN, "User record of user 'nouid' has no UID, refusing.")
    );
    assert_eq!(pam.get_data("systemd-user-record-nouid"), None);
    let mut pam = tty_login("nouid");
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=257");
    assert_eq!(
        r.unwrap_err(),
        Error::new(PAM_SERVICE_ERR, "Acquired user record does not have a UID.")
    );
    assert!(pam.get_data("systemd-user-record-nouid").is_some());
}

/// behaviour-262.md section 13 and cases 27/28: close releases whenever XDG_SESSION_ID is set (no
/// `systemd.existing` read), with 262's line; 257 keeps a pre-existing session.
#[test]
fn close_262() {
    let host = FakeHost::default();
    let mut pam = FakePam::new("alice")
        .env("XDG_SESSION_ID", "c1")
        .data("systemd.existing", Data::Value(1));
    pam.fail_get_data = Some(("systemd.existing", 4));
    let mut logind = ScriptedLogind::new(vec![Expect::Release("c1", Ok(()))]);
    let (r, log) = run_close(&mut pam, &mut logind, &host, "compat=262 debug");
    r.unwrap();
    assert_eq!(log[0], "DEBUG pam-systemd: shutting down...");

    let mut pam = FakePam::new("alice")
        .env("XDG_SESSION_ID", "c1")
        .data("systemd.existing", Data::Value(1));
    let (r, log) = run_close(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=257 debug");
    r.unwrap();
    assert_eq!(log, ["DEBUG pam-systemd shutting down"]);
    // Nothing without an id.
    run_close(
        &mut FakePam::new("alice"),
        &mut ScriptedLogind::new(vec![]),
        &host,
        "compat=262",
    )
    .0
    .unwrap();
}

/// behaviour-262.md section 2, case 16: the bad-area warning at open and again at close.
#[test]
fn area_argument_warning_at_open_and_close() {
    let line = "WARN Area name specified among PAM module parameters is not valid, ignoring: a/b";
    let (_, log) = run_open(
        &mut tty_login("alice"),
        &mut ScriptedLogind::new(vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(1000)))])]),
        &FakeHost::default().expect_caps(vec![]),
        "compat=262 area=a/b",
    );
    assert_eq!(log.first().map(String::as_str), Some(line));
    let (_, log) = run_close(
        &mut FakePam::new("alice"),
        &mut ScriptedLogind::new(vec![]),
        &FakeHost::default(),
        "compat=262 area=a/b",
    );
    assert_eq!(log, [line]);
}

/// A logind with io.systemd.Login (≥ 258) answers the 262 request over Varlink: generation 262,
/// the C 262 reply line (no session fd, object path n/a, seat (null)), no `systemd.existing`.
#[test]
fn varlink_answer_is_262() {
    let mut pam = tty_login("alice");
    let host = FakeHost::default().runtime_dir(1000);
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        a(Via::Varlink, Generation::V262),
        Answer1::Reply(FakeReply {
            fd: false,
            ..reply(1000)
        }),
    )])]);
    let (r, log) = run_open(&mut pam, &mut logind, &host, "debug");
    r.unwrap();
    assert_eq!(classes(&logind), [(Via::Varlink, "user")]);
    assert_eq!(pam.get_env("XDG_SESSION_ID").as_deref(), Some("c1"));
    assert!(pam.get_data("systemd.existing").is_none());
    assert!(pam.get_data("systemd.session-fd").is_none());
    assert!(
        log.contains(&"DEBUG logind generation 262 (io.systemd.Login answered).".to_owned()),
        "{log:?}"
    );
    assert!(
        log.iter().any(
            |l| l.starts_with("DEBUG Reply from logind: id=c1 object_path=n/a runtime_path=")
                && l.contains(" seat=(null) ")
                && !l.contains("session_fd")
        ),
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.contains("sd-bus")), "{log:?}");
}

// ---------------------------------------------------------------------------------------------
// userdb (user::userdb behind Host::userdb_by_name)
// ---------------------------------------------------------------------------------------------

/// A user only userdb knows (no passwd line) gets a session under 257's rules: the record as
/// found is cached byte for byte and its process and environment settings apply; 252's rules
/// ask NSS alone (Debian 12, elogind), so the same user is unknown there.
#[test]
fn userdb_only_user_under_257_and_nss_only_under_252() {
    let json = br#"{"userName":"udb","uid":60100,"service":"io.systemd.DropIn","umask":18,"niceLevel":3,"environment":["FOO=bar"],"timeZone":"Europe/Berlin"}"#;
    let host = || {
        let mut h = FakeHost::default().no_logind();
        h.userdb.push(("udb", Ok(json.to_vec())));
        h
    };
    let h = host();
    let mut pam = tty_login("udb");
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &h, "");
    r.unwrap();
    assert_eq!(pam.get_data("systemd-user-record-udb"), Some(&Data::Str(json.to_vec())));
    assert_eq!(*h.process.borrow(), ["umask 0022", "nice 3"]);
    assert_eq!(pam.get_env("FOO").as_deref(), Some("bar"));
    assert_eq!(pam.get_env("TZ").as_deref(), Some(":Europe/Berlin"));
    assert_eq!(*h.userdb_asked.borrow(), [("udb".to_owned(), true)]);

    let h = host();
    let mut pam = tty_login("udb");
    let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &h, "compat=252");
    assert_eq!(
        r.unwrap_err(),
        Error::new(PAM_USER_UNKNOWN, "Failed to get user record: No such process")
    );
    assert!(h.userdb_asked.borrow().is_empty());
    assert_eq!(pam.get_data("systemd-user-record-udb"), None);

    // Without compat= and without logind: the installed systemd decides (252 → NSS).
    let mut h = host();
    h.systemd = Some(252);
    let (r, _) = run_open(&mut tty_login("udb"), &mut ScriptedLogind::new(vec![]), &h, "");
    assert_eq!(r.unwrap_err().code(), PAM_USER_UNKNOWN);
    assert!(h.userdb_asked.borrow().is_empty());
}

/// userdb's failures are C's: USER_UNKNOWN with `Failed to get user record: %m`; a record
/// without a uid is cached and then refused with SERVICE_ERR under 257.
#[test]
fn userdb_failures() {
    for (answer, want) in [
        (
            Err(libc::ETIMEDOUT),
            Error::new(PAM_USER_UNKNOWN, "Failed to get user record: Connection timed out"),
        ),
        (
            Err(libc::EHOSTDOWN),
            Error::new(PAM_USER_UNKNOWN, "Failed to get user record: Host is down"),
        ),
        (
            Err(libc::EIO),
            Error::new(PAM_USER_UNKNOWN, "Failed to get user record: Input/output error"),
        ),
        (
            Ok(br#"{"userName":"udb","service":"x"}"#.to_vec()),
            Error::new(PAM_SERVICE_ERR, "Acquired user record does not have a UID."),
        ),
    ] {
        let mut h = FakeHost::default().no_logind();
        let cached = answer.clone().ok();
        h.userdb.push(("udb", answer));
        let mut pam = tty_login("udb");
        let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &h, "");
        assert_eq!(r.unwrap_err(), want);
        assert_eq!(pam.get_data("systemd-user-record-udb"), cached.map(Data::Str).as_ref());
    }
}

// ---------------------------------------------------------------------------------------------
// 262: inhibitor lock and OSC 3008 (behaviour-262.md sections 1, 11, 12, 13)
// ---------------------------------------------------------------------------------------------

/// A pipe: the read end (the test's, standing for logind's watch) and the write end (the lock).
fn lock_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: a valid array of two ints for pipe2.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) },
        0
    );
    // SAFETY: fresh fds we own.
    unsafe {
        (
            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[0]),
            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]),
        )
    }
}

/// Whether every write end of the lock's pipe is closed (logind's FIFO sees EOF). A test of this
/// binary that forks at the wrong moment hands its child a copy of the fds open then (CLOEXEC
/// only acts at exec): a released lock gets up to 2 s for such a copy to go away.
fn lock_released(read_end: &OwnedFd) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let mut b = [0u8; 1];
        // SAFETY: a valid fd and buffer.
        let n = unsafe { libc::read(std::os::fd::AsRawFd::as_raw_fd(read_end), b.as_mut_ptr().cast(), 1) };
        assert!(n <= 0, "nothing is written to the lock");
        if n == 0 {
            return true;
        }
        if std::time::Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Section 1 steps 8–11, section 12, section 13: after a created session the lock is taken (what and why
/// verbatim, who = the service, `block`), right after the registration's variables and before
/// the credentials and `HOME`; kept as `systemd.inhibit-fd`. Close drops it (the fd closed)
/// right after the shutting-down line, before ReleaseSession.
#[test]
fn inhibit_262_taken_after_registration_dropped_before_release() {
    let (watch, lock) = lock_pipe();
    let mut pam = tty_login("alice");
    let mut host = FakeHost::default().runtime_dir(1000);
    host.homes.push(("alice", "/home/alice"));
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    let mut logind = ScriptedLogind::new(vec![
        Expect::Create(vec![(
            PIDFD262,
            Answer1::Reply(FakeReply {
                seat: "seat0",
                ..reply(1000)
            }),
        )]),
        Expect::Inhibit(["sleep", "login", "Backup"], Ok(lock)),
    ]);
    events();
    let (r, log) = run_open(
        &mut pam,
        &mut logind,
        &host,
        "compat=262 debug inhibit=sleep inhibit-why=Backup",
    );
    r.unwrap();
    assert_eq!(
        events(),
        [
            "create",
            "putenv XDG_SESSION_ID",
            "putenv XDG_SESSION_TYPE",
            "putenv XDG_SESSION_CLASS",
            "putenv XDG_SEAT",
            "inhibit sleep",
            "set-fd systemd.inhibit-fd",
            "putenv HOME",
            "putenv XDG_RUNTIME_DIR",
            "caps",
        ]
    );
    assert!(matches!(pam.get_data("systemd.inhibit-fd"), Some(Data::Fd(n)) if *n >= 3));
    assert!(!lock_released(&watch), "the lock is held while the session is open");
    let reply_at = log
        .iter()
        .position(|l| l.starts_with("DEBUG Reply from logind:"))
        .unwrap();
    assert_eq!(
        log[reply_at + 1..reply_at + 4],
        [
            "DEBUG New sd-bus connection (system-bus-pam-systemd-4242) opened.",
            "DEBUG Acquired inhibit lock for 'sleep'.",
            "DEBUG Failed to read credential 'shell.prompt.prefix', ignoring: No such device or address",
        ]
    );
    // The lock's call has the module's one deadline, like the registration.
    assert_eq!(logind.endpoints[1].timeout, Some(args::DEFAULT_OPEN_TIMEOUT));

    logind.script.push_back(Expect::Release("c1", Ok(())));
    let (r, log) = run_close(&mut pam, &mut logind, &host, "compat=262 debug");
    r.unwrap();
    assert_eq!(log[0], "DEBUG pam-systemd: shutting down...");
    assert_eq!(events(), ["clear systemd.inhibit-fd", "release c1"]);
    assert!(lock_released(&watch));
    assert_eq!(pam.get_data("systemd.inhibit-fd"), Some(&Data::Value(0)));
}

/// Section 12 "When": every path on which registration returned SUCCESS takes the lock — class
/// `none`, no logind, already in a session, the `systemd-user` stack — an empty `inhibit=` too
/// (logind judges it), and `XDG_SESSION_INHIBIT`/`_WHY` from the PAM env beat the arguments;
/// `who` falls back to `pam_systemd` without a service, `why` to `Active PAM session`.
#[test]
fn inhibit_262_on_every_successful_registration() {
    type Setup = (&'static str, fn() -> FakePam, bool, Vec<Expect>, [&'static str; 3]);
    let cases: Vec<Setup> = vec![
        (
            "compat=262 class=none inhibit=sleep",
            || tty_login("alice"),
            true,
            vec![],
            ["sleep", "login", "Active PAM session"],
        ),
        (
            "compat=262 inhibit=idle:sleep inhibit-why=",
            || FakePam::new("alice"),
            false,
            vec![],
            ["idle:sleep", "pam_systemd", ""],
        ),
        (
            "compat=262 inhibit=",
            || tty_login("alice"),
            true,
            vec![Expect::Create(vec![(
                PIDFD262,
                Answer1::Fail(failure(SESSION_BUSY, "Already running in a session")),
            )])],
            ["", "login", "Active PAM session"],
        ),
        (
            "compat=262 inhibit=sleep inhibit-why=x",
            || {
                tty_login("alice")
                    .env("XDG_SESSION_INHIBIT", "shutdown")
                    .env("XDG_SESSION_INHIBIT_WHY", "Env")
            },
            true,
            vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(1000)))])],
            ["shutdown", "login", "Env"],
        ),
        (
            "compat=262 inhibit=sleep",
            || FakePam::new("alice").item(StringItem::Service, "systemd-user"),
            true,
            vec![Expect::Create(vec![(PIDFD262, Answer1::Reply(reply(1000)))])],
            ["sleep", "systemd-user", "Active PAM session"],
        ),
    ];
    for (args, pam, logind_running, mut script, want) in cases {
        let (_watch, lock) = lock_pipe();
        script.push(Expect::Inhibit(want, Ok(lock)));
        let mut logind = ScriptedLogind::new(script);
        let mut host = FakeHost::default().runtime_dir(1000);
        host.running = logind_running;
        // The user manager's stack gets the wake-alarm capability.
        let manager = args.ends_with("inhibit=sleep") && want[1] == "systemd-user";
        let host = host.expect_caps(if manager {
            vec![CapCall::Ambient(WAKE, Ok(()))]
        } else {
            vec![]
        });
        let mut pam = pam();
        events();
        let (r, _) = run_open(&mut pam, &mut logind, &host, args);
        r.unwrap();
        assert!(
            matches!(pam.get_data("systemd.inhibit-fd"), Some(Data::Fd(_))),
            "{args}"
        );
        // Before HOME (setup_environment), whatever the path.
        let ev = events();
        let at = |e: &str| ev.iter().position(|x| x == e);
        assert!(at("set-fd systemd.inhibit-fd") < at("putenv HOME"), "{args}: {ev:?}");
    }
}

/// Section 12: no lock where registration fails (open fails first), none without a lock
/// request, none before 262 (`inhibit=` is an unknown parameter there); a refused lock is never
/// fatal: logind's message as a warning, no fd kept.
#[test]
fn inhibit_262_not_taken_or_refused() {
    // Registration fails: no Inhibit (the scripted logind panics on an unexpected call).
    let mut logind = ScriptedLogind::new(vec![Expect::Create(vec![(
        PIDFD262,
        Answer1::Fail(failure("org.freedesktop.login1.NoSuchSeat", "No seat 'x' known")),
    )])]);
    let host = FakeHost::default().runtime_dir(1000);
    let (r, _) = run_open(&mut tty_login("alice"), &mut logind, &host, "compat=262 inhibit=sleep");
    assert!(r.is_err());

    // No request: no call.
    let host = FakeHost::default().no_logind().expect_caps(vec![]);
    let mut pam = tty_login("alice");
    run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262")
        .0
        .unwrap();
    assert!(pam.get_data("systemd.inhibit-fd").is_none());
    // 257: an unknown parameter, no call, even with the variable set.
    let mut pam = tty_login("alice").env("XDG_SESSION_INHIBIT", "sleep");
    let (r, log) = run_open(
        &mut pam,
        &mut ScriptedLogind::new(vec![]),
        &host,
        "compat=257 inhibit=sleep",
    );
    r.unwrap();
    assert!(
        log.iter().any(|l| l.contains("Unknown parameter 'inhibit=sleep'")),
        "{log:?}"
    );
    assert!(pam.get_data("systemd.inhibit-fd").is_none());

    // Refused: a warning, open goes on.
    let mut logind = ScriptedLogind::new(vec![Expect::Inhibit(
        ["bogus", "login", "Active PAM session"],
        Err(failure(
            "org.freedesktop.DBus.Error.InvalidArgs",
            "Invalid what specification bogus",
        )),
    )]);
    let mut pam = tty_login("alice");
    let (r, log) = run_open(&mut pam, &mut logind, &host, "compat=262 inhibit=bogus");
    r.unwrap();
    assert!(
        log.contains(&"WARN Failed to acquire inhibit lock: Invalid what specification bogus".to_owned()),
        "{log:?}"
    );
    assert!(pam.get_data("systemd.inhibit-fd").is_none());
    assert_eq!(pam.names(), ["HOME"]);

    // Close before 262 leaves PAM data of that name alone.
    let (_watch, lock) = lock_pipe();
    let mut pam = FakePam::new("alice");
    pam.set_data_fd(inhibit::FD_KEY, lock).unwrap();
    events();
    run_close(
        &mut pam,
        &mut ScriptedLogind::new(vec![]),
        &FakeHost::default(),
        "compat=257",
    )
    .0
    .unwrap();
    assert!(events().is_empty());
    assert!(matches!(pam.get_data("systemd.inhibit-fd"), Some(Data::Fd(_))));
}

/// Section 11: the OSC 3008 start is open's very last step (after the record's settings and the
/// capabilities), only for type `tty` with `TERM` not `dumb` (PAM env first, then the process)
/// and stdout a tty, also when nothing was registered; the id and the pin kept as PAM data.
/// Close writes the end with that id first, then drops the lock, then releases.
#[test]
fn osc_262_start_last_end_first() {
    let (_watch, lock) = lock_pipe();
    let mut pam = tty_login("alice");
    let mut host = FakeHost::default().runtime_dir(1000);
    host.tty.is_tty = true;
    let host = host.expect_caps(vec![CapCall::Ambient(WAKE, Ok(()))]);
    let mut logind = ScriptedLogind::new(vec![
        Expect::Create(vec![(
            PIDFD262,
            Answer1::Reply(FakeReply {
                seat: "seat0",
                ..reply(1000)
            }),
        )]),
        Expect::Inhibit(["sleep", "login", "Active PAM session"], Ok(lock)),
    ]);
    events();
    run_open(&mut pam, &mut logind, &host, "compat=262 inhibit=sleep")
        .0
        .unwrap();
    let ev = events();
    assert_eq!(
        ev[ev.len() - 4..],
        [
            "caps",
            "osc-start",
            "set-id systemd.osc-context-id",
            "set-fd systemd.osc-context-fd"
        ]
    );
    let id = osc::hex(&osc::v4(RANDOM));
    assert_eq!(
        *host.tty.written.borrow(),
        [format!(
            "\x1b]3008;start={id};user=root;hostname=host;pid=4242;comm=login;targetuser=alice;sessionid=c1;type=session\x1b\\"
        )]
    );
    assert_eq!(pam.get_data("systemd.osc-context-id"), Some(&Data::Id(osc::v4(RANDOM))));

    logind.script.push_back(Expect::Release("c1", Ok(())));
    run_close(&mut pam, &mut logind, &host, "compat=262").0.unwrap();
    assert_eq!(events(), ["osc-end", "clear systemd.inhibit-fd", "release c1"]);
    assert_eq!(host.tty.written.borrow()[1], format!("\x1b]3008;end={id}\x1b\\"));

    // Not written: TERM=dumb (PAM env, or the process's when the PAM env has none), stdout not a
    // tty, another type. Written without logind (the computed type is tty).
    let cases: [(&str, Option<&str>, Option<&str>, bool, bool); 6] = [
        ("compat=262", Some("dumb"), None, true, false),
        ("compat=262", None, Some("dumb"), true, false),
        ("compat=262", Some("xterm"), Some("dumb"), true, true),
        ("compat=262", None, None, false, false),
        ("compat=262 type=x11", None, None, true, false),
        ("compat=262 class=none", Some(""), None, true, true),
    ];
    for (args, pam_term, proc_term, is_tty, written) in cases {
        let mut host = FakeHost::default().no_logind();
        host.tty.is_tty = is_tty;
        host.tty.term = proc_term;
        let mut pam = tty_login("alice");
        if let Some(t) = pam_term {
            pam = pam.env("TERM", t);
        }
        events();
        run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, args)
            .0
            .unwrap();
        assert_eq!(
            host.tty.written.borrow().len(),
            usize::from(written),
            "{args} {pam_term:?} {proc_term:?}"
        );
        assert_eq!(
            pam.get_data("systemd.osc-context-id").is_some(),
            written,
            "{args} {pam_term:?}"
        );
        let wrote = events().contains(&"osc-start".to_owned());
        assert_eq!(wrote, written);
        // Close writes an end only after a start.
        run_close(&mut pam, &mut ScriptedLogind::new(vec![]), &host, args)
            .0
            .unwrap();
        assert_eq!(events().contains(&"osc-end".to_owned()), written, "{args}");
    }

    // 257: nothing, whatever the terminal.
    let mut host = FakeHost::default().no_logind();
    host.tty.is_tty = true;
    let mut pam = tty_login("alice");
    run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=257")
        .0
        .unwrap();
    assert!(host.tty.written.borrow().is_empty());
}

/// Section 11 step 6 and 7: a failed write fails open (SERVICE_ERR, the errno's text); a pin
/// that cannot be made is only a debug line (no fd kept, close then writes nothing).
#[test]
fn osc_262_failures() {
    let mut host = FakeHost::default().no_logind();
    host.tty.is_tty = true;
    host.tty.write_fails = Some(libc::EAGAIN);
    let (r, _) = run_open(
        &mut tty_login("alice"),
        &mut ScriptedLogind::new(vec![]),
        &host,
        "compat=262",
    );
    assert_eq!(
        r.unwrap_err(),
        Error::new(
            PAM_SERVICE_ERR,
            "Failed to write OSC sequence to TTY: Resource temporarily unavailable"
        )
    );

    let mut host = FakeHost::default().no_logind();
    host.tty.is_tty = true;
    host.tty.pin_fails = Some(libc::ENOENT);
    let mut pam = tty_login("alice");
    let (r, log) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262 debug");
    r.unwrap();
    assert!(
        log.contains(&"DEBUG Failed to pin TTY, ignoring: No such file or directory".to_owned()),
        "{log:?}"
    );
    assert!(pam.get_data("systemd.osc-context-id").is_some());
    assert!(pam.get_data("systemd.osc-context-fd").is_none());
    events();
    run_close(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262")
        .0
        .unwrap();
    assert!(!events().contains(&"osc-end".to_owned()));
}

/// 262's `HOME` from a cached record without `homeDirectory`: a regular user's is
/// `get_home_root()/NAME` (`user_record_augment()`: `/home`, or an absolute, normalized
/// `$SYSTEMD_HOME_ROOT`), root's `/root`, anyone else's `/`.
#[test]
fn home_262_without_home_directory() {
    for (json, env, want) in [
        (r#"{"userName":"alice","uid":1000}"#, None, "/home/alice"),
        (
            r#"{"userName":"alice","uid":1000}"#,
            Some("/srv/homes"),
            "/srv/homes/alice",
        ),
        (r#"{"userName":"alice","uid":1000}"#, Some("srv/homes"), "/home/alice"),
        (r#"{"userName":"alice","uid":500}"#, None, "/"),
        (
            r#"{"userName":"alice","uid":1000,"homeDirectory":"/var/a"}"#,
            None,
            "/var/a",
        ),
    ] {
        let mut pam = tty_login("alice").data("systemd-user-record-alice", Data::Str(json.into()));
        let mut host = FakeHost::default().no_logind();
        if let Some(e) = env {
            host.env.push(("SYSTEMD_HOME_ROOT", e.as_bytes().to_vec()));
        }
        let host = host.expect_caps(vec![]);
        let (r, _) = run_open(&mut pam, &mut ScriptedLogind::new(vec![]), &host, "compat=262");
        r.unwrap();
        assert_eq!(pam.get_env("HOME").as_deref(), Some(want), "{json} {env:?}");
    }
}
