//! The pair runner of the differential comparisons (`tests/differential.rs` against elogind, the
//! fake logind or none; `tests/systemd_logind.rs` against real systemd 252/257): the same case
//! through the C module and through ours, each in a fresh testbed, both at once; and the one
//! check of our `CreateSessionWithPIDFD` attempt that every comparison of bus calls makes.

use super::busmon::BusCall;
use super::{Case, FdInfo, Module, Outcome, ProcessState, pamclient, testhelper, testkit_dir};
use serde_json::Value;
use std::collections::BTreeMap;

/// Builds the case for the C module (`Module::c()`: the testbed's or world's own C module) and
/// for ours with `prepare`, and runs both testbeds concurrently: (C's outcome, ours).
pub fn run(prepare: impl Fn(&Module) -> Case) -> (Outcome, Outcome) {
    let ours = Module::rs();
    assert!(
        ours.path.exists(),
        "our module {} does not exist (cargo build)",
        ours.path.display()
    );
    let c_case = prepare(&Module::c());
    let rs_case = prepare(&ours);
    // Build the shared binaries once, before the two runs race for them.
    let _ = (testkit_dir(), pamclient(), testhelper());
    std::thread::scope(|s| {
        let c = s.spawn(|| c_case.run());
        let rs = rs_case.run();
        (c.join().expect("the C run panicked"), rs)
    })
}

/// The session classes only logind ≥ 256 knows; our 257 rules may put one in the PIDFD attempt,
/// and the `CreateSession` fallback then carries the class 252 knows.
pub fn class_257_only(class: &str) -> bool {
    [
        "user-early",
        "user-incomplete",
        "manager",
        "manager-early",
        "background-light",
    ]
    .contains(&class)
}

/// The signature of `CreateSessionWithPIDFD`: a pidfd (`h`) for the leader pid, and flags (`t`)
/// before the properties.
const PIDFD_SIGNATURE: &str = "uhsssssussbssta(sv)";
/// Argument positions: the leader (pid or pidfd), the class, and the PIDFD call's flags.
const LEADER: usize = 1;
const CLASS: usize = 4;
const FLAGS: usize = 13;
const SERVICE: usize = 2;

/// One run's login1 calls, ready to be compared with the other module's.
#[derive(Debug, Default)]
pub struct Calls {
    /// `member(signature) [args] -> reply`, one per call both modules make; a PIDFD call that
    /// logind served is kept with its pidfd argument as `"<fd>"`.
    pub comparable: Vec<String>,
    /// How many `CreateSessionWithPIDFD` calls were seen (served or refused).
    pub pidfd_attempts: usize,
    /// Everything wrong with the PIDFD attempts (must be empty).
    pub problems: Vec<String>,
}

fn without(v: &[Value], drop: &[usize]) -> Vec<Value> {
    v.iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, x)| x.clone())
        .collect()
}

fn arg_str(v: &[Value], i: usize) -> Option<&str> {
    v.get(i).and_then(Value::as_str)
}

/// Checks the `CreateSessionWithPIDFD` calls of one run and returns the rest in comparable form.
///
/// * `ours`: the run was our module's. The C module 252 never sends the PIDFD call, and the C
///   module 257 sends it only to a logind that serves it: a refused one from C is a problem.
/// * `logind_serves_pidfd`: logind ≥ 255 answers the call; a refused attempt there, or a served
///   one from logind 252, is a problem.
///
/// A refused attempt (`UnknownMethod`) must be followed by a `CreateSession` with the same
/// arguments but the leader, the flags (which must be 0), and the class where the attempt carried
/// a class only 257 knows; for the `systemd-user` service nothing needs to follow (logind 252
/// registers no user manager session).
pub fn check_pidfd(calls: &[BusCall], ours: bool, logind_serves_pidfd: bool) -> Calls {
    let mut out = Calls::default();
    for (i, k) in calls.iter().enumerate() {
        if k.member != "CreateSessionWithPIDFD" {
            out.comparable.push(format!(
                "{}({}) {} -> {}",
                k.member,
                k.signature,
                Value::Array(k.data.clone()),
                k.reply
            ));
            continue;
        }
        out.pidfd_attempts += 1;
        let refused = k.reply.starts_with("error org.freedesktop.DBus.Error.UnknownMethod");
        if !refused {
            if !logind_serves_pidfd {
                out.problems.push(format!(
                    "CreateSessionWithPIDFD answered {:?}, not UnknownMethod",
                    k.reply
                ));
                continue;
            }
            let mut d = k.data.clone();
            if let Some(x) = d.get_mut(LEADER) {
                *x = Value::String("<fd>".into());
            }
            out.comparable.push(format!(
                "{}({}) {} -> {}",
                k.member,
                k.signature,
                Value::Array(d),
                k.reply
            ));
            continue;
        }
        if logind_serves_pidfd {
            out.problems
                .push(format!("logind refused CreateSessionWithPIDFD: {}", k.reply));
        }
        if !ours {
            out.problems
                .push("the C module sent CreateSessionWithPIDFD and got UnknownMethod".into());
        }
        let systemd_user = arg_str(&k.data, SERVICE) == Some("systemd-user");
        match calls.get(i + 1) {
            Some(n) if n.member == "CreateSession" => {
                let (mut drop_a, mut drop_b) = (vec![LEADER, FLAGS], vec![LEADER]);
                if arg_str(&k.data, CLASS).is_some_and(class_257_only) {
                    drop_a.push(CLASS);
                    drop_b.push(CLASS);
                }
                if k.signature != PIDFD_SIGNATURE || without(&k.data, &drop_a) != without(&n.data, &drop_b) {
                    out.problems.push(format!(
                        "CreateSessionWithPIDFD {} {} differs from the CreateSession that follows it: {} {}",
                        k.signature,
                        Value::Array(k.data.clone()),
                        n.signature,
                        Value::Array(n.data.clone())
                    ));
                }
                if k.data.get(FLAGS).and_then(Value::as_u64) != Some(0) {
                    out.problems
                        .push(format!("CreateSessionWithPIDFD flags not 0: {:?}", k.data.get(FLAGS)));
                }
            }
            _ if systemd_user => {}
            other => out.problems.push(format!(
                "CreateSessionWithPIDFD not followed by CreateSession but by {:?}",
                other.map(|c| c.member.as_str())
            )),
        }
    }
    out
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
    /// umask, nice level and limits after open, second open and close.
    pub process: (ProcessState, ProcessState, ProcessState),
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
            process: (
                self.process.clone(),
                self.process2.clone(),
                self.process_after_close.clone(),
            ),
            records: self.records.iter().map(|r| normalise_json(r, self.pid)).collect(),
            session_fd_data: self.dumps.iter().map(|d| d.get("session_fd").cloned()).collect(),
            existing_data: self.dumps.iter().map(|d| d.get("existing").cloned()).collect(),
            log,
        }
    }
}
