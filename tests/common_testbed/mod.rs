//! Helpers for integration tests that run a shell script inside `testbed/testbed`
//! (private mount + pid namespace, system bus, elogind or a fake logind).
//!
//! Only std is used. Each run gets its own state dir, a bounded run time (the
//! whole testbed process group gets SIGTERM, then SIGKILL), and on failure the
//! state dir's logs are printed before the panic.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Repository root (where Cargo.toml and testbed/ live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Which module the end-to-end tests load: ours by default, Debian's C module
/// when `E2E_MODULE=c` (for checking the tests themselves).
pub fn module_is_c() -> bool {
    std::env::var("E2E_MODULE").map(|v| v == "c").unwrap_or(false)
}

/// Our module: `$PAM_SYSTEMD_RS_SO`, else the debug cdylib `cargo test` builds.
/// Cargo leaves that one next to the test binary (`target/debug/deps/`, it is
/// only copied to `target/debug/` by `cargo build`), so prefer that copy: it is
/// the one built from the sources under test, in whatever target dir is used.
pub fn module_rs() -> PathBuf {
    if let Some(p) = std::env::var_os("PAM_SYSTEMD_RS_SO").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let next_to_test = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("libpam_systemd_rs.so")))
        .filter(|p| p.exists());
    next_to_test.unwrap_or_else(|| repo_root().join("target/debug/libpam_systemd_rs.so"))
}

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
    envs: Vec<(String, String)>,
    timeout: Duration,
}

impl Testbed {
    pub fn new(name: &str) -> Testbed {
        Testbed {
            name: name.to_string(),
            logind: "elogind".into(),
            envs: Vec::new(),
            timeout: Duration::from_secs(120),
        }
    }
    pub fn logind(mut self, kind: &str) -> Testbed {
        self.logind = kind.to_string();
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
        let so = module_rs();
        if !module_is_c() {
            assert!(
                so.exists(),
                "module {} missing: run `cargo build` (or set PAM_SYSTEMD_RS_SO, or E2E_MODULE=c to test the C module)",
                so.display()
            );
        }
        let state = TempDir::new(&self.name);
        let prelude = r#"set -euo pipefail
if [ "${E2E_MODULE:-}" = c ]; then M="$TESTBED_MODULE_C"; else M="$TESTBED_MODULE_RS"; fi
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
        cmd.arg("--").arg("bash").arg("-c").arg(&full);
        cmd.env("PAM_SYSTEMD_RS_SO", &so);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Own process group, so a timeout can stop the runner and everything below it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn testbed/testbed");
        let pgid = child.id();
        let mut so_pipe = child.stdout.take().unwrap();
        let mut se_pipe = child.stderr.take().unwrap();
        let t_out = thread::spawn(move || {
            let mut s = Vec::new();
            let _ = so_pipe.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        let t_err = thread::spawn(move || {
            let mut s = Vec::new();
            let _ = se_pipe.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        let mut timed_out = false;
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait testbed") {
                break Some(st);
            }
            if start.elapsed() > self.timeout {
                timed_out = true;
                // SIGTERM lets the runner clean up (daemons, cgroups); SIGKILL after 10 s.
                let _ = Command::new("kill").arg("-TERM").arg(format!("-{pgid}")).status();
                let grace = Instant::now();
                loop {
                    if child.try_wait().expect("wait testbed").is_some() {
                        break;
                    }
                    if grace.elapsed() > Duration::from_secs(10) {
                        let _ = Command::new("kill").arg("-KILL").arg(format!("-{pgid}")).status();
                        let _ = child.wait();
                        break;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                break None;
            }
            thread::sleep(Duration::from_millis(50));
        };
        let stdout = t_out.join().unwrap_or_default();
        let stderr = t_err.join().unwrap_or_default();
        Run {
            name: self.name,
            status,
            timed_out,
            stdout,
            stderr,
            state,
            elapsed: start.elapsed(),
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
        for f in ["logind.log", "dbus.log", "syslog.log", "ssh/sshd.log"] {
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
