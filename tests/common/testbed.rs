//! The one script builder: a bash script run inside `testbed/testbed run` (a world with real
//! systemd as PID 1, or elogind / the fake logind / no logind on the host's files), through the
//! bounded [`super::runner`]. [`Case`](super::Case) writes its client script and hands it here;
//! the end-to-end, load and doctor suites write their own scripts.
//!
//! Each run gets its own state dir ([`TempDir`]: removed afterwards unless the run failed, the
//! test panicked or `KEEP_CASE_STATE` is set) and a bounded run time (the whole testbed process
//! group gets SIGTERM, then SIGKILL); [`Run::fail`] prints the state dir's logs before the panic.

use super::runner::{self, Logind, World};
use super::{Module, module_is_c, repo_root, testbed_runner, testkit_bin};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A state dir under the temp dir (`<tag>-<pid>-<n>`), removed on drop unless `keep()` was
/// called, the thread is panicking (a failed test keeps its evidence) or `KEEP_CASE_STATE` is set.
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path, keep: false }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep && !std::thread::panicking() && std::env::var_os("KEEP_CASE_STATE").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `testbed/setup-host.sh` once per test process (a no-op when the host is ready; it fails
/// loudly instead of letting the tests skip). Bounded: a first run installs packages.
pub fn ensure_host() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let out = runner::run(
            Command::new(repo_root().join("testbed/setup-host.sh")),
            Duration::from_secs(30 * 60),
        );
        assert!(
            out.code() == 0,
            "testbed/setup-host.sh failed (exit {}, timed out: {}):\n{}{}",
            out.code(),
            out.timed_out,
            out.stdout,
            out.stderr
        );
    });
}

/// The result of one testbed run.
pub struct Run {
    pub name: String,
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub state: TempDir,
    pub elapsed: Duration,
}

pub struct Testbed {
    name: String,
    logind: Logind,
    world: World,
    opts: Vec<String>,
    envs: Vec<(String, String)>,
    timeout: Duration,
    state: Option<TempDir>,
}

impl Testbed {
    /// A testbed with elogind on the host's files, 120 s to run.
    pub fn new(name: &str) -> Testbed {
        Testbed {
            name: name.to_string(),
            logind: Logind::Elogind,
            world: World::Debian12,
            opts: Vec::new(),
            envs: Vec::new(),
            timeout: Duration::from_secs(120),
            state: None,
        }
    }
    pub fn logind(mut self, kind: Logind) -> Testbed {
        self.logind = kind;
        self
    }
    /// Real systemd as PID 1 of world `w` (`--logind systemd --world ...`).
    pub fn world(mut self, w: World) -> Testbed {
        self.logind = Logind::Systemd;
        self.world = w;
        self
    }
    /// Extra `testbed/testbed run` options (`--logind-conf=...`, `--unit-dropin=...`, ...).
    pub fn opts<S: AsRef<str>>(mut self, opts: &[S]) -> Testbed {
        self.opts.extend(opts.iter().map(|s| s.as_ref().to_string()));
        self
    }
    /// A variable in the runner's environment (the testbed passes it on to the script).
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Testbed {
        self.envs
            .push((k.to_string(), v.as_ref().to_string_lossy().into_owned()));
        self
    }
    pub fn timeout(mut self, t: Duration) -> Testbed {
        self.timeout = t;
        self
    }
    /// The state dir to use (the caller put its input files there); else a fresh one named
    /// after the testbed.
    pub fn state(mut self, dir: TempDir) -> Testbed {
        self.state = Some(dir);
        self
    }

    /// Runs `script` as it is (`bash <state>/script.sh`) and returns what it printed, the exit
    /// and the state dir. The one place that builds a `testbed/testbed run` command.
    pub fn run_script(self, script: &str) -> Run {
        assert!(
            testbed_runner().exists(),
            "testbed runner {} missing",
            testbed_runner().display()
        );
        let state = self.state.unwrap_or_else(|| TempDir::new(&self.name));
        let file = state.path().join("script.sh");
        fs::write(&file, script).expect("write the testbed script");
        let mut cmd = Command::new(testbed_runner());
        cmd.arg("run")
            .arg("--logind")
            .arg(self.logind.arg())
            .arg("--state")
            .arg(state.path());
        match self.logind {
            Logind::Systemd => {
                cmd.arg("--world").arg(self.world.name());
            }
            Logind::Fake => {
                cmd.arg("--fake-bin").arg(testkit_bin("fake-logind"));
            }
            Logind::Elogind | Logind::None => {}
        }
        cmd.args(&self.opts);
        cmd.arg("--").arg("bash").arg(&file);
        cmd.env_remove("DBUS_SYSTEM_BUS_ADDRESS");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let out = runner::run(cmd, self.timeout);
        Run {
            name: self.name,
            status: out.status,
            timed_out: out.timed_out,
            stdout: out.stdout,
            stderr: out.stderr,
            state,
            elapsed: out.elapsed,
        }
    }

    /// Runs `script` after a prelude (`set -euo pipefail`; `$M` the module under test, `$Q`
    /// testbed/logind-query), for the end-to-end client tests. The module under test is
    /// [`Module::rs`], or the world's C module with `PAM_SYSTEMD_RS_TEST_MODULE=c`.
    pub fn run(self, script: &str) -> Run {
        ensure_host();
        let so = Module::rs().path;
        if !module_is_c() {
            assert!(
                so.exists(),
                "module {} missing: run `cargo build` (or set PAM_SYSTEMD_RS_SO, or \
                 PAM_SYSTEMD_RS_TEST_MODULE=c to test the C module)",
                so.display()
            );
        }
        let prelude = r#"set -euo pipefail
case "${PAM_SYSTEMD_RS_TEST_MODULE:-}" in c|C) M="$TESTBED_MODULE_C" ;; *) M="$TESTBED_MODULE_RS" ;; esac
Q="$TESTBED_ROOT/testbed/logind-query"
echo "MODULE=$M"
"#;
        self.env("PAM_SYSTEMD_RS_SO", &so)
            .run_script(&format!("{prelude}{script}"))
    }
}

fn tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(s) => {
            let v: Vec<&str> = s.lines().collect();
            v[v.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({e})"),
    }
}

impl Run {
    /// The exit code; -1 for a timeout or a signal.
    pub fn code(&self) -> i32 {
        self.status.and_then(|s| s.code()).unwrap_or(-1)
    }

    /// A file the run left in its state dir ("" when absent).
    pub fn file(&self, name: &str) -> String {
        String::from_utf8_lossy(&fs::read(self.state.path().join(name)).unwrap_or_default()).into_owned()
    }

    /// Value of the first `KEY=value` line on stdout.
    pub fn kv(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}=");
        self.stdout
            .lines()
            .find_map(|l| l.trim_end_matches('\r').strip_prefix(prefix.as_str()))
    }

    /// Prints everything useful for a post-mortem, keeps the state dir, panics.
    pub fn fail(&mut self, msg: &str) -> ! {
        self.state.keep();
        let st = self.state.path();
        eprintln!("===== {}: {msg}", self.name);
        eprintln!(
            "----- exit: {:?} timed_out: {} elapsed: {:?}",
            self.status, self.timed_out, self.elapsed
        );
        eprintln!("----- stdout:\n{}", self.stdout);
        eprintln!("----- stderr:\n{}", self.stderr);
        for f in ["logind.log", "dbus.log", "syslog.log", "console.log", "ssh/sshd.log"] {
            let p = st.join(f);
            if p.exists() {
                eprintln!("----- {} (last 80 lines):\n{}", p.display(), tail(&p, 80));
            }
        }
        eprintln!("----- state dir kept: {}", st.display());
        panic!("{}: {msg}", self.name);
    }

    pub fn check(&mut self, cond: bool, msg: &str) {
        if !cond {
            self.fail(msg);
        }
    }

    pub fn expect_success(&mut self) {
        if self.timed_out {
            self.fail("testbed timed out");
        }
        if !self.status.map(|s| s.success()).unwrap_or(false) {
            self.fail("testbed run failed");
        }
    }

    pub fn expect_kv(&mut self, key: &str, want: &str) {
        let got = self.kv(key).map(str::to_string);
        if got.as_deref() != Some(want) {
            self.fail(&format!("{key}: expected {want:?}, got {got:?}"));
        }
    }

    pub fn expect_kv_nonempty(&mut self, key: &str) -> String {
        match self.kv(key).map(str::to_string) {
            Some(v) if !v.is_empty() => v,
            other => self.fail(&format!("{key}: expected a value, got {other:?}")),
        }
    }
}
