//! Load and leaks (issue 5.3).
//!
//! * 64 concurrent logins against elogind in one testbed: 64 pamclient processes open at once,
//!   each holds its session for a while, then closes. Every session must be created (64 at once
//!   in elogind's ListSessions), released, and gone afterwards; no module error line.
//! * Many open/close cycles in ONE process (`tests/c/loop_client.c`) under valgrind memcheck,
//!   against the fake logind: no definite leak, no invalid access, no fd growth except the
//!   session FIFOs that pam_systemd deliberately keeps until exit (one per session, as the C
//!   module does), exactly one thread throughout. The cycle count is
//!   `$PAM_SYSTEMD_RS_LEAK_CYCLES` (default 200). Every cycle loads and unloads the module
//!   (pam_end's dlclose() really unloads it), and valgrind reads its debug info at each load:
//!   about 0.5 s per cycle on the 2-core machine. A definite leak shows in any number of cycles.
//!
//! * 64 concurrent logins against REAL systemd as PID 1 (Debian 12's 252 and Debian 13's 257):
//!   PID 1 creates 64 session scopes, starts user@ for both users; every login must get its own
//!   session and runtime dir, all 64 listed at once, all gone after the clients exit.
//!
//! These scripts run through the harness's script builder (`common::testbed`), not
//! `common::Case`, which runs one client.

mod common;

use common::testbed;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The one-process cycle client (`tests/c/loop_client.c`), with debug info for valgrind.
fn loop_client() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile_c("tests/c/loop_client.c", "loop_client", &["-g", "-lpam", "-lpam_misc"]))
        .clone()
}

/// A finished load run: the testbed's [`testbed::Run`] (state dir, stdout, exit) and its readings.
struct Load(testbed::Run);

impl Load {
    fn file(&self, name: &str) -> String {
        self.0.file(name)
    }
    /// The script's exit code (None: timed out or killed).
    fn rc(&self) -> Option<i32> {
        if self.0.timed_out {
            None
        } else {
            self.0.status.and_then(|s| s.code())
        }
    }
    /// `key=value` from the script's stdout (the last one).
    fn val(&self, key: &str) -> Option<String> {
        self.0
            .stdout
            .split_whitespace()
            .filter_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .next_back()
            .map(str::to_string)
    }
    fn num(&self, key: &str) -> i64 {
        self.val(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key}= in\n{}", self.0.stdout))
    }
    /// What a failed check shows: exit, time, the script's stdout and the runner's stderr.
    fn ctx(&self) -> String {
        format!(
            "rc={:?} elapsed={:?}\n{}\n{}",
            self.rc(),
            self.0.elapsed,
            self.0.stdout,
            self.0.stderr
        )
    }
    fn module_lines(&self) -> Vec<SyslogLine> {
        self.file("syslog.log")
            .lines()
            .map(parse_syslog_line)
            .filter(|l| l.is_module())
            .collect()
    }
}

/// Runs `script` (bash) in a fresh testbed (`logind`: elogind/fake, or real systemd of `world`);
/// `$S` (the state dir), `$Q` (testbed/logind-query) and `$TESTBED_MODULE_PATH` (our module)
/// are set there.
fn testbed(name: &str, logind: Logind, world: World, script: &str, limit: Duration) -> Load {
    let _ = testkit_dir();
    let m = Module::rs_built();
    let mut full = String::from("set -u\nS=\"$TESTBED_STATE\"\nmkdir -p \"$S/pam.conf.d\"\n");
    full.push_str(&format!(
        "TB={}\nQ={}\n",
        shell_quote(testbed_runner()),
        shell_quote(repo_root().join("testbed/logind-query"))
    ));
    full.push_str(script);
    full.push_str("\n\"$TB\" syslog-sync || true\nexit 0\n");
    let mut tb = testbed::Testbed::new(&format!("pamsd-load-{name}"))
        .logind(logind)
        .env("TESTBED_MODULE_PATH", &m.path)
        .env("PAM_SYSTEMD_RS_SO", &m.path)
        .timeout(limit);
    if logind == Logind::Systemd {
        tb = tb.world(world);
    }
    Load(tb.run_script(&full))
}

const N: usize = 64;

/// Shell for the start of a concurrent run: the pamtest stack with our module, then N pamclient
/// logins in the background (users 1 and 2 in turn, tty pts/<i>, output in $S/c<i>.out), each
/// holding its session `hold` seconds, their pids in $pids; then up to `tries` polls, 50 ms
/// apart, of `count` (the sessions held) until all N are held: the most seen is `held_max=`.
fn start_logins(hold: u32, count: &str, tries: u32) -> String {
    format!(
        r#"M="$TESTBED_MODULE_PATH"
printf 'session required %s debug timeout=60\n' "$M" > "$S/pam.conf.d/pamtest"
pids=""
for i in $(seq {N}); do
  u=$TESTBED_USER1; [ $((i % 2)) = 0 ] && u=$TESTBED_USER2
  {client} --confdir "$S/pam.conf.d" --service pamtest --user "$u" --item tty=pts/$i \
      --sleep-after-open {hold} >"$S/c$i.out" 2>&1 </dev/null &
  pids="$pids $!"
done
max=0
for t in $(seq {tries}); do
  n={count}
  [ "$n" -gt "$max" ] && max=$n
  [ "$n" -ge {N} ] && break
  sleep 0.05
done
echo "held_max=$max""#,
        client = shell_quote(pamclient()),
    )
}

/// Every client of a concurrent run (`c1.out` … `c64.out`) opened and closed with rc 0, has a
/// line for which `also` holds (`what` it shows), and got a session id no other client got.
fn assert_clients(r: &Load, what: &str, also: impl Fn(&str) -> bool) {
    let mut ids = std::collections::BTreeSet::new();
    for i in 1..=N {
        let out = r.file(&format!("c{i}.out"));
        assert!(out.lines().any(|l| l == "open_rc=0"), "client {i}:\n{out}");
        assert!(out.lines().any(|l| l == "close_rc=0"), "client {i}:\n{out}");
        assert!(out.lines().any(&also), "client {i}: no {what}\n{out}");
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("env=XDG_SESSION_ID="))
            .unwrap_or_else(|| panic!("client {i}:\n{out}"));
        assert!(ids.insert(id.to_string()), "session id {id} handed out twice");
    }
    assert_eq!(ids.len(), N);
}

/// The module's lines of a concurrent run: one "Reply from logind" per login, and no line at
/// LOG_WARNING or worse.
fn assert_replies_quiet(lines: &[&SyslogLine]) {
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.text.starts_with("Reply from logind: "))
            .count(),
        N
    );
    let bad: Vec<_> = lines
        .iter()
        .filter(|l| l.severity() <= LOG_WARNING)
        .map(|l| l.raw.clone())
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn sixty_four_concurrent_logins_against_elogind() {
    let script = format!(
        r#"
{start}
"$Q" sessions >"$S/during.txt" 2>&1
for p in $pids; do wait "$p"; done
if "$Q" wait-empty 30; then echo "empty=1"; else echo "empty=0"; fi
echo "after=$("$Q" ids 2>/dev/null | wc -l)"
"#,
        start = start_logins(10, r#"$("$Q" ids 2>/dev/null | wc -l)"#, 300),
    );
    let r = testbed(
        "concurrent",
        Logind::Elogind,
        World::Debian12,
        &script,
        Duration::from_secs(180),
    );
    let ctx = r.ctx();
    assert_eq!(r.rc(), Some(0), "{ctx}");
    eprintln!(
        "64 logins: held at once {}, whole run {:?}",
        r.num("held_max"),
        r.0.elapsed
    );
    assert_eq!(
        r.num("held_max"),
        N as i64,
        "not all sessions held at once\n{ctx}\n{}",
        r.file("during.txt")
    );
    assert_eq!(r.num("empty"), 1, "sessions left over\n{ctx}");
    assert_eq!(r.num("after"), 0, "{ctx}");
    // Every client: open 0, close 0, its own session id, one thread.
    assert_clients(&r, "one thread", |l| l == "threads=1");
    // The module's own account: 64 replies, no error or warning line.
    assert_replies_quiet(&r.module_lines().iter().collect::<Vec<_>>());
}

fn leak_cycles() -> u32 {
    std::env::var("PAM_SYSTEMD_RS_LEAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

#[test]
fn open_close_cycles_under_valgrind_leak_nothing() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        panic!("valgrind is not installed (apt-get install valgrind)");
    }
    let cycles = leak_cycles();
    let script = format!(
        r#"
M="$TESTBED_MODULE_PATH"
printf 'session required %s timeout=30\n' "$M" > "$S/pam.conf.d/pamtest"
echo session_busy_on_second=0 >"$S/fake.conf"
ulimit -n {nofile}
t0=$(date +%s)
valgrind --quiet --keep-debuginfo=yes --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=99 --log-file="$S/valgrind.log" \
    {client} --confdir "$S/pam.conf.d" --service pamtest --user "$TESTBED_USER1" --cycles {cycles} \
    >"$S/loop.out" 2>"$S/loop.err" </dev/null
echo "vg_rc=$?"
echo "vg_secs=$(( $(date +%s) - t0 ))"
cat "$S/loop.out"
echo "creates=$(grep -c '"method":"CreateSession"' "$S/fake-calls.jsonl")"
echo "releases=$(grep -c '"method":"ReleaseSession"' "$S/fake-calls.jsonl")"
"#,
        client = shell_quote(loop_client()),
        nofile = cycles + 256,
    );
    let r = testbed(
        "valgrind",
        Logind::Fake,
        World::Debian12,
        &script,
        Duration::from_secs(1800),
    );
    let ctx = format!(
        "rc={:?} elapsed={:?}\n{}\n--- valgrind ---\n{}\n--- loop.err ---\n{}",
        r.rc(),
        r.0.elapsed,
        r.0.stdout,
        r.file("valgrind.log"),
        r.file("loop.err")
    );
    assert_eq!(r.rc(), Some(0), "{ctx}");
    eprintln!("valgrind: {cycles} cycles in {} s", r.num("vg_secs"));
    assert_eq!(r.num("vg_rc"), 0, "valgrind found errors or definite leaks\n{ctx}");
    assert_eq!(r.num("cycles"), i64::from(cycles), "{ctx}");
    assert_eq!(r.num("open_ok"), i64::from(cycles), "{ctx}");
    assert_eq!(r.num("close_ok"), i64::from(cycles), "{ctx}");
    assert_eq!(r.num("creates"), i64::from(cycles), "{ctx}");
    assert_eq!(r.num("releases"), i64::from(cycles), "{ctx}");
    // fds: only the session FIFOs accumulate (one per session, kept on purpose).
    // The first cycle may leave one more fd for good: glibc's syslog socket (openlog() on the
    // first log line, kept open as for any syslog(3) user). After that, nothing grows.
    assert!(
        r.num("non_fifo_growth_max") <= 1,
        "fd growth besides the session FIFOs\n{ctx}"
    );
    assert_eq!(
        r.num("non_fifo_after_first"),
        r.num("non_fifo_end"),
        "fds grow per cycle\n{ctx}"
    );
    assert_eq!(r.num("fifos_end") - r.num("fifos_start"), i64::from(cycles), "{ctx}");
    assert_eq!(r.num("threads_start"), 1, "{ctx}");
    assert_eq!(r.num("threads_max"), 1, "a thread appeared\n{ctx}");
}

/// 64 concurrent logins with our module against real systemd (PID 1, logind, user@, scopes).
fn concurrent_logins_real_systemd(world: World) {
    let script = format!(
        r#"
# Sessions with a tty are the clients' (on 257 the user managers have sessions of their own).
held() {{ loginctl list-sessions --no-legend 2>/dev/null | grep -c ' pts/' || true; }}
{start}
loginctl list-sessions --no-legend >"$S/during.txt" 2>&1
# The scopes' cgroups PID 1 made (read from cgroupfs: no D-Bus call to a busy PID 1), polled for
# up to 5 s while the sessions are held: the most seen at once.
scopes=0
for t in $(seq 50); do
  n=$(ls -d /sys/fs/cgroup/user.slice/user-*.slice/session-*.scope 2>/dev/null | wc -l)
  [ "$n" -gt "$scopes" ] && scopes=$n
  [ "$scopes" -ge {N} ] && break
  sleep 0.1
done
echo "scopes=$scopes"
for p in $pids; do wait "$p"; done
for t in $(seq 300); do [ "$(held)" = 0 ] && break; sleep 0.1; done
echo "after=$(held)"
"#,
        start = start_logins(15, "$(held)", 600),
    );
    let r = testbed(
        &format!("concurrent-{}", world.name()),
        Logind::Systemd,
        world,
        &script,
        Duration::from_secs(240),
    );
    let ctx = r.ctx();
    assert_eq!(r.rc(), Some(0), "{ctx}");
    eprintln!(
        "{}: 64 logins against real systemd {}: held at once {}, scopes {}, whole run {:?}",
        world.name(),
        world.systemd_version(),
        r.num("held_max"),
        r.num("scopes"),
        r.0.elapsed
    );
    assert_eq!(
        r.num("held_max"),
        N as i64,
        "not all sessions held at once\n{ctx}\n{}",
        r.file("during.txt")
    );
    assert!(
        r.num("scopes") >= N as i64,
        "PID 1 did not run a scope per session\n{ctx}"
    );
    assert_eq!(r.num("after"), 0, "sessions left over\n{ctx}");
    assert_clients(&r, "runtime dir", |l| l.starts_with("env=XDG_RUNTIME_DIR=/run/user/"));
    // Our module's lines (the world's C module logs too).
    let lines = r.module_lines();
    let ours: Vec<_> = lines
        .iter()
        .filter(|l| l.raw.contains("pam_systemd_rs(pamtest:"))
        .collect();
    assert_replies_quiet(&ours);
}

#[test]
fn sixty_four_concurrent_logins_against_real_systemd_252() {
    concurrent_logins_real_systemd(World::Debian12);
}

#[test]
fn sixty_four_concurrent_logins_against_real_systemd_257() {
    concurrent_logins_real_systemd(World::Debian13);
}
