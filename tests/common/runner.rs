//! The one way the tests start `testbed/testbed run` (and the other long helpers: `setup-host.sh`,
//! `build-root`): in its own process group, stdout/stderr captured, bounded in time. On timeout the whole group gets SIGTERM (the runner stops the
//! world and removes its cgroup), then SIGKILL after a grace period (the runner's guardian and
//! PR_SET_PDEATHSIG clean up after that).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Grace between SIGTERM and SIGKILL of a timed-out runner.
pub const GRACE: Duration = Duration::from_secs(10);

pub struct RunnerOutput {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl RunnerOutput {
    /// The exit code; -1 for a timeout or a signal.
    pub fn code(&self) -> i32 {
        self.status.and_then(|s| s.code()).unwrap_or(-1)
    }
}

/// Signals the process group `pgid`.
pub fn kill_group(pgid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status();
}

/// Runs `cmd` (normally `testbed/testbed run ...`) with stdin from /dev/null and returns what it
/// printed; on timeout the process group is stopped as described above.
pub fn run(mut cmd: Command, timeout: Duration) -> RunnerOutput {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", cmd.get_program().to_string_lossy()));
    let pgid = child.id();
    let mut so = child.stdout.take().expect("stdout pipe");
    let mut se = child.stderr.take().expect("stderr pipe");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                timed_out = true;
                kill_group(pgid, "TERM");
                let grace = Instant::now();
                loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    if grace.elapsed() > GRACE {
                        kill_group(pgid, "KILL");
                        let _ = child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                break None;
            }
        }
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    RunnerOutput {
        status,
        timed_out,
        stdout,
        stderr,
        elapsed: start.elapsed(),
    }
}

/// What answers as logind in a testbed (`--logind ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logind {
    /// The testkit's fake logind (`fake-logind`), on the host's files.
    Fake,
    /// elogind 246, on the host's files.
    Elogind,
    /// No logind at all.
    None,
    /// Real systemd as PID 1 of a [`World`], its own logind.
    Systemd,
}

impl Logind {
    /// The value of `testbed/testbed run --logind`.
    pub fn arg(self) -> &'static str {
        match self {
            Logind::Fake => "fake",
            Logind::Elogind => "elogind",
            Logind::None => "none",
            Logind::Systemd => "systemd",
        }
    }
}

/// The system a `--logind systemd` testbed boots: real systemd as PID 1 with its own logind and
/// its own C pam_systemd.so (the reference for the differential tests). A new world is a variant
/// here plus its row in [`World::ALL`] and in `WORLDS` of testbed/world.sh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// The host's Debian 12 files: systemd 252.
    Debian12,
    /// The cached Debian 13 root (`testbed/build-root debian13`): systemd 257.
    Debian13,
    /// The cached Debian 14 (forky) root (`testbed/build-root debian14`): systemd 262, whose
    /// logind answers on Varlink (`/run/systemd/io.systemd.Login`) and D-Bus.
    Debian14,
}

impl World {
    /// Every world: (world, its `--world` name, the systemd version it runs).
    const ALL: [(World, &'static str, u32); 3] = [
        (World::Debian12, "debian12", 252),
        (World::Debian13, "debian13", 257),
        (World::Debian14, "debian14", 262),
    ];

    fn row(self) -> (World, &'static str, u32) {
        Self::ALL
            .into_iter()
            .find(|r| r.0 == self)
            .expect("every World has its row in World::ALL")
    }
    pub fn name(self) -> &'static str {
        self.row().1
    }
    /// The systemd version the world runs.
    pub fn systemd_version(self) -> u32 {
        self.row().2
    }
    /// Its logind registers sessions over Varlink (`io.systemd.Login`, systemd ≥ 258).
    pub fn logind_varlink(self) -> bool {
        self.systemd_version() >= 258
    }
}
