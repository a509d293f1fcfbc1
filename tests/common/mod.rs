//! Test harness: runs one PAM session (the C test client `tests/c/pamclient.c`) against a PAM
//! module inside a testbed (`testbed/testbed run`: private /run, private system bus, a fake or
//! real logind, captured syslog), and parses what happened.
//!
//! Std only. Builds, once per test binary: the testkit (`fake-logind`, `mute-socket`,
//! `half-bus`; a separate Cargo package with its own target dir `testkit/target`), and the C
//! client + the helper module `pam_testhelper.so` into `target/testbin/`.
//!
//! ```ignore
//! let out = Case::new(&module())
//!     .item("tty", "/dev/pts/3")
//!     .fake_conf("reply_existing", "1")
//!     .run();
//! assert_eq!(out.open_rc, Some(0));
//! ```
//!
//! Placeholders, replaced inside the testbed in fake.conf values, service-file lines, client
//! arguments and setup scripts: `{USER1} {UID1} {USER2} {UID2} {STATE}` (the testbed's state dir)
//! and `{MODULE}` (the module under test). `{USER1}` is the default PAM user.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Paths and one-time builds
// ---------------------------------------------------------------------------------------------

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testbed_runner() -> PathBuf {
    repo_root().join("testbed/testbed")
}

fn testbin_dir() -> PathBuf {
    let d = repo_root().join("target/testbin");
    std::fs::create_dir_all(&d).expect("mkdir target/testbin");
    d
}

/// Builds the testkit once per test binary; returns its release dir.
pub fn testkit_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repo_root();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let target = root.join("testkit/target");
            let st = Command::new(cargo)
                .args(["build", "--release", "--manifest-path"])
                .arg(root.join("testkit/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .status()
                .expect("run cargo build for testkit");
            assert!(st.success(), "building testkit failed");
            target.join("release")
        })
        .clone()
}

pub fn testkit_bin(name: &str) -> PathBuf {
    testkit_dir().join(name)
}

/// Compiles a C file with cc into target/testbin (atomically: temp name + rename).
fn compile_c(src: &str, out_name: &str, extra: &[&str]) -> PathBuf {
    let root = repo_root();
    let out = testbin_dir().join(out_name);
    let tmp = testbin_dir().join(format!("{out_name}.tmp{}", std::process::id()));
    let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cmd.arg("-O1").arg("-Wall").arg("-o").arg(&tmp).arg(root.join(src));
    cmd.args(extra);
    let st = cmd.status().unwrap_or_else(|e| panic!("running cc for {src}: {e}"));
    assert!(st.success(), "compiling {src} failed");
    std::fs::rename(&tmp, &out).expect("rename compiled binary");
    out
}

pub fn pamclient() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile_c("tests/c/pamclient.c", "pamclient", &["-lpam", "-lpam_misc"]))
        .clone()
}

pub fn testhelper() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        compile_c(
            "tests/c/pam_testhelper.c",
            "pam_testhelper.so",
            &["-shared", "-fPIC", "-lpam"],
        )
    })
    .clone()
}

// ---------------------------------------------------------------------------------------------
// Worlds
// ---------------------------------------------------------------------------------------------

/// The system a `--logind systemd` testbed boots: real systemd as PID 1 with its own logind and
/// its own C pam_systemd.so (the reference for the differential tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// The host's Debian 12 files: systemd 252.
    Debian12,
    /// The cached Debian 13 root (`testbed/build-root debian13`): systemd 257.
    Debian13,
}

impl World {
    pub fn name(self) -> &'static str {
        match self {
            World::Debian12 => "debian12",
            World::Debian13 => "debian13",
        }
    }
    /// The systemd version the world runs.
    pub fn systemd_version(self) -> u32 {
        match self {
            World::Debian12 => 252,
            World::Debian13 => 257,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Module under test
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// Debian's pam_systemd.so (the C reference, v252).
    C,
    /// Our libpam_systemd_rs.so.
    Rs,
}

#[derive(Clone, Debug)]
pub struct Module {
    pub path: PathBuf,
    pub kind: Impl,
}

pub const C_MODULE_PATH: &str = "/lib/x86_64-linux-gnu/security/pam_systemd.so";

impl Module {
    pub fn c() -> Module {
        Module {
            path: C_MODULE_PATH.into(),
            kind: Impl::C,
        }
    }
    /// Ours: `$PAM_SYSTEMD_RS_SO`, else `<repo>/target/debug/libpam_systemd_rs.so`.
    /// `$PAM_SYSTEMD_RS_SO`, else the cdylib `cargo test` built next to this test binary
    /// (`target/<profile>/deps/`), else `target/debug/libpam_systemd_rs.so`.
    pub fn rs() -> Module {
        let path = std::env::var_os("PAM_SYSTEMD_RS_SO")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|d| d.join("libpam_systemd_rs.so")))
                    .filter(|p| p.exists())
            })
            .unwrap_or_else(|| repo_root().join("target/debug/libpam_systemd_rs.so"));
        Module { path, kind: Impl::Rs }
    }
    /// [`Module::rs`] for tests of our module's own behaviour: it must have been built.
    pub fn rs_built() -> Module {
        let m = Module::rs();
        assert!(
            m.path.exists(),
            "{} missing: run `cargo build` first (or `cargo test`, which builds the cdylib)",
            m.path.display()
        );
        m
    }
    pub fn is_ours(&self) -> bool {
        self.kind == Impl::Rs
    }
}

/// Whether the suites run on the C module instead of ours: `PAM_SYSTEMD_RS_TEST_MODULE=c` (the one
/// switch for every suite; used to check the tests themselves against the reference).
pub fn module_is_c() -> bool {
    matches!(
        std::env::var("PAM_SYSTEMD_RS_TEST_MODULE").as_deref(),
        Ok("c") | Ok("C")
    )
}

/// The module under test: ours by default, the world's C module with `PAM_SYSTEMD_RS_TEST_MODULE=c`.
pub fn module() -> Module {
    match module_is_c() {
        true => Module::c(),
        false => {
            let m = Module::rs();
            assert!(
                m.path.exists(),
                "module under test {} does not exist (build it with `cargo build`, set \
                 PAM_SYSTEMD_RS_SO, or run with PAM_SYSTEMD_RS_TEST_MODULE=c)",
                m.path.display()
            );
            m
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case builder
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logind {
    Fake,
    Elogind,
    None,
    /// Real systemd as PID 1 of a world (`--logind systemd --world ...`), its own logind.
    Systemd,
}

/// What the client uses as its system bus (`DBUS_SYSTEM_BUS_ADDRESS` in the process env).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub enum Bus {
    /// The testbed's bus at the default path (variable unset).
    Default,
    /// A socket that accepts and never answers (testkit `mute-socket`).
    Mute,
    /// A socket that closes the connection in the middle of the SASL handshake (`half-bus`).
    HalfBus,
    /// Any address (placeholders allowed).
    Address(String),
}

#[derive(Clone, Debug)]
pub enum User {
    User1,
    User2,
    Name(String),
    /// No PAM_USER: libpam asks the conversation.
    Unset,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub module: Module,
    pub module_args: Vec<String>,
    pub service: String,
    pub user: User,
    pub items: Vec<(String, String)>,
    pub penv: Vec<(String, String)>,
    pub env: Vec<(String, String)>,
    /// PAM data set by the helper module before the module under test (`set K=V`).
    pub pam_data: Vec<(String, String)>,
    /// Extra raw service-file lines before / after the module's line.
    pub lines_before: Vec<String>,
    pub lines_after: Vec<String>,
    /// Run the helper's `dump` after the module (open and close).
    pub dump: bool,
    pub fake_conf: Vec<(String, String)>,
    pub logind: Logind,
    /// The world booted for `Logind::Systemd` (ignored otherwise).
    pub world: World,
    /// Extra `testbed/testbed run` options (`--logind-conf`, `--unit-dropin`, ...).
    pub testbed_args: Vec<String>,
    pub seats: bool,
    pub bus: Bus,
    /// Extra pamclient flags (`--open-twice`, `--no-close`, ...).
    pub client_flags: Vec<String>,
    /// Shell run inside the testbed before the client (after fake.conf is written).
    pub setup: Vec<String>,
    /// Shell run by the client after open (via system()), e.g. to change fake.conf.
    pub after_open: Option<String>,
    /// Overall timeout for the testbed run.
    pub timeout: Duration,
    /// Words put before the client's command line (e.g. another system's dynamic loader).
    pub client_prefix: Vec<String>,
}

static CASE_COUNTER: AtomicUsize = AtomicUsize::new(0);

fn q(s: &str) -> String {
    // Single-quote for bash.
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Case {
    pub fn new(module: &Module) -> Case {
        Case {
            module: module.clone(),
            module_args: vec!["debug".into()],
            service: "pamtest".into(),
            user: User::User1,
            items: vec![],
            penv: vec![],
            env: vec![],
            pam_data: vec![],
            lines_before: vec![],
            lines_after: vec![],
            dump: true,
            fake_conf: vec![],
            logind: Logind::Fake,
            world: World::Debian12,
            testbed_args: vec![],
            seats: true,
            bus: Bus::Default,
            client_flags: vec![],
            setup: vec![],
            after_open: None,
            timeout: Duration::from_secs(60),
            client_prefix: vec![],
        }
    }
    pub fn args(mut self, args: &[&str]) -> Self {
        self.module_args = args.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn service(mut self, s: &str) -> Self {
        self.service = s.into();
        self
    }
    pub fn user(mut self, u: User) -> Self {
        self.user = u;
        self
    }
    /// PAM item: tty, rhost, ruser, xdisplay. Values may use `\xHH` escapes.
    pub fn item(mut self, k: &str, v: &str) -> Self {
        self.items.push((k.into(), v.into()));
        self
    }
    /// PAM env entry before open (`pam_putenv("K=V")`).
    pub fn penv(mut self, k: &str, v: &str) -> Self {
        self.penv.push((k.into(), v.into()));
        self
    }
    /// Process env entry (setenv) before open.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn pam_data(mut self, k: &str, v: &str) -> Self {
        self.pam_data.push((k.into(), v.into()));
        self
    }
    pub fn line_before(mut self, l: &str) -> Self {
        self.lines_before.push(l.into());
        self
    }
    pub fn line_after(mut self, l: &str) -> Self {
        self.lines_after.push(l.into());
        self
    }
    pub fn fake_conf(mut self, k: &str, v: &str) -> Self {
        self.fake_conf.push((k.into(), v.into()));
        self
    }
    pub fn logind(mut self, l: Logind) -> Self {
        self.logind = l;
        self
    }
    /// Real systemd as PID 1 of `w` (sets the logind to `Logind::Systemd`).
    pub fn world(mut self, w: World) -> Self {
        self.logind = Logind::Systemd;
        self.world = w;
        self
    }
    /// Extra `testbed/testbed run` options, e.g. `["--logind-conf", "UserStopDelaySec=0"]`.
    pub fn testbed_opts(mut self, opts: &[&str]) -> Self {
        self.testbed_args.extend(opts.iter().map(|s| s.to_string()));
        self
    }
    pub fn no_seats(mut self) -> Self {
        self.seats = false;
        self
    }
    pub fn bus(mut self, b: Bus) -> Self {
        self.bus = b;
        self
    }
    pub fn flag(mut self, f: &str) -> Self {
        self.client_flags.push(f.into());
        self
    }
    pub fn setup(mut self, sh: &str) -> Self {
        self.setup.push(sh.into());
        self
    }
    pub fn after_open(mut self, sh: &str) -> Self {
        self.after_open = Some(sh.into());
        self
    }
    /// Runs the client through `prefix` (e.g. `ld-linux-x86-64.so.2 --library-path DIRS`).
    pub fn client_prefix(mut self, prefix: &[&str]) -> Self {
        self.client_prefix = prefix.iter().map(|w| w.to_string()).collect();
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    fn service_file(&self) -> String {
        let helper = testhelper();
        let mut s = String::new();
        for l in &self.lines_before {
            writeln!(s, "{l}").unwrap();
        }
        if !self.pam_data.is_empty() {
            write!(s, "session optional {} set", helper.display()).unwrap();
            for (k, v) in &self.pam_data {
                // PAM config: brackets protect values with spaces.
                if v.contains(' ') || v.is_empty() {
                    write!(s, " [{k}={}]", v.replace(']', "\\]")).unwrap();
                } else {
                    write!(s, " {k}={v}").unwrap();
                }
            }
            s.push('\n');
        }
        write!(s, "session required {{MODULE}}").unwrap();
        for a in &self.module_args {
            if a.contains(' ') || a.is_empty() {
                write!(s, " [{}]", a.replace(']', "\\]")).unwrap();
            } else {
                write!(s, " {a}").unwrap();
            }
        }
        s.push('\n');
        if self.dump {
            writeln!(
                s,
                "session optional {} dump out={{STATE}}/dump.txt user={{USER}}",
                helper.display()
            )
            .unwrap();
        }
        for l in &self.lines_after {
            writeln!(s, "{l}").unwrap();
        }
        s
    }

    fn client_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["--confdir".into(), "{STATE}/pam.conf.d".into()];
        a.push("--service".into());
        a.push(self.service.clone());
        match &self.user {
            User::User1 => a.extend(["--user".into(), "{USER1}".into()]),
            User::User2 => a.extend(["--user".into(), "{USER2}".into()]),
            User::Name(n) => a.extend(["--user".into(), n.clone()]),
            User::Unset => a.extend(["--unset-user".into(), "--user".into(), "{USER1}".into()]),
        }
        for (k, v) in &self.items {
            a.push("--item".into());
            a.push(format!("{k}={v}"));
        }
        for (k, v) in &self.penv {
            a.push("--penv".into());
            a.push(format!("{k}={v}"));
        }
        let mut env = self.env.clone();
        match &self.bus {
            Bus::Default => {}
            Bus::Mute => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), "unix:path={STATE}/mute.sock".into())),
            Bus::HalfBus => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), "unix:path={STATE}/half.sock".into())),
            Bus::Address(addr) => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), addr.clone())),
        }
        for (k, v) in &env {
            a.push("--env".into());
            a.push(format!("{k}={v}"));
        }
        a.extend(self.client_flags.iter().cloned());
        if let Some(sh) = &self.after_open {
            a.push("--run-after-open".into());
            a.push(sh.clone());
        }
        // Just before the client exits (it still holds whatever the module left open), ask the
        // fake logind which session FIFOs still have a writer: the probe records its answer (and
        // any EOF it finds) synchronously, so the snapshot taken after it needs no grace period.
        // The testbed's own bus, explicitly: the case may point DBUS_SYSTEM_BUS_ADDRESS elsewhere.
        a.push("--run-at-end".into());
        a.push(
            "if [ \"${TESTBED_LOGIND:-}\" = fake ]; then \
             timeout 10 busctl --address=unix:path=/run/dbus/system_bus_socket --auto-start=no --timeout=5 \
             call org.freedesktop.login1 /org/freedesktop/login1 org.pamsystemdrs.FakeLogind.Probe Probe \
             >/dev/null 2>>{STATE}/probe.err; \
             cp {STATE}/fake-calls.jsonl {STATE}/calls-before-exit.jsonl 2>/dev/null; fi; true"
                .into(),
        );
        a
    }

    fn script(&self) -> String {
        let tb = testbed_runner();
        let mut s = String::new();
        s.push_str("set -u\nS=\"$TESTBED_STATE\"\n");
        // The C reference is the one of the testbed's world (252 on the host, 257 in Debian 13).
        s.push_str(
            "if [ \"$TESTBED_MODULE_KIND\" = c ]; then M=\"$TESTBED_MODULE_C\"; else M=\"$TESTBED_MODULE_PATH\"; fi\n",
        );
        let uexpr = match &self.user {
            User::User2 => "$TESTBED_USER2".to_string(),
            User::Name(n) => n.clone(),
            _ => "$TESTBED_USER1".to_string(),
        };
        writeln!(
            s,
            "U={}",
            if uexpr.starts_with('$') {
                format!("\"{uexpr}\"")
            } else {
                q(&uexpr)
            }
        )
        .unwrap();
        // Placeholder substitution with sed (values: user names, uids, paths without '|').
        s.push_str(
            "sub() { sed -z -e \"s|{USER1}|$TESTBED_USER1|g; s|{UID1}|$TESTBED_UID1|g; \
             s|{USER2}|$TESTBED_USER2|g; s|{UID2}|$TESTBED_UID2|g; s|{STATE}|$S|g; \
             s|{MODULE}|$M|g; s|{USER}|$U|g\"; }\n",
        );
        s.push_str("mkdir -p \"$S/pam.conf.d\"\n");
        s.push_str("sub <\"$S/fake.conf.in\" >\"$S/fake.conf\"\n");
        writeln!(s, "sub <\"$S/service.in\" >\"$S/pam.conf.d/{}\"", self.service).unwrap();
        s.push_str("sub <\"$S/args.in\" >\"$S/args\"\n");
        s.push_str("mapfile -d '' ARGS <\"$S/args\"\n");
        match self.bus {
            Bus::Mute => {
                writeln!(
                    s,
                    "{} \"$S/mute.sock\" >\"$S/mute.out\" 2>&1 &",
                    q(&testkit_bin("mute-socket").to_string_lossy())
                )
                .unwrap();
                s.push_str("for i in $(seq 50); do [ -S \"$S/mute.sock\" ] && break; sleep 0.1; done\n");
            }
            Bus::HalfBus => {
                writeln!(
                    s,
                    "{} \"$S/half.sock\" >\"$S/half.out\" 2>&1 &",
                    q(&testkit_bin("half-bus").to_string_lossy())
                )
                .unwrap();
                s.push_str("for i in $(seq 50); do [ -S \"$S/half.sock\" ] && break; sleep 0.1; done\n");
            }
            _ => {}
        }
        for sh in &self.setup {
            writeln!(s, "eval \"$(printf '%s' {} | sub)\"", q(sh)).unwrap();
        }
        for w in &self.client_prefix {
            write!(s, "{} ", q(w)).unwrap();
        }
        writeln!(
            s,
            "{} \"${{ARGS[@]}}\" >\"$S/client.out\" 2>\"$S/client.err\" </dev/null",
            q(&pamclient().to_string_lossy())
        )
        .unwrap();
        s.push_str("echo $? >\"$S/client.rc\"\n");
        // Wait (bounded) until every FIFO handed out has been seen at EOF.
        s.push_str(
            "for i in $(seq 30); do\n  n_fifo=$(grep -c '\"fd\":\"fifo\"' \"$S/fake-calls.jsonl\" 2>/dev/null || true)\n  \
             n_eof=$(grep -c '\"fifo-eof\"' \"$S/fake-calls.jsonl\" 2>/dev/null || true)\n  \
             [ \"${n_fifo:-0}\" -le \"${n_eof:-0}\" ] && break\n  sleep 0.1\ndone\n",
        );
        writeln!(s, "{} syslog-sync || true", q(&tb.to_string_lossy())).unwrap();
        s.push_str("exit 0\n");
        s
    }

    /// Runs the case in a fresh testbed and collects the results.
    pub fn run(&self) -> Outcome {
        // Build everything first (outside the testbed).
        let _ = testkit_dir();
        let _ = pamclient();
        let _ = testhelper();
        assert!(
            testbed_runner().exists(),
            "testbed runner {} missing",
            testbed_runner().display()
        );

        let n = CASE_COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = std::env::temp_dir().join(format!("pamsd-case-{}-{}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("mkdir state");
        let state = base.clone();

        let mut conf = String::new();
        for (k, v) in &self.fake_conf {
            writeln!(conf, "{k}={v}").unwrap();
        }
        std::fs::write(state.join("fake.conf.in"), conf).unwrap();
        std::fs::write(state.join("service.in"), self.service_file()).unwrap();
        let mut args = Vec::new();
        for a in self.client_args() {
            args.extend_from_slice(a.as_bytes());
            args.push(0);
        }
        std::fs::write(state.join("args.in"), args).unwrap();
        std::fs::write(state.join("case.sh"), self.script()).unwrap();

        let mut cmd = Command::new(testbed_runner());
        cmd.arg("run")
            .arg("--logind")
            .arg(match self.logind {
                Logind::Fake => "fake",
                Logind::Elogind => "elogind",
                Logind::None => "none",
                Logind::Systemd => "systemd",
            })
            .arg("--state")
            .arg(&state)
            .arg("--fake-bin")
            .arg(testkit_bin("fake-logind"));
        if !self.seats {
            cmd.arg("--no-seats");
        }
        if self.logind == Logind::Systemd {
            cmd.arg("--world").arg(self.world.name());
        }
        cmd.args(&self.testbed_args);
        cmd.arg("--").arg("bash").arg(state.join("case.sh"));
        cmd.env("TESTBED_MODULE_PATH", &self.module.path);
        // The C reference is the world's own module, unless the case names another C module
        // explicitly (e.g. Debian 13's, loaded by Debian 13's loader on Debian 12).
        let kind = if self.module.is_ours() {
            "rs"
        } else if self.module.path != std::path::Path::new(C_MODULE_PATH) {
            "path"
        } else {
            "c"
        };
        cmd.env("TESTBED_MODULE_KIND", kind);
        cmd.env_remove("DBUS_SYSTEM_BUS_ADDRESS");
        let out = runner::run(cmd, self.timeout);
        let elapsed = out.elapsed;
        let runner_rc = out.code();
        let runner_log = if out.timed_out {
            format!(
                "testbed timed out after {:?}\n{}{}",
                self.timeout, out.stdout, out.stderr
            )
        } else {
            format!("{}{}", out.stdout, out.stderr)
        };
        let o = Outcome::collect(&state, self.module.kind, runner_rc, runner_log, elapsed);
        if o.runner_rc != 0 || o.client_rc != Some(0) {
            eprintln!("--- case state {} ---\n{}", state.display(), o.runner_log);
        }
        if std::env::var_os("KEEP_CASE_STATE").is_none() && o.runner_rc == 0 {
            let _ = std::fs::remove_dir_all(&state);
        }
        o
    }
}

// ---------------------------------------------------------------------------------------------
// Outcome
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdInfo {
    pub fd: i32,
    pub cloexec: bool,
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogLine {
    /// `<PRI>` value (facility*8 + severity): 83 ERR, 84 WARNING, 87 DEBUG for authpriv.
    pub pri: u32,
    pub ident: String,
    /// The `name(service:session)` tag of pam_syslog lines, if any (`pam_systemd`, ...).
    pub module_tag: Option<String>,
    /// The message after the ident and the module prefix.
    pub text: String,
    pub raw: String,
}

impl SyslogLine {
    pub fn severity(&self) -> u32 {
        self.pri & 7
    }
    /// Whether the line came from a pam_systemd implementation (C or ours).
    pub fn is_module(&self) -> bool {
        self.module_tag.as_deref().is_some_and(|t| t.contains("pam_systemd"))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub impl_kind: Option<Impl>,
    pub runner_rc: i32,
    pub runner_log: String,
    pub elapsed: Duration,
    pub client_rc: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub pid: Option<i64>,
    pub start_rc: Option<i32>,
    pub open_rc: Option<i32>,
    pub open_ms: Option<u64>,
    pub open2_rc: Option<i32>,
    pub close_rc: Option<i32>,
    pub close_ms: Option<u64>,
    pub end_rc: Option<i32>,
    pub fds_before: Vec<i32>,
    /// PAM env after open, in order.
    pub env: Vec<(String, String)>,
    pub env2: Vec<(String, String)>,
    pub env_after_close: Vec<(String, String)>,
    pub fds: Vec<FdInfo>,
    pub fds2: Vec<FdInfo>,
    pub fds_after_close: Vec<FdInfo>,
    pub fds_after_end: Vec<FdInfo>,
    pub threads: Option<u32>,
    pub threads2: Option<u32>,
    pub threads_after_close: Option<u32>,
    pub threads_after_end: Option<u32>,
    pub conv_messages: Vec<String>,
    /// Every record of fake-calls.jsonl after the run (fifo-eof events included), except the
    /// harness's own probe records (`"event":"probe"`, see `client_args`).
    pub records: Vec<Value>,
    /// The records as they were just before the client exited, the probe record included.
    pub records_before_exit: Vec<Value>,
    /// Helper-module dumps (`session_fd`, `existing`, `user_record`), one map per dump (open, close).
    pub dumps: Vec<BTreeMap<String, String>>,
    pub syslog: Vec<SyslogLine>,
}

fn parse_env_line(v: &str) -> (String, String) {
    match v.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (v.to_string(), String::new()),
    }
}

fn parse_fd_line(v: &str) -> Option<FdInfo> {
    // "N cloexec=0|1 type=T"
    let mut it = v.split_whitespace();
    let fd = it.next()?.parse().ok()?;
    let mut cloexec = false;
    let mut kind = String::new();
    for w in it {
        if let Some(x) = w.strip_prefix("cloexec=") {
            cloexec = x == "1";
        } else if let Some(x) = w.strip_prefix("type=") {
            kind = x.to_string();
        }
    }
    Some(FdInfo { fd, cloexec, kind })
}

fn read_records(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("bad record line {l:?}: {e}")))
        .collect()
}

pub fn parse_syslog_line(raw: &str) -> SyslogLine {
    let mut pri = 0;
    let mut rest = raw;
    if let Some(r) = raw.strip_prefix('<')
        && let Some(end) = r.find('>')
    {
        pri = r[..end].parse().unwrap_or(0);
        rest = &r[end + 1..];
    }
    // Skip the "Mmm dd hh:mm:ss " timestamp (15 chars + space) when present.
    if rest.len() > 16 && rest.as_bytes()[3] == b' ' && rest.as_bytes()[15] == b' ' {
        rest = &rest[16..];
    }
    let (ident, msg) = match rest.find(": ") {
        Some(i) => (rest[..i].to_string(), &rest[i + 2..]),
        None => (String::new(), rest),
    };
    // "name(service:session): text"
    let mut module_tag = None;
    let mut text = msg.to_string();
    if let Some(open) = msg.find('(')
        && let Some(close) = msg.find("): ")
        && open < close
        && !msg[..open].contains(' ')
    {
        module_tag = Some(msg[..open].to_string());
        text = msg[close + 3..].to_string();
    }
    SyslogLine {
        pri,
        ident,
        module_tag,
        text,
        raw: raw.to_string(),
    }
}

impl Outcome {
    fn collect(state: &Path, kind: Impl, runner_rc: i32, runner_log: String, elapsed: Duration) -> Outcome {
        let mut o = Outcome {
            impl_kind: Some(kind),
            runner_rc,
            runner_log,
            elapsed,
            ..Default::default()
        };
        let lossy = |f: &str| String::from_utf8_lossy(&std::fs::read(state.join(f)).unwrap_or_default()).into_owned();
        o.stdout = lossy("client.out");
        o.stderr = lossy("client.err");
        o.client_rc = std::fs::read_to_string(state.join("client.rc"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        for line in o.stdout.clone().lines() {
            let Some((k, v)) = line.split_once('=') else { continue };
            let num = || v.trim().parse::<i64>().ok();
            match k {
                "pid" => o.pid = num(),
                "start_rc" => o.start_rc = num().map(|x| x as i32),
                "open_rc" => o.open_rc = num().map(|x| x as i32),
                "open_ms" => o.open_ms = num().map(|x| x as u64),
                "open2_rc" => o.open2_rc = num().map(|x| x as i32),
                "close_rc" => o.close_rc = num().map(|x| x as i32),
                "close_ms" => o.close_ms = num().map(|x| x as u64),
                "end_rc" => o.end_rc = num().map(|x| x as i32),
                "fds_before" => o.fds_before = v.split_whitespace().filter_map(|x| x.parse().ok()).collect(),
                "env" => o.env.push(parse_env_line(v)),
                "env2" => o.env2.push(parse_env_line(v)),
                "env_after_close" => o.env_after_close.push(parse_env_line(v)),
                "fd" => o.fds.extend(parse_fd_line(v)),
                "fd2" => o.fds2.extend(parse_fd_line(v)),
                "fd_after_close" => o.fds_after_close.extend(parse_fd_line(v)),
                "fd_after_end" => o.fds_after_end.extend(parse_fd_line(v)),
                "threads" => o.threads = num().map(|x| x as u32),
                "threads2" => o.threads2 = num().map(|x| x as u32),
                "threads_after_close" => o.threads_after_close = num().map(|x| x as u32),
                "threads_after_end" => o.threads_after_end = num().map(|x| x as u32),
                "conv_error" | "conv_info" => o.conv_messages.push(v.to_string()),
                _ => {}
            }
        }
        // The probe is the harness asking, not the module calling: it is no record of the run.
        o.records = read_records(&state.join("fake-calls.jsonl"))
            .into_iter()
            .filter(|r| r.get("event").and_then(Value::as_str) != Some("probe"))
            .collect();
        o.records_before_exit = read_records(&state.join("calls-before-exit.jsonl"));
        let dump = lossy("dump.txt");
        let mut cur = BTreeMap::new();
        for l in dump.lines() {
            if l == "--" {
                o.dumps.push(std::mem::take(&mut cur));
            } else if let Some((k, v)) = l.split_once('=') {
                cur.insert(k.to_string(), v.to_string());
            }
        }
        // Lossy: the module may log non-UTF-8 bytes (e.g. a PAM_RHOST of "h\xff").
        o.syslog = String::from_utf8_lossy(&std::fs::read(state.join("syslog.log")).unwrap_or_default())
            .lines()
            .map(parse_syslog_line)
            .collect();
        o
    }

    pub fn env_map(&self) -> BTreeMap<String, String> {
        self.env.iter().cloned().collect()
    }
    pub fn env_get(&self, k: &str) -> Option<&str> {
        self.env.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    /// Records of method calls with this member name.
    pub fn calls(&self, method: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r.get("method").and_then(Value::as_str) == Some(method))
            .collect()
    }
    /// CreateSession and CreateSessionWithPIDFD records that the fake served (calls answered
    /// with UnknownMethod because the method is disabled, `"unknown":true`, are left out).
    pub fn creates(&self) -> Vec<&Value> {
        self.all_creates()
            .into_iter()
            .filter(|r| r.get("unknown").is_none())
            .collect()
    }
    /// Every CreateSession* record, including the UnknownMethod ones.
    pub fn all_creates(&self) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| {
                r.get("method")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.starts_with("CreateSession"))
            })
            .collect()
    }
    pub fn fifo_eofs(&self) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r.get("event").and_then(Value::as_str) == Some("fifo-eof"))
            .collect()
    }
    /// New FIFO fds after open.
    pub fn new_fifos(&self) -> Vec<&FdInfo> {
        self.fds.iter().filter(|f| f.kind == "fifo").collect()
    }
    /// Lines logged by the module (C or ours), as (severity, text) with the prefix removed.
    pub fn module_log(&self) -> Vec<(u32, String)> {
        self.syslog
            .iter()
            .filter(|l| l.is_module())
            .map(|l| (l.severity(), l.text.clone()))
            .collect()
    }
    pub fn logged(&self, severity: u32, text: &str) -> bool {
        self.module_log().iter().any(|(s, t)| *s == severity && t == text)
    }
    /// An error line as the C module writes it (`text`), or as ours writes it: the same text
    /// followed by ` (details)` — what failed, where, the D-Bus error name, how long it took.
    pub fn logged_detailed(&self, severity: u32, text: &str) -> bool {
        self.module_log()
            .iter()
            .any(|(s, t)| *s == severity && is_text_with_details(text, t))
    }
    pub fn logged_containing(&self, severity: u32, needle: &str) -> bool {
        self.module_log()
            .iter()
            .any(|(s, t)| *s == severity && t.contains(needle))
    }
    /// A readable summary for assertion messages.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        writeln!(
            s,
            "runner_rc={} client_rc={:?} elapsed={:?}",
            self.runner_rc, self.client_rc, self.elapsed
        )
        .unwrap();
        // The bus monitor's lines (tests comparing bus calls) are long: only login1's and errors.
        writeln!(s, "--- client stdout ---").unwrap();
        for l in self.stdout.lines() {
            match l.strip_prefix("busmon=") {
                None => writeln!(s, "{l}").unwrap(),
                Some(m) if m.contains("org.freedesktop.login1") || m.contains("\"error\"") => {
                    writeln!(s, "busmon {m}").unwrap()
                }
                Some(_) => {}
            }
        }
        if !self.stderr.is_empty() {
            writeln!(s, "--- client stderr ---\n{}", self.stderr).unwrap();
        }
        writeln!(s, "--- records ---").unwrap();
        for r in &self.records {
            writeln!(s, "{r}").unwrap();
        }
        writeln!(s, "--- dumps ---\n{:?}", self.dumps).unwrap();
        writeln!(s, "--- syslog ---").unwrap();
        for l in &self.syslog {
            writeln!(s, "{}", l.raw).unwrap();
        }
        if self.runner_rc != 0 {
            writeln!(s, "--- runner ---\n{}", self.runner_log).unwrap();
        }
        s
    }
}

/// The parts of an [`Outcome`] that two implementations (C and ours) should agree on, with
/// run-specific values normalised: the client's PID becomes `<pid>` in records and log lines,
/// only FIFO fds count as new fds, log lines are (severity, text) without the module prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparable {
    pub open_rc: Option<i32>,
    pub open2_rc: Option<i32>,
    pub close_rc: Option<i32>,
    pub end_rc: Option<i32>,
    pub env: BTreeMap<String, String>,
    pub env2: BTreeMap<String, String>,
    pub env_after_close: BTreeMap<String, String>,
    /// (fd, cloexec) of new FIFO fds after open / after close / after end.
    pub fifos: Vec<(i32, bool)>,
    pub fifos_after_close: Vec<(i32, bool)>,
    pub fifos_after_end: Vec<(i32, bool)>,
    pub threads: (Option<u32>, Option<u32>, Option<u32>),
    pub records: Vec<Value>,
    pub session_fd_data: Vec<Option<String>>,
    pub existing_data: Vec<Option<String>>,
    pub log: Vec<(u32, String)>,
}

fn normalise_json(v: &Value, pid: Option<i64>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let is_pid_key = k == "sender_pid" || k == "pidfd_pid";
                    if is_pid_key && pid.is_some() && x.as_i64() == pid {
                        (k.clone(), Value::String("<pid>".into()))
                    } else {
                        (k.clone(), normalise_json(x, pid))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalise_json(x, pid)).collect()),
        other => other.clone(),
    }
}

/// Whether `line` is the C module's error text `text`, or ours: the same text followed by
/// ` (details)` — what failed, where, the D-Bus error name, how long it took.
pub fn is_text_with_details(text: &str, line: &str) -> bool {
    line == text
        || line
            .strip_prefix(text)
            .is_some_and(|rest| rest.starts_with(" (") && rest.ends_with(')'))
}

impl Outcome {
    pub fn comparable(&self) -> Comparable {
        let fifos = |v: &[FdInfo]| {
            v.iter()
                .filter(|f| f.kind == "fifo")
                .map(|f| (f.fd, f.cloexec))
                .collect()
        };
        let pid_s = self.pid.map(|p| p.to_string());
        let log = self
            .module_log()
            .into_iter()
            .map(|(sev, t)| match &pid_s {
                Some(p) => (sev, t.replace(&format!("pid={p} "), "pid=<pid> ")),
                None => (sev, t),
            })
            .collect();
        Comparable {
            open_rc: self.open_rc,
            open2_rc: self.open2_rc,
            close_rc: self.close_rc,
            end_rc: self.end_rc,
            env: self.env.iter().cloned().collect(),
            env2: self.env2.iter().cloned().collect(),
            env_after_close: self.env_after_close.iter().cloned().collect(),
            fifos: fifos(&self.fds),
            fifos_after_close: fifos(&self.fds_after_close),
            fifos_after_end: fifos(&self.fds_after_end),
            threads: (self.threads, self.threads_after_close, self.threads_after_end),
            records: self.records.iter().map(|r| normalise_json(r, self.pid)).collect(),
            session_fd_data: self.dumps.iter().map(|d| d.get("session_fd").cloned()).collect(),
            existing_data: self.dumps.iter().map(|d| d.get("existing").cloned()).collect(),
            log,
        }
    }
}

pub const LOG_ERR: u32 = 3;
pub const LOG_WARNING: u32 = 4;
pub const LOG_DEBUG: u32 = 7;

pub const PAM_SUCCESS: i32 = 0;
pub const PAM_SERVICE_ERR: i32 = 3;
pub const PAM_USER_UNKNOWN: i32 = 10;
pub const PAM_SESSION_ERR: i32 = 14;
pub const PAM_CONV_ERR: i32 = 19;

pub mod busmon;
pub mod pair;
pub mod runner;
pub mod testbed;
