//! A recording fake of systemd-logind's D-Bus `Manager` interface (the parts pam_systemd uses).
//!
//! `fake-logind --state DIR [--address ADDR]`
//!
//! Owns `org.freedesktop.login1` on the bus at ADDR (default: `$DBUS_SYSTEM_BUS_ADDRESS`, else
//! `unix:path=/run/dbus/system_bus_socket`) and serves `/org/freedesktop/login1`,
//! interface `org.freedesktop.login1.Manager`, methods `CreateSession`, `ReleaseSession`,
//! `Inhibit` and (only with `pidfd=1` in the config) `CreateSessionWithPIDFD`. Anything else gets
//! `org.freedesktop.DBus.Error.UnknownMethod` (or UnknownObject / UnknownInterface).
//!
//! Behaviour comes from `DIR/fake.conf` (`key=value` lines, `#` comments), re-read on every call.
//! Every call is recorded as one JSON line in `DIR/fake-calls.jsonl`, written before the reply.
//! Each session fd is the write end of a fresh FIFO `DIR/session-<n>.ref`; when every writer has
//! closed it, a `{"event":"fifo-eof","id":...}` line is appended.
//!
//! Test-only probe (a separate interface, so `Manager` and its records stay as they are):
//! `org.pamsystemdrs.FakeLogind.Probe.Probe()` on `/org/freedesktop/login1` returns `(as open,
//! as hung_up)`: for every session FIFO handed out so far, in creation order, whether some writer
//! still holds it (`open`) or not (`hung_up`). It looks synchronously (poll with timeout 0 on the
//! read end), so a client that asks just before it exits learns whether it still holds its
//! session fd, without waiting for the watcher threads. Before it replies it appends, in this
//! order, the `fifo-eof` line of every FIFO it found hung up whose EOF was not recorded yet (the
//! watcher then records nothing more), and one `{"event":"probe","open":[...],"hung_up":[...]}`
//! line. So the records are the same whichever of probe and watcher sees an EOF first: every
//! `fifo-eof` of a session in `hung_up` comes before the probe line, each exactly once. Every
//! other method call does the same before it is recorded: a FIFO closed before the call was
//! sent has its `fifo-eof` line before the call's.
//!
//! Keys (all optional):
//! * `create_error=<dbus error name>`, `create_error_msg=<text>`: CreateSession* fails with it.
//! * `create_mode=normal|never-reply|exit|wrong-signature|bad-fd`:
//!   never-reply holds the call forever; exit records the call and exits (status 0) without
//!   replying (the bus daemon then answers NoReply); wrong-signature replies with just `s` (the id);
//!   bad-fd replies with the right signature but the fd is `/dev/null` (not a FIFO).
//! * `reply_id=<id>` (default `c<counter>`, counter starting at 1 and counting every successful
//!   create of this process).
//! * `reply_runtime_path=<path>` (default `/run/user/<uid>`, created mode 0700 owned by uid unless
//!   `create_runtime_dir=0`; with `runtime_bus=1` an empty file `bus` is put inside it).
//! * `reply_uid=<n>` (default: the request's uid), `reply_seat=`, `reply_vtnr=` (default echo the
//!   request), `reply_existing=0|1` (default 0).
//! * `session_busy_on_second=0|1` (default 1): a second create from a sender PID that already got a
//!   session → `org.freedesktop.login1.SessionBusy` `Already running in a session or user slice`.
//! * `release_error=<name>`, `release_error_msg=<text>`, `release_mode=normal|never-reply`.
//! * `pidfd=0|1` (default 0): whether `CreateSessionWithPIDFD` exists.
//! * `inhibit_error=<name>`, `inhibit_error_msg=<text>`: `Inhibit` fails with it. Else, as
//!   logind does, a FIFO `DIR/inhibit-<n>.ref` is made and its write end returned (`h`); the
//!   lock is listed as `inhibit-<n>` by the probe and gets a `fifo-eof` line when every holder
//!   has closed it. Every call is recorded as `{"method":"Inhibit","what","who","why","mode",…}`;
//!   `what` is not validated.
//! * `classes=252|257` (default: any class): the session classes logind of that generation
//!   accepts (252: user greeter lock-screen background; 257 adds user-early user-incomplete
//!   background-light manager manager-early); any other class → `InvalidArgs`
//!   `Invalid session class <class>`, as logind says it.
//!
//! Varlink face (logind ≥ 258), only once `varlink=1` is in the config (watched every 10 ms until
//! then; the test waits for the socket): listens on
//! `--varlink PATH` (default `/run/systemd/io.systemd.Login`, inside the testbed's private `/run`)
//! and answers `io.systemd.Login.CreateSession` and `ReleaseSession`, one call per connection as
//! pam_systemd makes them. Each call is recorded in the same `fake-calls.jsonl` as
//! `{"varlink":true,"method":...,"parameters":...,"reply":...}`. Keys:
//! * `varlink_classes=257|any` (default any): a class (in Varlink's underscore spelling) that
//!   logind 257 would not know is refused with `org.varlink.service.InvalidParameter`
//!   `{"parameter":"Class"}`.
//! * `varlink_error=<name>`: CreateSession answers this error (`AlreadySessionMember` included).
//! * `varlink_release_error=<name>`: ReleaseSession answers this error.
//! * `varlink_mode=normal|stale|mute|garbage|truncated|huge|no-nul|exit`: stale leaves the
//!   socket file with nobody listening (connect: ECONNREFUSED); mute accepts and never
//!   answers; garbage answers a NUL-terminated non-JSON text; truncated half a reply and closes;
//!   huge a 2 MiB reply; no-nul a whole reply without its NUL, kept open; exit records the call
//!   and exits the process without answering.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd as StdOwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_core::Stream;
use serde_json::{Value, json};
use zbus::message::Type as MsgType;
use zbus::{Connection, Message, MessageStream, ObjectPath, OwnedVariant, Variant};

const MANAGER_PATH: &str = "/org/freedesktop/login1";
const MANAGER_IFACE: &str = "org.freedesktop.login1.Manager";
const PROBE_IFACE: &str = "org.pamsystemdrs.FakeLogind.Probe";

type Props = Vec<(String, OwnedVariant)>;
type CreateArgs = (
    u32,
    u32,
    String,
    String,
    String,
    String,
    String,
    u32,
    String,
    String,
    bool,
    String,
    String,
    Props,
);
type CreatePidfdArgs = (
    u32,
    zbus::OwnedFd,
    String,
    String,
    String,
    String,
    String,
    u32,
    String,
    String,
    bool,
    String,
    String,
    u64,
    Props,
);

struct Recorder {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Recorder {
    fn record(&self, v: &Value) {
        let mut line = serde_json::to_string(v).expect("json");
        line.push('\n');
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match OpenOptions::new().create(true).append(true).open(&self.path) {
            Ok(mut f) => {
                // One write of the whole line (O_APPEND), then flush.
                if let Err(e) = f.write_all(line.as_bytes()).and_then(|_| f.flush()) {
                    eprintln!("fake-logind: write {}: {e}", self.path.display());
                }
            }
            Err(e) => eprintln!("fake-logind: open {}: {e}", self.path.display()),
        }
    }
}

struct Conf(HashMap<String, String>);

impl Conf {
    fn load(state: &Path) -> Conf {
        let mut m = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(state.join("fake.conf")) {
            for line in text.lines() {
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some((k, v)) = line.split_once('=') {
                    m.insert(k.trim().to_string(), v.trim_end_matches(['\r', '\n']).to_string());
                }
            }
        }
        Conf(m)
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|s| s.as_str())
    }
    fn flag(&self, k: &str, default: bool) -> bool {
        match self.get(k) {
            Some(v) => matches!(v.trim(), "1" | "yes" | "true" | "on"),
            None => default,
        }
    }
    fn num(&self, k: &str) -> Option<u32> {
        self.get(k).and_then(|v| v.trim().parse().ok())
    }
}

/// One session FIFO handed out: its id and a dup of its read end, until its EOF is recorded.
struct Fifo {
    id: String,
    read_end: Option<StdOwnedFd>,
}

/// Every session FIFO handed out, in creation order. Whoever records a `fifo-eof` (watcher or
/// probe) does it while holding this lock and takes `read_end` away, so it happens exactly once.
type Fifos = Arc<Mutex<Vec<Fifo>>>;

struct State {
    dir: PathBuf,
    rec: Arc<Recorder>,
    fifos: Fifos,
    counter: u32,
    fifo_counter: u32,
    inhibit_counter: u32,
    pids_with_session: HashSet<i64>,
}

fn variant_json(v: &Variant<'_>) -> Value {
    match v {
        Variant::U8(x) => json!(x),
        Variant::Bool(x) => json!(x),
        Variant::I16(x) => json!(x),
        Variant::U16(x) => json!(x),
        Variant::I32(x) => json!(x),
        Variant::U32(x) => json!(x),
        Variant::I64(x) => json!(x),
        Variant::U64(x) => json!(x),
        Variant::F64(x) => json!(x),
        Variant::Str(s) => json!(s.as_str()),
        Variant::ObjectPath(p) => json!(p.as_str()),
        Variant::Signature(s) => json!(s.to_string()),
        Variant::Variant(inner) => variant_json(inner),
        other => json!(format!("{other:?}")),
    }
}

fn props_json(props: &Props) -> Value {
    Value::Array(
        props
            .iter()
            .map(|(k, v)| json!([k, v.value_signature().to_string(), variant_json(v)]))
            .collect(),
    )
}

fn pid_of_pidfd(fd: RawFd) -> Option<i64> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
}

async fn sender_pid(conn: &Connection, msg: &Message) -> Option<i64> {
    let hdr = msg.header();
    let sender = hdr.sender()?.to_string();
    let reply = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetConnectionUnixProcessID",
            &(sender.as_str(),),
        )
        .await
        .ok()?;
    reply.body().deserialize::<u32>().ok().map(i64::from)
}

/// Creates the session FIFO, returns the write end to send; spawns a watcher on the read end.
fn make_session_fifo(st: &mut State, id: &str) -> std::io::Result<StdOwnedFd> {
    st.fifo_counter += 1;
    let file = format!("session-{}.ref", st.fifo_counter);
    make_fifo(st, &file, id)
}

/// Creates the FIFO `DIR/<file>` listed as `id`, returns the write end to send; spawns a watcher
/// on the read end.
fn make_fifo(st: &mut State, file: &str, id: &str) -> std::io::Result<StdOwnedFd> {
    let path = st.dir.join(file);
    let _ = std::fs::remove_file(&path);
    let cpath = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: plain libc calls on a valid C string; the fds are wrapped into OwnedFd at once.
    unsafe {
        if libc::mkfifo(cpath.as_ptr(), 0o600) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let rfd = libc::open(cpath.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC);
        if rfd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let rfd = StdOwnedFd::from_raw_fd(rfd);
        let wfd = libc::open(cpath.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC);
        if wfd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let wfd = StdOwnedFd::from_raw_fd(wfd);
        let probe_end = rfd.try_clone()?;
        let index = {
            let mut fifos = st.fifos.lock().unwrap_or_else(|e| e.into_inner());
            fifos.push(Fifo {
                id: id.to_string(),
                read_end: Some(probe_end),
            });
            fifos.len() - 1
        };
        let rec = st.rec.clone();
        let fifos = st.fifos.clone();
        std::thread::spawn(move || watch_fifo(rfd, rec, fifos, index));
        Ok(wfd)
    }
}

/// Records the EOF of this FIFO unless that was done already (the caller holds the lock).
fn record_eof(rec: &Recorder, f: &mut Fifo) {
    if f.read_end.take().is_some() {
        rec.record(&json!({"event": "fifo-eof", "id": f.id}));
    }
}

/// Whether no writer holds the FIFO any more (poll with timeout 0; POLLHUP or POLLERR).
fn hung_up(fd: &StdOwnedFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, no waiting.
        let r = unsafe { libc::poll(&mut pfd, 1, 0) };
        if r < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return r > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0;
    }
}

/// Records the `fifo-eof` line of every FIFO found hung up whose EOF was not recorded yet.
fn flush_eofs(st: &State) {
    let mut fifos = st.fifos.lock().unwrap_or_else(|e| e.into_inner());
    for f in fifos.iter_mut() {
        if f.read_end.as_ref().is_some_and(hung_up) {
            record_eof(&st.rec, f);
        }
    }
}

/// The probe (see the header): flush the EOFs it finds, record, then reply `(open, hung_up)`.
async fn handle_probe(conn: &Connection, st: &mut State, msg: &Message) {
    flush_eofs(st);
    let (open, gone) = {
        let fifos = st.fifos.lock().unwrap_or_else(|e| e.into_inner());
        let open: Vec<String> = fifos
            .iter()
            .filter(|f| f.read_end.is_some())
            .map(|f| f.id.clone())
            .collect();
        let gone: Vec<String> = fifos
            .iter()
            .filter(|f| f.read_end.is_none())
            .map(|f| f.id.clone())
            .collect();
        st.rec.record(&json!({"event": "probe", "open": open, "hung_up": gone}));
        (open, gone)
    };
    if let Err(e) = conn.reply(&msg.header(), &(open, gone)).await {
        eprintln!("fake-logind: probe reply: {e}");
    }
}

fn watch_fifo(rfd: StdOwnedFd, rec: Arc<Recorder>, fifos: Fifos, index: usize) {
    let mut buf = [0u8; 256];
    loop {
        let mut pfd = libc::pollfd {
            fd: rfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, -1) };
        if r < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if pfd.revents & libc::POLLIN != 0 {
            // SAFETY: reading into a local buffer.
            let n = unsafe { libc::read(rfd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                continue;
            }
        }
        if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            let mut fifos = fifos.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = fifos.get_mut(index) {
                record_eof(&rec, f);
            }
            return;
        }
    }
}

fn ensure_runtime_dir(path: &str, uid: u32, with_bus: bool) {
    let p = Path::new(path);
    if !p.exists() {
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if std::fs::create_dir(p).is_ok() {
            let c = CString::new(path).unwrap();
            // SAFETY: valid C string.
            unsafe {
                libc::chmod(c.as_ptr(), 0o700);
                libc::chown(c.as_ptr(), uid, uid);
            }
        }
    }
    if with_bus {
        let bus = p.join("bus");
        if !bus.exists() {
            let _ = std::fs::File::create(&bus);
        }
    }
}

async fn reply_error(conn: &Connection, msg: &Message, name: &str, text: &str) {
    let hdr = msg.header();
    if let Err(e) = conn.reply_error(&hdr, name, &(text,)).await {
        eprintln!("fake-logind: sending error reply: {e}");
    }
}

struct Req {
    uid: u32,
    class: String,
    seat: String,
    vtnr: u32,
}

/// The session classes logind of a generation accepts (`session_class_from_string()`).
fn class_known(generation: &str, class: &str) -> bool {
    let v252 = ["user", "greeter", "lock-screen", "background"];
    let v257 = [
        "user-early",
        "user-incomplete",
        "background-light",
        "manager",
        "manager-early",
    ];
    match generation {
        "252" => v252.contains(&class),
        "257" => v252.contains(&class) || v257.contains(&class),
        _ => true,
    }
}

async fn handle_create(conn: &Connection, st: &mut State, msg: &Message, with_pidfd: bool) {
    let conf = Conf::load(&st.dir);
    let method = if with_pidfd {
        "CreateSessionWithPIDFD"
    } else {
        "CreateSession"
    };
    if with_pidfd && !conf.flag("pidfd", false) {
        let pid = sender_pid(conn, msg).await;
        // The arguments too, when they read as CreateSessionWithPIDFD's (without the pidfd).
        let args = msg.body().deserialize::<CreatePidfdArgs>().ok().map(|a| {
            json!([
                a.0, null, a.2, a.3, a.4, a.5, a.6, a.7, a.8, a.9, a.10, a.11, a.12, a.13
            ])
        });
        st.rec
            .record(&json!({"method": method, "sender_pid": pid, "unknown": true, "args": args}));
        let text = format!("Unknown method '{method}'");
        reply_error(conn, msg, "org.freedesktop.DBus.Error.UnknownMethod", &text).await;
        return;
    }
    let pid = sender_pid(conn, msg).await;
    let body = msg.body();
    let (req, mut record, flags) = if with_pidfd {
        match body.deserialize::<CreatePidfdArgs>() {
            Ok(a) => {
                let pidfd_pid = pid_of_pidfd(a.1.as_raw_fd());
                let rec = json!({
                    "method": method, "sender_pid": pid, "pidfd_pid": pidfd_pid, "flags": a.13,
                    "args": [a.0, pidfd_pid, a.2, a.3, a.4, a.5, a.6, a.7, a.8, a.9, a.10, a.11, a.12, a.13],
                    "props": props_json(&a.14),
                });
                (
                    Req {
                        uid: a.0,
                        class: a.4.clone(),
                        seat: a.6.clone(),
                        vtnr: a.7,
                    },
                    rec,
                    a.13,
                )
            }
            Err(e) => {
                st.rec.record(&json!({"method": method, "sender_pid": pid,
                    "bad_signature": body.signature().to_string()}));
                reply_error(conn, msg, "org.freedesktop.DBus.Error.InvalidArgs", &e.to_string()).await;
                return;
            }
        }
    } else {
        match body.deserialize::<CreateArgs>() {
            Ok(a) => {
                let rec = json!({
                    "method": method, "sender_pid": pid,
                    "args": [a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7, a.8, a.9, a.10, a.11, a.12],
                    "props": props_json(&a.13),
                });
                (
                    Req {
                        uid: a.0,
                        class: a.4.clone(),
                        seat: a.6.clone(),
                        vtnr: a.7,
                    },
                    rec,
                    0,
                )
            }
            Err(e) => {
                st.rec.record(&json!({"method": method, "sender_pid": pid,
                    "bad_signature": body.signature().to_string()}));
                reply_error(conn, msg, "org.freedesktop.DBus.Error.InvalidArgs", &e.to_string()).await;
                return;
            }
        }
    };

    // Decide the outcome, then record (with the outcome) before replying.
    let mode = conf.get("create_mode").unwrap_or("normal").trim().to_string();
    let error: Option<(String, String)> = if flags != 0 {
        Some((
            "org.freedesktop.DBus.Error.InvalidArgs".into(),
            "Flags must be zero.".into(),
        ))
    } else if !class_known(conf.get("classes").unwrap_or("").trim(), &req.class) {
        Some((
            "org.freedesktop.DBus.Error.InvalidArgs".into(),
            format!("Invalid session class {}", req.class),
        ))
    } else if let Some(name) = conf.get("create_error").filter(|s| !s.trim().is_empty()) {
        let text = conf.get("create_error_msg").unwrap_or("Fake logind error").to_string();
        Some((name.trim().to_string(), text))
    } else if conf.flag("session_busy_on_second", true) && pid.is_some_and(|p| st.pids_with_session.contains(&p)) {
        Some((
            "org.freedesktop.login1.SessionBusy".into(),
            "Already running in a session or user slice".into(),
        ))
    } else {
        None
    };

    if let Some((name, text)) = error {
        record["reply"] = json!({"error": name, "message": text});
        st.rec.record(&record);
        reply_error(conn, msg, &name, &text).await;
        return;
    }
    match mode.as_str() {
        "never-reply" => {
            record["reply"] = json!("never");
            st.rec.record(&record);
            return;
        }
        "exit" => {
            record["reply"] = json!("exit");
            st.rec.record(&record);
            std::process::exit(0);
        }
        _ => {}
    }

    st.counter += 1;
    let id = conf
        .get("reply_id")
        .map(str::to_string)
        .unwrap_or_else(|| format!("c{}", st.counter));
    let runtime_path = match conf.get("reply_runtime_path") {
        Some(p) => p.to_string(),
        None => {
            let p = format!("/run/user/{}", req.uid);
            if conf.flag("create_runtime_dir", true) {
                ensure_runtime_dir(&p, req.uid, conf.flag("runtime_bus", false));
            }
            p
        }
    };
    let reply_uid = conf.num("reply_uid").unwrap_or(req.uid);
    let seat = conf.get("reply_seat").map(str::to_string).unwrap_or(req.seat.clone());
    let vtnr = conf.num("reply_vtnr").unwrap_or(req.vtnr);
    let existing = conf.flag("reply_existing", false);
    let object_path = format!("/org/freedesktop/login1/session/{}", bus_label_escape(&id));

    if mode == "wrong-signature" {
        record["reply"] = json!({"signature": "s", "id": id});
        st.rec.record(&record);
        let hdr = msg.header();
        if let Err(e) = conn.reply(&hdr, &(id.as_str(),)).await {
            eprintln!("fake-logind: reply: {e}");
        }
        return;
    }

    let fd: StdOwnedFd = if mode == "bad-fd" {
        match std::fs::File::open("/dev/null") {
            Ok(f) => f.into(),
            Err(e) => {
                reply_error(conn, msg, "org.freedesktop.DBus.Error.Failed", &e.to_string()).await;
                return;
            }
        }
    } else {
        match make_session_fifo(st, &id) {
            Ok(fd) => fd,
            Err(e) => {
                st.rec.record(&json!({"event": "fifo-error", "error": e.to_string()}));
                reply_error(conn, msg, "org.freedesktop.DBus.Error.Failed", &e.to_string()).await;
                return;
            }
        }
    };
    if let Some(p) = pid {
        st.pids_with_session.insert(p);
    }
    record["reply"] = json!({
        "id": id, "object_path": object_path, "runtime_path": runtime_path,
        "uid": reply_uid, "seat": seat, "vtnr": vtnr, "existing": existing,
        "fd": if mode == "bad-fd" { "/dev/null" } else { "fifo" },
    });
    st.rec.record(&record);
    let hdr = msg.header();
    let body = (
        id.as_str(),
        ObjectPath::try_from(object_path.as_str()).expect("object path"),
        runtime_path.as_str(),
        zbus::Fd::from(std::os::fd::AsFd::as_fd(&fd)),
        reply_uid,
        seat.as_str(),
        vtnr,
        existing,
    );
    let built = Message::method_return(&hdr)
        .sender(conn.unique_name().expect("unique name").as_ref())
        .build(&body);
    match built {
        Ok(reply) => {
            if let Err(e) = conn.send(&reply).await {
                eprintln!("fake-logind: send reply: {e}");
            }
            drop(reply);
        }
        Err(e) => eprintln!("fake-logind: build reply: {e}"),
    }
    // Our own copy of the write end goes away: from now on only the client holds the session.
    drop(fd);
}

/// systemd's bus_label_escape: every byte not [A-Za-z0-9], and a digit in first position,
/// becomes `_xx`. The empty string becomes `_`.
fn bus_label_escape(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    let mut out = String::new();
    for (i, b) in s.bytes().enumerate() {
        if b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

async fn handle_release(conn: &Connection, st: &mut State, msg: &Message) {
    let conf = Conf::load(&st.dir);
    let pid = sender_pid(conn, msg).await;
    let id = match msg.body().deserialize::<String>() {
        Ok(id) => id,
        Err(e) => {
            st.rec.record(&json!({"method": "ReleaseSession", "sender_pid": pid,
                "bad_signature": msg.body().signature().to_string()}));
            reply_error(conn, msg, "org.freedesktop.DBus.Error.InvalidArgs", &e.to_string()).await;
            return;
        }
    };
    let mut record = json!({"method": "ReleaseSession", "sender_pid": pid, "id": id});
    if let Some(name) = conf.get("release_error").filter(|s| !s.trim().is_empty()) {
        let text = conf.get("release_error_msg").unwrap_or("Fake logind error").to_string();
        record["reply"] = json!({"error": name.trim(), "message": text});
        st.rec.record(&record);
        reply_error(conn, msg, name.trim(), &text).await;
        return;
    }
    if conf.get("release_mode").map(str::trim) == Some("never-reply") {
        record["reply"] = json!("never");
        st.rec.record(&record);
        return;
    }
    record["reply"] = json!("ok");
    st.rec.record(&record);
    let hdr = msg.header();
    if let Err(e) = conn.reply(&hdr, &()).await {
        eprintln!("fake-logind: reply: {e}");
    }
}

async fn handle_inhibit(conn: &Connection, st: &mut State, msg: &Message) {
    let conf = Conf::load(&st.dir);
    let pid = sender_pid(conn, msg).await;
    let (what, who, why, mode) = match msg.body().deserialize::<(String, String, String, String)>() {
        Ok(args) => args,
        Err(e) => {
            st.rec.record(&json!({"method": "Inhibit", "sender_pid": pid,
                "bad_signature": msg.body().signature().to_string()}));
            reply_error(conn, msg, "org.freedesktop.DBus.Error.InvalidArgs", &e.to_string()).await;
            return;
        }
    };
    let mut record = json!({"method": "Inhibit", "sender_pid": pid, "what": what, "who": who,
        "why": why, "mode": mode});
    if let Some(name) = conf.get("inhibit_error").filter(|s| !s.trim().is_empty()) {
        let text = conf.get("inhibit_error_msg").unwrap_or("Fake logind error").to_string();
        record["reply"] = json!({"error": name.trim(), "message": text});
        st.rec.record(&record);
        reply_error(conn, msg, name.trim(), &text).await;
        return;
    }
    st.inhibit_counter += 1;
    let id = format!("inhibit-{}", st.inhibit_counter);
    let wfd = match make_fifo(st, &format!("{id}.ref"), &id) {
        Ok(fd) => fd,
        Err(e) => {
            record["reply"] = json!({"error": "org.freedesktop.DBus.Error.Failed", "message": e.to_string()});
            st.rec.record(&record);
            reply_error(conn, msg, "org.freedesktop.DBus.Error.Failed", &e.to_string()).await;
            return;
        }
    };
    record["reply"] = json!({"lock": id});
    st.rec.record(&record);
    if let Err(e) = conn.reply(&msg.header(), &(zbus::Fd::from(&wfd),)).await {
        eprintln!("fake-logind: inhibit reply: {e}");
    }
}

async fn dispatch(conn: &Connection, st: &mut State, msg: Message) {
    if msg.message_type() != MsgType::MethodCall {
        return;
    }
    let hdr = msg.header();
    let path = hdr.path().map(|p| p.as_str().to_string()).unwrap_or_default();
    let iface = hdr.interface().map(|i| i.as_str().to_string());
    let member = hdr.member().map(|m| m.as_str().to_string()).unwrap_or_default();
    drop(hdr);
    // Standard interfaces, so generic clients (busctl, dbus-python proxies) are happy.
    match (iface.as_deref(), member.as_str()) {
        (Some("org.freedesktop.DBus.Peer"), "Ping") => {
            let _ = conn.reply(&msg.header(), &()).await;
            return;
        }
        (Some("org.freedesktop.DBus.Peer"), "GetMachineId") => {
            let id = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
            let _ = conn.reply(&msg.header(), &(id.trim(),)).await;
            return;
        }
        (Some("org.freedesktop.DBus.Introspectable"), "Introspect") => {
            let xml = introspect_xml(&path, Conf::load(&st.dir).flag("pidfd", false));
            let _ = conn.reply(&msg.header(), &(xml.as_str(),)).await;
            return;
        }
        _ => {}
    }
    // A FIFO whose last writer closed before this call was sent gets its `fifo-eof` line before
    // the call's, whichever thread sees the EOF first (as the probe does): the records follow
    // the client's order, however fast it calls.
    flush_eofs(st);
    if path != MANAGER_PATH {
        let text = format!("Unknown object '{path}'.");
        reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownObject", &text).await;
        return;
    }
    if iface.as_deref() == Some(PROBE_IFACE) && member == "Probe" {
        handle_probe(conn, st, &msg).await;
        return;
    }
    if let Some(i) = iface.as_deref()
        && i != MANAGER_IFACE
    {
        let text = format!("Unknown interface '{i}'.");
        reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownInterface", &text).await;
        return;
    }
    match member.as_str() {
        "CreateSession" => handle_create(conn, st, &msg, false).await,
        "CreateSessionWithPIDFD" => handle_create(conn, st, &msg, true).await,
        "ReleaseSession" => handle_release(conn, st, &msg).await,
        "Inhibit" => handle_inhibit(conn, st, &msg).await,
        other => {
            let pid = sender_pid(conn, &msg).await;
            st.rec
                .record(&json!({"method": other, "sender_pid": pid, "unknown": true}));
            let text = format!("Unknown method '{other}'");
            reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownMethod", &text).await;
        }
    }
}

fn introspect_xml(path: &str, pidfd: bool) -> String {
    let std_ifaces = r#"<interface name="org.freedesktop.DBus.Peer"><method name="Ping"/><method name="GetMachineId"><arg type="s" name="machine_uuid" direction="out"/></method></interface>
<interface name="org.freedesktop.DBus.Introspectable"><method name="Introspect"><arg type="s" name="xml_data" direction="out"/></method></interface>
"#;
    let mut x = String::from(
        "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n\
         \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n",
    );
    x.push_str(std_ifaces);
    if path == MANAGER_PATH {
        let out = r#"<arg type="s" name="session_id" direction="out"/><arg type="o" name="object_path" direction="out"/><arg type="s" name="runtime_path" direction="out"/><arg type="h" name="fifo_fd" direction="out"/><arg type="u" name="uid" direction="out"/><arg type="s" name="seat_id" direction="out"/><arg type="u" name="vtnr" direction="out"/><arg type="b" name="existing" direction="out"/>"#;
        x.push_str(&format!(
            "<interface name=\"{MANAGER_IFACE}\">\n<method name=\"CreateSession\"><arg type=\"u\" direction=\"in\"/><arg type=\"u\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"u\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"b\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"a(sv)\" direction=\"in\"/>{out}</method>\n"
        ));
        if pidfd {
            x.push_str(&format!(
                "<method name=\"CreateSessionWithPIDFD\"><arg type=\"u\" direction=\"in\"/><arg type=\"h\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"u\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"b\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"t\" direction=\"in\"/><arg type=\"a(sv)\" direction=\"in\"/>{out}</method>\n"
            ));
        }
        x.push_str("<method name=\"ReleaseSession\"><arg type=\"s\" direction=\"in\"/></method>\n");
        x.push_str("<method name=\"Inhibit\"><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"h\" direction=\"out\"/></method>\n</interface>\n");
    } else if path == "/" || path == "/org" || path == "/org/freedesktop" {
        let child = MANAGER_PATH[path.len()..]
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        x.push_str(&format!("<node name=\"{child}\"/>\n"));
    }
    x.push_str("</node>\n");
    x
}

/// The Varlink face: one thread accepting, one per connection.
fn serve_varlink(path: PathBuf, dir: PathBuf, rec: Arc<Recorder>) {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::remove_file(&path);
    let listener = match std::os::unix::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-logind: varlink bind {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let _ = std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666));
    if Conf::load(&dir).get("varlink_mode").map(str::trim) == Some("stale") {
        // The socket file stays, nobody listens: connect() is refused.
        drop(listener);
        return;
    }
    let counter = Arc::new(Mutex::new(0u32));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (dir, rec, counter) = (dir.clone(), rec.clone(), counter.clone());
            std::thread::spawn(move || varlink_connection(conn, &dir, &rec, &counter));
        }
    });
}

fn varlink_connection(mut conn: std::os::unix::net::UnixStream, dir: &Path, rec: &Recorder, counter: &Mutex<u32>) {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.iter().position(|&b| b == 0) {
            let message: Vec<u8> = buf.drain(..=end).collect();
            if !varlink_call(&mut conn, &message[..end], dir, rec, counter) {
                return;
            }
            continue;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Answers one call; false: the connection is to be dropped (or held mute).
fn varlink_call(
    conn: &mut std::os::unix::net::UnixStream,
    message: &[u8],
    dir: &Path,
    rec: &Recorder,
    counter: &Mutex<u32>,
) -> bool {
    let conf = Conf::load(dir);
    let pid = peer_pid(conn);
    let call: Value = serde_json::from_slice(message).unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or("").to_string();
    let params = call.get("parameters").cloned().unwrap_or(json!({}));
    let mut record = json!({"varlink": true, "method": method, "sender_pid": pid, "parameters": params});
    let mode = conf.get("varlink_mode").map(str::trim).unwrap_or("normal").to_string();
    let send = |conn: &mut std::os::unix::net::UnixStream, bytes: &[u8]| {
        let _ = conn.write_all(bytes);
    };
    let reply_json = |v: &Value| {
        let mut b = serde_json::to_vec(v).expect("json");
        b.push(0);
        b
    };
    match mode.as_str() {
        "mute" => {
            record["reply"] = json!("never");
            rec.record(&record);
            std::thread::sleep(std::time::Duration::from_secs(3600));
            return false;
        }
        "exit" => {
            record["reply"] = json!("exit");
            rec.record(&record);
            std::process::exit(0);
        }
        "garbage" => {
            record["reply"] = json!("garbage");
            rec.record(&record);
            send(conn, b"this is not json\0");
            return false;
        }
        "truncated" => {
            record["reply"] = json!("truncated");
            rec.record(&record);
            send(conn, br#"{"parameters":{"Id":"c1","Runti"#);
            return false;
        }
        "huge" => {
            record["reply"] = json!("huge");
            rec.record(&record);
            let mut b = br#"{"parameters":{"Id":""#.to_vec();
            b.extend(std::iter::repeat_n(b'x', 2 << 20));
            b.extend_from_slice(b"\"}}\0");
            send(conn, &b);
            return false;
        }
        _ => {}
    }
    let error = |name: &str, parameters: Value| json!({"error": name, "parameters": parameters});
    let reply = match method.as_str() {
        "io.systemd.Login.CreateSession" => {
            let class = params
                .get("Class")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('_', "-");
            let uid = params.get("UID").and_then(Value::as_u64).unwrap_or(u64::MAX);
            if let Some(name) = conf.get("varlink_error").map(str::trim).filter(|n| !n.is_empty()) {
                error(name, json!({}))
            } else if conf.get("varlink_classes").map(str::trim) == Some("257") && !class_known("257", &class) {
                error("org.varlink.service.InvalidParameter", json!({"parameter": "Class"}))
            } else {
                let id = {
                    let mut c = counter.lock().unwrap_or_else(|e| e.into_inner());
                    *c += 1;
                    format!("v{c}")
                };
                let runtime_path = format!("/run/user/{uid}");
                ensure_runtime_dir(&runtime_path, u32::try_from(uid).unwrap_or(u32::MAX), false);
                json!({"parameters": {
                    "Id": id, "RuntimePath": runtime_path, "UID": uid,
                    "Class": params.get("Class"), "Type": params.get("Type"),
                }})
            }
        }
        "io.systemd.Login.ReleaseSession" => {
            match conf
                .get("varlink_release_error")
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                Some(name) => error(name, json!({})),
                None => json!({}),
            }
        }
        _ => error("org.varlink.service.MethodNotFound", json!({"method": method})),
    };
    record["reply"] = reply.clone();
    rec.record(&record);
    let mut bytes = reply_json(&reply);
    if mode == "no-nul" {
        bytes.pop();
        send(conn, &bytes);
        std::thread::sleep(std::time::Duration::from_secs(3600));
        return false;
    }
    send(conn, &bytes);
    true
}

/// SO_PEERCRED's pid.
fn peer_pid(conn: &std::os::unix::net::UnixStream) -> Option<i64> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: valid fd, out-pointer and its length.
    let r = unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(i64::from(cred.pid))
}

fn usage() -> ! {
    eprintln!("usage: fake-logind --state DIR [--address ADDR] [--varlink PATH]");
    std::process::exit(2)
}

fn main() {
    let mut state: Option<PathBuf> = None;
    let mut address: Option<String> = None;
    let mut varlink: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--state" => state = Some(args.next().unwrap_or_else(|| usage()).into()),
            "--address" => address = Some(args.next().unwrap_or_else(|| usage())),
            "--varlink" => varlink = Some(PathBuf::from(args.next().unwrap_or_else(|| usage()))),
            _ => usage(),
        }
    }
    let Some(dir) = state else { usage() };
    let address = address
        .or_else(|| std::env::var("DBUS_SYSTEM_BUS_ADDRESS").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_string());
    let _ = std::fs::create_dir_all(&dir);
    let rec = Arc::new(Recorder {
        path: dir.join("fake-calls.jsonl"),
        lock: Mutex::new(()),
    });
    {
        // The config is written after the fake starts: watch for `varlink=1` and listen then
        // (the case waits for the socket before it runs the client).
        let (dir, rec) = (dir.clone(), rec.clone());
        let path = varlink.unwrap_or_else(|| PathBuf::from("/run/systemd/io.systemd.Login"));
        std::thread::spawn(move || {
            loop {
                if Conf::load(&dir).flag("varlink", false) {
                    serve_varlink(path, dir, rec);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
    }
    let mut st = State {
        dir,
        rec,
        fifos: Arc::new(Mutex::new(Vec::new())),
        counter: 0,
        fifo_counter: 0,
        inhibit_counter: 0,
        pids_with_session: HashSet::new(),
    };

    let result: zbus::Result<()> = zbus::block_on(async move {
        let conn = zbus::connection::Builder::address(address.as_str())
            .name("org.freedesktop.login1")
            .build()
            .await?;
        let mut stream = MessageStream::from(&conn);
        println!("ready");
        let _ = std::io::stdout().flush();
        loop {
            let next = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
            match next {
                Some(Ok(msg)) => dispatch(&conn, &mut st, msg).await,
                Some(Err(e)) => eprintln!("fake-logind: receive: {e}"),
                None => return Ok(()),
            }
        }
    });
    if let Err(e) = result {
        eprintln!("fake-logind: {e}");
        std::process::exit(1);
    }
}
