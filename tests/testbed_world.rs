//! The testbed itself (`testbed/testbed run --world debian12|debian13|debian14 --logind systemd`):
//!
//! * each world boots REAL systemd as PID 1 (252 on the host's files, 257 in the Debian 13
//!   root, 262 in the Debian 14 root, whose logind also answers on its Varlink socket) in private pid/mount/uts/ipc/net/cgroup namespaces: cgroup2 rooted at the testbed's
//!   own subtree, /sys and /proc/sys read-only, dangerous capabilities out of the bounding set,
//!   `container=` set, only loopback, a pty as /dev/console, private /run and /tmp, the journal
//!   readable, `--logind-conf` and `--unit-dropin` in effect, the world's own C module;
//! * failures of the testbed itself (no cgroup2, no mmdebstrap, no mirror, PID 1 exiting, PID 1
//!   not up within 10 s) end within 30 s with exit 125 and ONE line on stderr;
//! * nothing is left behind — no process, no mount, no cgroup, no temp dir — after a normal run,
//!   after each failure, and after SIGKILL of the runner or of its whole process group (world
//!   and elogind modes).

mod common;

use common::runner::{self, RunnerOutput};
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn testbed(args: &[&str], envs: &[(&str, &str)], timeout: Duration) -> RunnerOutput {
    let mut cmd = Command::new(testbed_runner());
    cmd.arg("run").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    runner::run(cmd, timeout)
}

/// A fresh directory under /tmp for a state dir or TMPDIR, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = PathBuf::from(format!("/tmp/tbw-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The cgroup a world with state dir `state` uses (host path), as testbed/testbed names it.
fn world_cgroup(state: &Path) -> PathBuf {
    let out = Command::new("bash")
        .arg("-c")
        .arg("printf '%s' \"$1\" | md5sum | cut -c1-16")
        .arg("-")
        .arg(state)
        .output()
        .unwrap();
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(|s| s.trim_end_matches('/').to_string()))
        .unwrap_or_default();
    let root = if Path::new("/sys/fs/cgroup/unified/cgroup.procs").exists() {
        "/sys/fs/cgroup/unified"
    } else {
        "/sys/fs/cgroup"
    };
    PathBuf::from(format!("{root}{own}/testbed-{hash}"))
}

/// Everything a testbed with state dir `state` could leave behind: processes mentioning the
/// state dir (argv or environment: the runner, its guardian, the inner script, CMD), host mounts
/// below it, its cgroup, and (when `gone`) the state dir itself.
fn leftovers(state: &Path, gone: bool) -> Vec<String> {
    let needle = state.to_string_lossy().into_owned();
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
            continue;
        }
        for f in ["cmdline", "environ"] {
            let data = std::fs::read(e.path().join(f)).unwrap_or_default();
            if String::from_utf8_lossy(&data).contains(&needle) {
                let cmd = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).unwrap_or_default())
                    .replace('\0', " ");
                found.push(format!("process {pid} ({f}): {cmd}"));
                break;
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for l in mounts.lines().filter(|l| l.contains(&needle)) {
        found.push(format!("mount: {l}"));
    }
    let cg = world_cgroup(state);
    if cg.exists() {
        found.push(format!("cgroup {} still exists", cg.display()));
    }
    if gone && state.exists() {
        found.push(format!("state dir {} still exists", state.display()));
    }
    found
}

/// Waits (bounded) until nothing is left; fails with the list otherwise.
fn assert_clean(state: &Path, gone: bool, within: Duration, ctx: &str) {
    let t = Instant::now();
    loop {
        let l = leftovers(state, gone);
        if l.is_empty() {
            return;
        }
        if t.elapsed() > within {
            panic!("left behind after {:?}:\n{}\n{ctx}", t.elapsed(), l.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ctx(o: &RunnerOutput) -> String {
    format!(
        "exit {:?} timed_out {} elapsed {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status, o.timed_out, o.elapsed, o.stdout, o.stderr
    )
}

/// A failure of the testbed itself: exit 125 within 30 s, one line on stderr naming the cause.
fn assert_setup_failure(o: &RunnerOutput, want: &str) {
    let c = ctx(o);
    assert_eq!(o.code(), 125, "{c}");
    assert!(o.elapsed < Duration::from_secs(30), "took {:?}\n{c}", o.elapsed);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "want exactly one line on stderr\n{c}");
    assert!(
        lines[0].starts_with("testbed: ") && lines[0].contains(want),
        "want {want:?}\n{c}"
    );
}

// ---------------------------------------------------------------------------------------------
// The worlds boot and are isolated
// ---------------------------------------------------------------------------------------------

const PROBE: &str = r#"
echo "comm1=$(cat /proc/1/comm)"
echo "version=$(systemctl --version | head -n 1)"
echo "state=$(systemctl is-system-running)"
echo "cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)"
echo "cgfs=$(stat -f -c %T /sys/fs/cgroup)"
echo "sys_ro=$(findmnt -n -o OPTIONS /sys | cut -d, -f1)"
echo "procsys_ro=$(findmnt -n -o OPTIONS /proc/sys | cut -d, -f1)"
echo "capbnd1=$(sed -n 's/^CapBnd:\s*//p' /proc/1/status)"
echo "container=$(tr '\0' '\n' </proc/1/environ | sed -n 's/^container=//p')"
echo "netdevs=$(ls /sys/class/net | tr '\n' ' ')"
echo "console_major=$(stat -L -c %t /dev/console)"
echo "host_run_marker=$([ -e "/run/$HOST_MARKER" ] && echo visible || echo hidden)"
echo "host_tmp_marker=$([ -e "/tmp/$HOST_MARKER" ] && echo visible || echo hidden)"
echo "stop_delay=$(busctl --system get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager UserStopDelayUSec)"
echo "user0_exec=$(systemctl show -p ExecStart --value user@0.service | grep -o 'path=[^ ;]*' | tr '\n' ' ')"
echo "journal_seat=$(journalctl -b --no-pager -u systemd-logind | grep -c 'New seat seat0')"
echo "module_c=$TESTBED_MODULE_C"
echo "module_c_exists=$([ -e "$TESTBED_MODULE_C" ] && echo yes)"
echo "module_rs_dir_visible=$([ -d "$(dirname "$TESTBED_MODULE_RS")" ] && echo yes)"
echo "libpam_systemd=$(dpkg-query -W -f '${Version}' libpam-systemd)"
echo "world=$TESTBED_WORLD"
echo "user1=$TESTBED_USER1 $(getent passwd "$TESTBED_USER1" | cut -d: -f3,6)"
echo "home_owner=$(stat -c %U "/home/$TESTBED_USER1")"
echo "state_visible=$([ -d "$TESTBED_STATE" ] && echo yes)"
echo "machine_id=$(cat /etc/machine-id)"
if [ -S /run/systemd/io.systemd.Login ]; then
  echo "varlink_login=$(varlinkctl info /run/systemd/io.systemd.Login | sed -n 's/^ *\(Product\|Version\): //p' | tr '\n' ' ')"
else
  echo "varlink_login=absent"
fi
echo "userdbd=$([ -S /run/systemd/userdb/io.systemd.Multiplexer ] && echo listening || echo absent)"
"#;

fn kv<'a>(out: &'a str, k: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{k}=")))
        .unwrap_or_else(|| panic!("no {k}= in\n{out}"))
}

fn boots_isolated(world: World) {
    let state = Dir::new(&format!("iso-{}", world.name()));
    let marker = format!("testbed-host-marker-{}", std::process::id());
    std::fs::write(format!("/run/{marker}"), "").unwrap();
    std::fs::write(format!("/tmp/{marker}"), "").unwrap();
    let o = testbed(
        &[
            "--world",
            world.name(),
            "--logind",
            "systemd",
            "--state",
            state.s(),
            "--logind-conf",
            "UserStopDelaySec=0",
            "--unit-dropin",
            "user@0.service:[Service]\\nExecStart=\\nExecStart=/bin/false",
            "--",
            "bash",
            "-c",
            PROBE,
        ],
        &[("HOST_MARKER", &marker)],
        Duration::from_secs(120),
    );
    let _ = std::fs::remove_file(format!("/run/{marker}"));
    let _ = std::fs::remove_file(format!("/tmp/{marker}"));
    let c = ctx(&o);
    assert_eq!(o.code(), 0, "{c}");
    let out = o.stdout.as_str();
    assert_eq!(kv(out, "comm1"), "systemd", "{c}");
    assert!(
        kv(out, "version").starts_with(&format!("systemd {} ", world.systemd_version())),
        "{c}"
    );
    assert!(matches!(kv(out, "state"), "running" | "degraded"), "{c}");
    assert_eq!(kv(out, "cgroup"), "/testbed-exec", "{c}");
    assert_eq!(kv(out, "cgfs"), "cgroup2fs", "{c}");
    assert_eq!(kv(out, "sys_ro"), "ro", "{c}");
    assert_eq!(kv(out, "procsys_ro"), "ro", "{c}");
    let bnd = u64::from_str_radix(kv(out, "capbnd1"), 16).unwrap();
    for (bit, name) in [(16, "sys_module"), (17, "sys_rawio"), (25, "sys_time"), (34, "syslog")] {
        assert_eq!(
            bnd & (1 << bit),
            0,
            "PID 1 still has CAP_{name} in its bounding set\n{c}"
        );
    }
    assert_ne!(bnd & (1 << 21), 0, "CAP_SYS_ADMIN is needed by PID 1\n{c}");
    assert_eq!(kv(out, "container"), format!("testbed-{}", world.name()), "{c}");
    assert_eq!(kv(out, "netdevs").trim(), "lo", "{c}");
    assert_eq!(
        kv(out, "console_major"),
        "88",
        "/dev/console is not a pty (major 136)\n{c}"
    );
    assert_eq!(kv(out, "host_run_marker"), "hidden", "{c}");
    assert_eq!(kv(out, "host_tmp_marker"), "hidden", "{c}");
    assert_eq!(kv(out, "stop_delay"), "t 0", "--logind-conf not in effect\n{c}");
    assert_eq!(
        kv(out, "user0_exec").trim(),
        "path=/bin/false",
        "--unit-dropin not in effect\n{c}"
    );
    assert_eq!(kv(out, "journal_seat"), "1", "journal not readable\n{c}");
    assert_eq!(kv(out, "module_c_exists"), "yes", "{c}");
    assert_eq!(kv(out, "module_rs_dir_visible"), "yes", "{c}");
    // Debian's versions: 252.38-1~deb12u1, 257.13-1~deb13u1, 262-1.
    let upstream = kv(out, "libpam_systemd").split(['.', '-']).next().unwrap_or_default();
    assert_eq!(
        upstream,
        world.systemd_version().to_string(),
        "the world's C module is not {}'s\n{c}",
        world.systemd_version()
    );
    // logind's Varlink socket (258+): there, and logind answers on it; absent before.
    if world.logind_varlink() {
        assert_eq!(
            kv(out, "varlink_login").trim(),
            format!(
                "systemd (systemd-logind) {} ({})",
                world.systemd_version(),
                kv(out, "libpam_systemd")
            ),
            "logind does not answer on /run/systemd/io.systemd.Login\n{c}"
        );
    } else {
        assert_eq!(kv(out, "varlink_login"), "absent", "{c}");
    }
    // systemd-userdbd: installed in the Debian 13 and 14 roots (users from userdb), started by
    // their PID 1; Debian 12's world has none.
    let userdbd = if world.systemd_version() >= 257 {
        "listening"
    } else {
        "absent"
    };
    assert_eq!(kv(out, "userdbd"), userdbd, "{c}");
    assert_eq!(kv(out, "world"), world.name(), "{c}");
    assert!(kv(out, "user1").starts_with("pamtest1 59"), "{c}");
    assert_eq!(kv(out, "home_owner"), "pamtest1", "{c}");
    assert_eq!(kv(out, "state_visible"), "yes", "{c}");
    let host_id = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    assert_ne!(kv(out, "machine_id"), host_id.trim(), "{c}");
    // The runner's own records in the kept state dir.
    let boot = std::fs::read_to_string(state.0.join("boot.log")).unwrap_or_default();
    eprintln!(
        "[{}] {}",
        world.name(),
        boot.lines().find(|l| l.contains(" up in ")).unwrap_or("?")
    );
    assert!(
        std::fs::read_to_string(state.0.join("journal.log"))
            .unwrap_or_default()
            .contains("systemd-logind"),
        "journal.log not written\n{c}"
    );
    assert_clean(&state.0, false, Duration::from_secs(5), &c);
}

#[test]
fn debian12_boots_real_systemd_252_isolated() {
    boots_isolated(World::Debian12);
}

#[test]
fn debian13_boots_real_systemd_257_isolated() {
    boots_isolated(World::Debian13);
}

#[test]
fn debian14_boots_real_systemd_262_isolated() {
    boots_isolated(World::Debian14);
}

#[test]
fn command_status_and_temp_state_dir() {
    // CMD's exit status comes back; the temp state dir ($TMPDIR/testbed.*) is removed.
    let tmp = Dir::new("tmpdir");
    let o = testbed(
        &[
            "--logind",
            "systemd",
            "--",
            "bash",
            "-c",
            "echo \"S=$TESTBED_STATE\"; exit 7",
        ],
        &[("TMPDIR", tmp.s())],
        Duration::from_secs(60),
    );
    let c = ctx(&o);
    assert_eq!(o.code(), 7, "{c}");
    let state = PathBuf::from(kv(&o.stdout, "S"));
    assert!(state.starts_with(&tmp.0), "{c}");
    assert_clean(&state, true, Duration::from_secs(5), &c);
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 0, "{c}");
}

// ---------------------------------------------------------------------------------------------
// Failures of the testbed itself
// ---------------------------------------------------------------------------------------------

/// `testbed run ARGS --state DIR -- true` with `envs` (DIR a fresh state dir): a failure of the
/// testbed itself naming `want`, with nothing left behind.
fn setup_fails(tag: &str, args: &[&str], envs: &[(&str, &str)], want: &str) -> RunnerOutput {
    let state = Dir::new(tag);
    let args = [args, &["--state", state.s(), "--", "true"]].concat();
    let o = testbed(&args, envs, Duration::from_secs(40));
    assert_setup_failure(&o, want);
    assert_clean(&state.0, false, Duration::from_secs(5), &ctx(&o));
    o
}

#[test]
fn no_cgroup2_is_exit_125() {
    setup_fails(
        "nocg2",
        &["--logind", "systemd"],
        &[("TESTBED_CGROUP2", "/tmp")],
        "no cgroup2 hierarchy",
    );
}

#[test]
fn mmdebstrap_missing_is_exit_125() {
    let cache = Dir::new("nommdeb-cache");
    setup_fails(
        "nommdeb",
        &["--world", "debian13", "--logind", "systemd"],
        &[
            ("PAM_SYSTEMD_RS_CACHE_ROOT", cache.s()),
            ("PAM_SYSTEMD_RS_MMDEBSTRAP", "mmdebstrap-is-not-installed"),
        ],
        "mmdebstrap-is-not-installed is not installed",
    );
}

/// A world whose root cannot be built (the mirror unreachable): setup fails with one line (exit
/// 125) naming mmdebstrap and the suite, and no half-built root is left in the cache.
fn unreachable_mirror(world: &str, suite: &str) {
    let cache = Dir::new(&format!("nomirror-{world}-cache"));
    setup_fails(
        &format!("nomirror-{world}"),
        &["--world", world, "--logind", "systemd"],
        &[
            ("PAM_SYSTEMD_RS_CACHE_ROOT", cache.s()),
            ("PAM_SYSTEMD_RS_MIRROR", "http://127.0.0.1:9/debian"),
        ],
        &format!("mmdebstrap {suite} failed"),
    );
    let roots: Vec<_> = std::fs::read_dir(cache.0.join("roots"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !roots
            .iter()
            .any(|n| n.to_string_lossy().contains("building") || n == world),
        "{roots:?}"
    );
}

#[test]
fn unreachable_mirror_is_exit_125() {
    unreachable_mirror("debian13", "trixie");
}

#[test]
fn unreachable_mirror_debian14_is_exit_125() {
    // The forky recipe (its own apt options) fails the same way.
    unreachable_mirror("debian14", "forky");
}

#[test]
fn pid1_exiting_during_boot_is_exit_125() {
    setup_fails(
        "p1exit",
        &["--logind", "systemd"],
        &[("TESTBED_SYSTEMD", "/bin/false")],
        "exited during boot",
    );
}

#[test]
fn pid1_not_up_within_10s_is_exit_125() {
    // logind's start never finishes: the boot does not complete.
    let o = setup_fails(
        "p1slow",
        &[
            "--logind",
            "systemd",
            "--unit-dropin",
            "systemd-logind.service:[Service]\\nExecStartPre=/bin/sleep 60",
        ],
        &[],
        "was not up within 10 s",
    );
    assert!(o.elapsed >= Duration::from_secs(10), "{}", ctx(&o));
}

// ---------------------------------------------------------------------------------------------
// SIGKILL of the runner (review T7): nothing may survive it
// ---------------------------------------------------------------------------------------------

/// Kills the process group of a runner a test started, if the test fails before it ends.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        runner::kill_group(self.0, "TERM");
    }
}

/// A runner started as `run ARGS -- CMD` in a process group of its own, with CMD (writing its
/// state dir into `ready` and sleeping) running.
struct Sleeping {
    child: std::process::Child,
    _guard: GroupGuard,
    ready: PathBuf,
    state: PathBuf,
}

/// Starts the runner (TMPDIR and the ready file in `tmp`) and waits until CMD runs.
fn start_sleeping(tmp: &Dir, args: &[&str]) -> Sleeping {
    let ready = tmp.0.join("ready");
    let mut cmd = Command::new(testbed_runner());
    cmd.arg("run")
        .args(args)
        .args(["--", "bash", "-c", "echo \"$TESTBED_STATE\" >\"$READY\"; sleep 600"]);
    cmd.env("TMPDIR", tmp.s()).env("READY", &ready);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().unwrap();
    let guard = GroupGuard(child.id());
    let t = Instant::now();
    let state = loop {
        if let Ok(s) = std::fs::read_to_string(&ready)
            && !s.trim().is_empty()
        {
            break PathBuf::from(s.trim());
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("testbed ended before CMD ran: {st:?}");
        }
        assert!(t.elapsed() < Duration::from_secs(60), "CMD never ran");
        std::thread::sleep(Duration::from_millis(50));
    };
    Sleeping {
        child,
        _guard: guard,
        ready,
        state,
    }
}

/// Starts a testbed whose CMD signals readiness and then sleeps; kills the runner (or its whole
/// process group) with SIGKILL once CMD runs; checks that everything disappears.
fn sigkill_case(logind: &str, world: World, whole_group: bool) {
    let tmp = Dir::new(&format!("kill-{logind}"));
    let mut args = vec!["--logind", logind];
    if logind == "systemd" {
        // The world's /tmp is private: bind the dir of the ready file.
        args.extend(["--world", world.name(), "--bind", tmp.s()]);
    }
    let fake = testkit_bin("fake-logind");
    args.extend(["--fake-bin", fake.to_str().unwrap()]);
    let mut s = start_sleeping(&tmp, &args);
    assert!(
        !leftovers(&s.state, true).is_empty(),
        "the check sees nothing while the testbed runs"
    );
    if whole_group {
        runner::kill_group(s.child.id(), "KILL");
    } else {
        let _ = s.child.kill();
    }
    let _ = s.child.wait();
    assert_clean(&s.state, true, Duration::from_secs(15), "after SIGKILL of the runner");
    let _ = std::fs::remove_file(&s.ready);
    assert_eq!(
        std::fs::read_dir(&tmp.0).unwrap().count(),
        0,
        "temp state dir left in $TMPDIR"
    );
}

#[test]
fn sigkill_runner_debian12_world_leaves_nothing() {
    sigkill_case("systemd", World::Debian12, false);
}

#[test]
fn sigkill_process_group_debian13_world_leaves_nothing() {
    sigkill_case("systemd", World::Debian13, true);
}

#[test]
fn sigkill_runner_debian14_world_leaves_nothing() {
    sigkill_case("systemd", World::Debian14, false);
}

#[test]
fn sigkill_runner_elogind_leaves_nothing() {
    sigkill_case("elogind", World::Debian12, false);
}

#[test]
fn sigkill_process_group_fake_leaves_nothing() {
    let _ = testkit_dir();
    sigkill_case("fake", World::Debian12, true);
}

#[test]
fn sigterm_runner_stops_world_with_143() {
    let tmp = Dir::new("term");
    let mut s = start_sleeping(&tmp, &["--logind", "systemd", "--bind", tmp.s()]);
    let _ = Command::new("kill").arg("-TERM").arg(s.child.id().to_string()).status();
    let st = s.child.wait().unwrap();
    assert_eq!(st.code(), Some(143));
    let _ = std::fs::remove_file(&s.ready);
    assert_clean(&s.state, true, Duration::from_secs(5), "after SIGTERM of the runner");
}
