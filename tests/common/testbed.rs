//! Running a shell script inside `testbed/testbed` (the end-to-end client tests): a world
//! (real systemd as PID 1) or elogind / a fake logind on the host's files.
//!
//! Each run gets its own state dir and a bounded run time ([`super::runner`]: the whole testbed
//! process group gets SIGTERM, then SIGKILL); on failure the state dir's logs are printed before
//! the panic. The module under test is [`super::Module::rs`], or the world's C module with
//! `PAM_SYSTEMD_RS_TEST_MODULE=c`.

use super::{Module, World, module_is_c, repo_root, runner};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A temp dir removed on drop unless `keep()` was called.
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("e2e-{tag}-{}-{n}-{nanos}", std::process::id()));
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
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `testbed/setup-host.sh` once per test process (a no-op when the host
/// is ready; it fails loudly instead of letting the tests skip).
pub fn ensure_host() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let out = Command::new(repo_root().join("testbed/setup-host.sh"))
            .output()
            .expect("run testbed/setup-host.sh");
        assert!(
            out.status.success(),
            "testbed/setup-host.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
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
    logind: String,
    world: World,
    envs: Vec<(String, String)>,
    timeout: Duration,
}

impl Testbed {
    pub fn new(name: &str) -> Testbed {
        Testbed {
            name: name.to_string(),
            logind: "elogind".into(),
            world: World::Debian12,
            envs: Vec::new(),
            timeout: Duration::from_secs(120),
        }
    }
    pub fn logind(mut self, kind: &str) -> Testbed {
        self.logind = kind.to_string();
        self
    }
    /// Real systemd as PID 1 of world `w` (`--logind systemd --world ...`).
    pub fn world(mut self, w: World) -> Testbed {
        self.logind = "systemd".into();
        self.world = w;
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Testbed {
        self.envs.push((k.to_string(), v.to_string()));
        self
    }
    pub fn timeout(mut self, t: Duration) -> Testbed {
        self.timeout = t;
        self
    }

    /// Runs `bash -c SCRIPT` in a testbed. `$M` (the module under test) and `$Q`
    /// (testbed/logind-query) are defined for the script.
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
        let state = TempDir::new(&self.name);
        let prelude = r#"set -euo pipefail
case "${PAM_SYSTEMD_RS_TEST_MODULE:-}" in c|C) M="$TESTBED_MODULE_C" ;; *) M="$TESTBED_MODULE_RS" ;; esac
Q="$TESTBED_ROOT/testbed/logind-query"
echo "MODULE=$M"
"#;
        let full = format!("{prelude}{script}");
        let mut cmd = Command::new(repo_root().join("testbed/testbed"));
        cmd.arg("run")
            .arg("--logind")
            .arg(&self.logind)
            .arg("--state")
            .arg(state.path());
        if self.logind == "systemd" {
            cmd.arg("--world").arg(self.world.name());
        }
        cmd.arg("--").arg("bash").arg("-c").arg(&full);
        cmd.env("PAM_SYSTEMD_RS_SO", &so);
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
