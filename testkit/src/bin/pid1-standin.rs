//! pid1-standin: the part of PID 1's D-Bus API (`org.freedesktop.systemd1`) that
//! systemd-logind 252 uses during a login and a logout, so the real logind can run in a
//! testbed without systemd as PID 1.
//!
//! usage: pid1-standin --cgroup DIR [--address ADDR]
//!
//! * `Manager.Subscribe` → ().
//! * `Manager.StartUnit(name, mode)`, `Manager.StartTransientUnit(name, mode, props, aux)`,
//!   `Manager.StopUnit(name, mode)` → a job path at once; `Manager.JobRemoved(id, job, unit,
//!   "done")` once the job is done (always after the reply).
//!   - Starting `user@UID.service` (or `user-runtime-dir@UID.service`), or a scope with a
//!     `user-UID.slice`, first runs the real `/lib/systemd/systemd-user-runtime-dir start UID`
//!     once per uid (in a thread: the helper asks logind over the bus), as PID 1 would through
//!     `user-runtime-dir@UID.service`. Stopping `user@UID.service` runs `... stop UID`.
//!   - A transient scope gets a cgroup `DIR/<slice path>/<name>` in the unified hierarchy and
//!     its `PIDs` are moved there. When the cgroup becomes empty (polled every 50 ms) the scope
//!     goes inactive: `PropertiesChanged(ActiveState=inactive)` + `Manager.UnitRemoved`, and its
//!     cgroup is removed. The slices under DIR are left for the testbed runner to remove.
//! * `Manager.KillUnit(name, whom, signal)` → signals the scope's processes.
//! * `Scope.Abandon` → ().
//! * `Manager.GetUnit(name)` → the unit path (NoSuchUnit if never started).
//! * `Properties.Get/GetAll` on unit paths: `Id`, `ActiveState`, `SubState`, `LoadState`, `Job`
//!   (units never seen are `inactive`, like PID 1's not-found units); job paths are
//!   UnknownObject (jobs finish quickly).
//!
//! Every call is logged to stderr (one line each).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_core::Stream;
use zbus::message::Type as MsgType;
use zbus::{Connection, Message, MessageStream, ObjectPath};
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER_IFACE: &str = "org.freedesktop.systemd1.Manager";
const UNIT_PREFIX: &str = "/org/freedesktop/systemd1/unit/";
const JOB_PREFIX: &str = "/org/freedesktop/systemd1/job/";
const RUNTIME_DIR_HELPER: &str = "/lib/systemd/systemd-user-runtime-dir";
const HELPER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
struct Unit {
    active: &'static str,
    cgroup: Option<PathBuf>,
}

struct State {
    units: HashMap<String, Unit>,
    next_job: u32,
}

/// Per uid: 0 = not started, 1 = helper running, 2 = done.
type RtState = Arc<(Mutex<u8>, Condvar)>;

struct Shared {
    conn: Connection,
    st: Mutex<State>,
    runtime: Mutex<HashMap<u32, RtState>>,
    cgroot: PathBuf,
}

fn log(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "pid1-standin: {s}");
}

/// sd-bus's bus_label_escape.
fn unit_path(name: &str) -> String {
    let mut p = String::from(UNIT_PREFIX);
    if name.is_empty() {
        p.push('_');
    }
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() {
            p.push(b as char);
        } else {
            p.push_str(&format!("_{b:02x}"));
        }
    }
    p
}

fn unescape_label(l: &str) -> String {
    let b = l.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_'
            && i + 2 < b.len()
            && l.is_char_boundary(i + 3)
            && let Ok(v) = u8::from_str_radix(&l[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// "user-1000.slice" → "user.slice/user-1000.slice" (systemd's slice nesting).
fn slice_path(slice: &str) -> PathBuf {
    let mut p = PathBuf::new();
    let Some(stem) = slice.strip_suffix(".slice") else {
        return p;
    };
    if stem == "-" || stem.is_empty() {
        return p;
    }
    let parts: Vec<&str> = stem.split('-').collect();
    for i in 1..=parts.len() {
        p.push(format!("{}.slice", parts[..i].join("-")));
    }
    p
}

fn uid_of(unit: &str) -> Option<u32> {
    for (pre, suf) in [
        ("user@", ".service"),
        ("user-runtime-dir@", ".service"),
        ("user-", ".slice"),
    ] {
        if let Some(x) = unit.strip_prefix(pre).and_then(|x| x.strip_suffix(suf)) {
            return x.parse().ok();
        }
    }
    None
}

fn run_helper(verb: &str, uid: u32) {
    let start = Instant::now();
    let child = Command::new(RUNTIME_DIR_HELPER)
        .arg(verb)
        .arg(uid.to_string())
        .stdin(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            log(&format!("cannot run {RUNTIME_DIR_HELPER}: {e}"));
            return;
        }
    };
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                log(&format!(
                    "{RUNTIME_DIR_HELPER} {verb} {uid}: {st} after {:?}",
                    start.elapsed()
                ));
                return;
            }
            Ok(None) if start.elapsed() < HELPER_TIMEOUT => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                log(&format!("{RUNTIME_DIR_HELPER} {verb} {uid}: timed out, killed"));
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

impl Shared {
    fn rt(&self, uid: u32) -> RtState {
        self.runtime.lock().unwrap().entry(uid).or_default().clone()
    }

    /// Blocks until `systemd-user-runtime-dir start UID` has run (once per uid).
    fn ensure_runtime_dir(&self, uid: u32) {
        let rt = self.rt(uid);
        let (m, cv) = &*rt;
        let mut g = m.lock().unwrap();
        match *g {
            2 => return,
            1 => {
                let deadline = Instant::now() + HELPER_TIMEOUT + Duration::from_secs(1);
                while *g == 1 {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return;
                    }
                    g = cv.wait_timeout(g, left).unwrap().0;
                }
                return;
            }
            _ => *g = 1,
        }
        drop(g);
        run_helper("start", uid);
        *m.lock().unwrap() = 2;
        cv.notify_all();
    }

    fn emit(
        &self,
        path: &str,
        iface: &str,
        member: &str,
        body: impl zbus::export::serde::Serialize + zbus::zvariant::DynamicType,
    ) {
        let r = zbus::block_on(self.conn.emit_signal(None::<&str>, path, iface, member, &body));
        if let Err(e) = r {
            log(&format!("emit {member}: {e}"));
        }
    }

    fn job_removed(&self, id: u32, unit: &str) {
        let job = format!("{JOB_PREFIX}{id}");
        let jp = ObjectPath::try_from(job.as_str()).unwrap();
        log(&format!("JobRemoved {id} {unit} done"));
        self.emit(MANAGER_PATH, MANAGER_IFACE, "JobRemoved", (id, jp, unit, "done"));
    }

    fn unit_gone(&self, unit: &str) {
        let path = unit_path(unit);
        let mut changed: HashMap<&str, Value> = HashMap::new();
        changed.insert("ActiveState", Value::from("inactive"));
        changed.insert("SubState", Value::from("dead"));
        log(&format!("{unit}: inactive, UnitRemoved"));
        self.emit(
            &path,
            "org.freedesktop.DBus.Properties",
            "PropertiesChanged",
            ("org.freedesktop.systemd1.Unit", changed, Vec::<String>::new()),
        );
        let op = ObjectPath::try_from(path.as_str()).unwrap();
        self.emit(MANAGER_PATH, MANAGER_IFACE, "UnitRemoved", (unit, op));
    }

    fn new_job(&self) -> u32 {
        let mut st = self.st.lock().unwrap();
        st.next_job += 1;
        st.next_job
    }

    fn set_active(&self, unit: &str, active: &'static str, cgroup: Option<PathBuf>) {
        let mut st = self.st.lock().unwrap();
        let e = st
            .units
            .entry(unit.to_string())
            .or_insert(Unit { active, cgroup: None });
        e.active = active;
        if cgroup.is_some() {
            e.cgroup = cgroup;
        }
    }

    /// Creates the scope's cgroup and moves the PIDs in. Returns the cgroup.
    fn make_scope(&self, name: &str, slice: &str, pids: &[u32]) -> Option<PathBuf> {
        let dir = self.cgroot.join(slice_path(slice)).join(name);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            log(&format!("mkdir {}: {e}", dir.display()));
            return None;
        }
        for pid in pids {
            if let Err(e) = std::fs::write(dir.join("cgroup.procs"), format!("{pid}\n")) {
                log(&format!("move {pid} into {}: {e}", dir.display()));
            }
        }
        Some(dir)
    }

    fn cgroup_pids(dir: &Path) -> Option<Vec<i32>> {
        let s = std::fs::read_to_string(dir.join("cgroup.procs")).ok()?;
        Some(s.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    fn kill_unit(&self, unit: &str, sig: i32) {
        let cg = self.st.lock().unwrap().units.get(unit).and_then(|u| u.cgroup.clone());
        if let Some(cg) = cg {
            for pid in Self::cgroup_pids(&cg).unwrap_or_default() {
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        }
    }

    /// Polls the scopes' cgroups; an empty one makes its scope inactive.
    fn monitor(self: Arc<Self>) {
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let scopes: Vec<(String, PathBuf)> = {
                let st = self.st.lock().unwrap();
                st.units
                    .iter()
                    .filter(|(_, u)| u.active != "inactive")
                    .filter_map(|(n, u)| u.cgroup.clone().map(|c| (n.clone(), c)))
                    .collect()
            };
            for (name, cg) in scopes {
                let empty = Self::cgroup_pids(&cg).is_none_or(|p| p.is_empty());
                if !empty {
                    continue;
                }
                {
                    let mut st = self.st.lock().unwrap();
                    if let Some(u) = st.units.get_mut(&name) {
                        u.active = "inactive";
                        u.cgroup = None;
                    }
                }
                if let Err(e) = std::fs::remove_dir(&cg) {
                    log(&format!("rmdir {}: {e}", cg.display()));
                }
                self.unit_gone(&name);
            }
        }
    }
}

async fn reply_error(conn: &Connection, msg: &Message, name: &str, text: &str) {
    if let Err(e) = conn.reply_error(&msg.header(), name, &(text,)).await {
        log(&format!("error reply: {e}"));
    }
}

type Props = Vec<(String, OwnedValue)>;
type TransientArgs = (String, String, Props, Vec<(String, Props)>);

fn unit_props(sh: &Shared, name: &str) -> HashMap<&'static str, Value<'static>> {
    let u = sh.st.lock().unwrap().units.get(name).cloned();
    let active = u.as_ref().map(|u| u.active).unwrap_or("inactive");
    let sub = match active {
        "active" => "running",
        _ => "dead",
    };
    let mut m = HashMap::new();
    m.insert("Id", Value::from(name.to_string()));
    m.insert("ActiveState", Value::from(active));
    m.insert("SubState", Value::from(sub));
    m.insert(
        "LoadState",
        Value::from(if u.is_some() { "loaded" } else { "not-found" }),
    );
    m.insert("Job", Value::from((0u32, ObjectPath::try_from("/").unwrap())));
    m
}

async fn dispatch(sh: &Arc<Shared>, msg: Message) {
    if msg.message_type() != MsgType::MethodCall {
        return;
    }
    let conn = &sh.conn;
    let hdr = msg.header();
    let path = hdr.path().map(|p| p.as_str().to_string()).unwrap_or_default();
    let iface = hdr.interface().map(|i| i.as_str().to_string()).unwrap_or_default();
    let member = hdr.member().map(|m| m.as_str().to_string()).unwrap_or_default();
    drop(hdr);
    let body = msg.body();

    if iface == "org.freedesktop.DBus.Peer" && member == "Ping" {
        let _ = conn.reply(&msg.header(), &()).await;
        return;
    }
    if iface == "org.freedesktop.DBus.Properties" {
        if let Some(label) = path.strip_prefix(UNIT_PREFIX) {
            let name = sh
                .st
                .lock()
                .unwrap()
                .units
                .keys()
                .find(|k| unit_path(k) == path)
                .cloned()
                .unwrap_or_else(|| unescape_label(label));
            let props = unit_props(sh, &name);
            if member == "Get" {
                let (_i, p): (String, String) = body.deserialize().unwrap_or_default();
                log(&format!("Get {name} {p}"));
                match props.get(p.as_str()) {
                    Some(v) => {
                        let _ = conn.reply(&msg.header(), &(v,)).await;
                    }
                    None => {
                        let t = format!("Unknown property '{p}'");
                        reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownProperty", &t).await;
                    }
                }
            } else if member == "GetAll" {
                log(&format!("GetAll {name}"));
                let _ = conn.reply(&msg.header(), &(props,)).await;
            } else {
                reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownMethod", "Unknown method").await;
            }
            return;
        }
        let t = format!("Unknown object '{path}'.");
        reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownObject", &t).await;
        return;
    }
    if let Some(label) = path.strip_prefix(UNIT_PREFIX) {
        let name = unescape_label(label);
        if member == "Abandon" {
            log(&format!("Abandon {name}"));
            let _ = conn.reply(&msg.header(), &()).await;
        } else {
            log(&format!("unknown unit method {iface}.{member} on {name}"));
            reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownMethod", "Unknown method").await;
        }
        return;
    }
    if path != MANAGER_PATH {
        log(&format!("call on unknown object {path}: {iface}.{member}"));
        let t = format!("Unknown object '{path}'.");
        reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownObject", &t).await;
        return;
    }
    match member.as_str() {
        "Subscribe" | "Unsubscribe" => {
            log(&member);
            let _ = conn.reply(&msg.header(), &()).await;
        }
        "GetUnit" => {
            let name: String = body.deserialize().unwrap_or_default();
            log(&format!("GetUnit {name}"));
            if sh.st.lock().unwrap().units.contains_key(&name) {
                let p = unit_path(&name);
                let _ = conn
                    .reply(&msg.header(), &(ObjectPath::try_from(p.as_str()).unwrap(),))
                    .await;
            } else {
                let t = format!("Unit {name} not loaded.");
                reply_error(conn, &msg, "org.freedesktop.systemd1.NoSuchUnit", &t).await;
            }
        }
        "StartUnit" | "StopUnit" | "RestartUnit" => {
            let (name, mode): (String, String) = body.deserialize().unwrap_or_default();
            log(&format!("{member} {name} {mode}"));
            let id = sh.new_job();
            let job = format!("{JOB_PREFIX}{id}");
            let _ = conn
                .reply(&msg.header(), &(ObjectPath::try_from(job.as_str()).unwrap(),))
                .await;
            let start = member != "StopUnit";
            let sh2 = sh.clone();
            std::thread::spawn(move || {
                let uid = uid_of(&name);
                if start {
                    if let Some(uid) = uid {
                        sh2.ensure_runtime_dir(uid);
                    }
                    sh2.set_active(&name, "active", None);
                    sh2.job_removed(id, &name);
                } else {
                    let was = sh2.st.lock().unwrap().units.get(&name).map(|u| u.active);
                    if name.ends_with(".scope") {
                        sh2.kill_unit(&name, libc::SIGTERM);
                        sh2.job_removed(id, &name);
                        return; // the monitor reports it gone once empty
                    }
                    if let (Some(uid), true) = (uid, name.starts_with("user@")) {
                        let rt = sh2.rt(uid);
                        let done = *rt.0.lock().unwrap() == 2;
                        if done {
                            run_helper("stop", uid);
                            *rt.0.lock().unwrap() = 0;
                        }
                    }
                    sh2.set_active(&name, "inactive", None);
                    sh2.job_removed(id, &name);
                    if was.is_some_and(|a| a != "inactive") {
                        sh2.unit_gone(&name);
                    }
                }
            });
        }
        "StartTransientUnit" => {
            let parsed: zbus::Result<TransientArgs> = body.deserialize();
            let (name, mode, props, _aux) = match parsed {
                Ok(x) => x,
                Err(e) => {
                    reply_error(conn, &msg, "org.freedesktop.DBus.Error.InvalidArgs", &e.to_string()).await;
                    return;
                }
            };
            let mut slice = String::new();
            let mut pids: Vec<u32> = Vec::new();
            let mut shown = Vec::new();
            for (k, v) in &props {
                shown.push(format!("{k}={:?}", **v));
                match k.as_str() {
                    "Slice" => {
                        if let Ok(s) = <&str>::try_from(&**v) {
                            slice = s.to_string();
                        }
                    }
                    "PIDs" => {
                        if let Ok(v) = v.try_clone().and_then(Vec::<u32>::try_from) {
                            pids = v;
                        }
                    }
                    _ => {}
                }
            }
            log(&format!("StartTransientUnit {name} {mode} [{}]", shown.join(", ")));
            let cg = sh.make_scope(&name, &slice, &pids);
            sh.set_active(&name, "active", cg);
            let id = sh.new_job();
            let job = format!("{JOB_PREFIX}{id}");
            let _ = conn
                .reply(&msg.header(), &(ObjectPath::try_from(job.as_str()).unwrap(),))
                .await;
            let sh2 = sh.clone();
            std::thread::spawn(move || {
                if let Some(uid) = uid_of(&slice) {
                    sh2.ensure_runtime_dir(uid);
                }
                sh2.job_removed(id, &name);
            });
        }
        "KillUnit" => {
            let (name, whom, sig): (String, String, i32) = body.deserialize().unwrap_or_default();
            log(&format!("KillUnit {name} {whom} {sig}"));
            sh.kill_unit(&name, sig);
            let _ = conn.reply(&msg.header(), &()).await;
        }
        other => {
            log(&format!("unknown manager method {other}"));
            let t = format!("Unknown method '{other}'");
            reply_error(conn, &msg, "org.freedesktop.DBus.Error.UnknownMethod", &t).await;
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: pid1-standin --cgroup DIR [--address ADDR]");
    std::process::exit(2)
}

fn main() {
    let mut cgroot: Option<PathBuf> = None;
    let mut address: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cgroup" => cgroot = Some(args.next().unwrap_or_else(|| usage()).into()),
            "--address" => address = Some(args.next().unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let Some(cgroot) = cgroot else { usage() };
    let address = address
        .or_else(|| std::env::var("DBUS_SYSTEM_BUS_ADDRESS").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_string());

    let result: zbus::Result<()> = zbus::block_on(async move {
        let conn = zbus::connection::Builder::address(address.as_str())
            .name("org.freedesktop.systemd1")
            .build()
            .await?;
        let mut stream = MessageStream::from(&conn);
        let sh = Arc::new(Shared {
            conn: conn.clone(),
            st: Mutex::new(State {
                units: HashMap::new(),
                next_job: 0,
            }),
            runtime: Mutex::new(HashMap::new()),
            cgroot,
        });
        {
            let sh = sh.clone();
            std::thread::spawn(move || sh.monitor());
        }
        log("ready");
        loop {
            let next = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
            match next {
                Some(Ok(msg)) => dispatch(&sh, msg).await,
                Some(Err(e)) => log(&format!("receive: {e}")),
                None => return Ok(()),
            }
        }
    });
    if let Err(e) = result {
        log(&format!("{e}"));
        std::process::exit(1);
    }
}
