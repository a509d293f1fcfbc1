//! What one case run left behind, parsed: the client's report (return codes, PAM environment,
//! fds, threads, conversation), the helper module's PAM data dumps, the fake logind's records and
//! the syslog lines; and the PAM codes the tests expect.

use super::{Impl, SyslogLine, is_text_with_details, parse_syslog_line};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdInfo {
    pub fd: i32,
    pub cloexec: bool,
    pub kind: String,
}

/// The process settings pamclient reports at a step (`umask<tag>=`, `nice<tag>=`,
/// `rlimit<tag>=NAME CUR:MAX`): what a user record's umask, niceLevel and resourceLimits change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessState {
    /// Octal as /proc shows it, e.g. "0022" ("?" if unreadable); None when not reported.
    pub umask: Option<String>,
    /// The nice level ("?" on error).
    pub nice: Option<String>,
    /// (NAME, "CUR:MAX") in resource-number order; RLIM_INFINITY is "infinity".
    pub rlimits: Vec<(String, String)>,
}

impl ProcessState {
    /// The limit `name` (e.g. "NOFILE") as "CUR:MAX".
    pub fn rlimit(&self, name: &str) -> Option<&str> {
        self.rlimits.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn parse_rlimit_line(v: &str) -> (String, String) {
    match v.split_once(' ') {
        Some((n, l)) => (n.to_string(), l.to_string()),
        None => (v.to_string(), String::new()),
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
    /// The process settings at start, after open, after the second open, after close.
    pub process_before: ProcessState,
    pub process: ProcessState,
    pub process2: ProcessState,
    pub process_after_close: ProcessState,
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

impl Outcome {
    pub(super) fn collect(state: &Path, kind: Impl, runner_rc: i32, runner_log: String, elapsed: Duration) -> Outcome {
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
                "umask_before" => o.process_before.umask = Some(v.to_string()),
                "umask" => o.process.umask = Some(v.to_string()),
                "umask2" => o.process2.umask = Some(v.to_string()),
                "umask_after_close" => o.process_after_close.umask = Some(v.to_string()),
                "nice_before" => o.process_before.nice = Some(v.to_string()),
                "nice" => o.process.nice = Some(v.to_string()),
                "nice2" => o.process2.nice = Some(v.to_string()),
                "nice_after_close" => o.process_after_close.nice = Some(v.to_string()),
                "rlimit_before" => o.process_before.rlimits.push(parse_rlimit_line(v)),
                "rlimit" => o.process.rlimits.push(parse_rlimit_line(v)),
                "rlimit2" => o.process2.rlimits.push(parse_rlimit_line(v)),
                "rlimit_after_close" => o.process_after_close.rlimits.push(parse_rlimit_line(v)),
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

pub const PAM_SUCCESS: i32 = 0;
pub const PAM_SERVICE_ERR: i32 = 3;
pub const PAM_USER_UNKNOWN: i32 = 10;
pub const PAM_SESSION_ERR: i32 = 14;
pub const PAM_CONV_ERR: i32 = 19;
