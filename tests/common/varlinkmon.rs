//! Recording the Varlink requests a real logind ≥ 258 gets on `/run/systemd/io.systemd.Login`
//! (the transport forky's C module registers sessions with), for the tests that compare what
//! two modules asked logind (systemd_logind's `d14_` cases).
//!
//! There is no Varlink monitor: logind's own debug log names every message of its Varlink
//! connections (`varlink-N-N: Received message: {json}` / `Sending message: {json}`). `SETUP`
//! (shell for a case's setup) turns logind's log level to debug before the client runs and
//! defines `varlinkmon_finish`, which a test's EXIT trap calls after the client: it sends an end
//! marker (a `ReleaseSession` of the id `varlinkmon.end`, which logind answers NoSuchSession),
//! waits until the journal shows it (so everything before it is there), and appends logind's
//! Varlink lines to the client's output as `varlink=<connection> <Received|Sending> <json>`.

use super::Outcome;
use serde_json::Value;

pub const SETUP: &str = r#"
systemctl service-log-level systemd-logind.service debug
varlinkmon_finish() {
  local i lines
  varlinkctl call /run/systemd/io.systemd.Login io.systemd.Login.ReleaseSession '{"Id":"varlinkmon.end"}' >/dev/null 2>&1
  for i in $(seq 100); do
    journalctl --sync 2>/dev/null
    lines=$(journalctl -b --no-pager -o cat -u systemd-logind.service |
      sed -n 's/^\(varlink-[0-9-]*\): \(Received\|Sending\) message: /varlink=\1 \2 /p')
    case "$lines" in *'"varlinkmon.end"'*) break ;; esac
    sleep 0.1
  done
  printf '%s\n' "$lines" >>"$S/client.out"
}
"#;

/// The end marker's session id (its request is not part of [`calls`]).
const END: &str = "varlinkmon.end";

/// One Varlink method call logind received, with its answer on the same connection.
#[derive(Clone, Debug, PartialEq)]
pub struct VarlinkCall {
    /// logind's name for the connection (`varlink-16-16`).
    pub connection: String,
    /// `io.systemd.Login.CreateSession`, ...
    pub method: String,
    pub parameters: Value,
    /// The reply message as sent (`{"parameters":{...}}`, `{"error":...}`, `{}`), or `None` when
    /// logind sent none before the recording ended.
    pub reply: Option<Value>,
}

/// Every `io.systemd.Login.*` call logind received over Varlink, in order, without the marker.
/// Err when the recording is incomplete (no end marker) or unreadable.
pub fn calls(o: &Outcome) -> Result<Vec<VarlinkCall>, String> {
    let mut msgs = Vec::new();
    for l in o.stdout.lines().filter_map(|l| l.strip_prefix("varlink=")) {
        let mut it = l.splitn(3, ' ');
        let (Some(conn), Some(dir), Some(json)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("bad varlink line {l:?}"));
        };
        let v: Value = serde_json::from_str(json).map_err(|e| format!("bad varlink message {l:?}: {e}"))?;
        msgs.push((conn.to_string(), dir == "Received", v));
    }
    let is_end = |v: &Value| v.pointer("/parameters/Id").and_then(Value::as_str) == Some(END);
    if !msgs.iter().any(|(_, rx, v)| *rx && is_end(v)) {
        return Err("logind's debug log does not show the end marker (Varlink recording incomplete)".into());
    }
    let mut out = Vec::new();
    for (i, (conn, rx, v)) in msgs.iter().enumerate() {
        let Some(method) = v.get("method").and_then(Value::as_str) else {
            continue;
        };
        if !rx || !method.starts_with("io.systemd.Login.") || is_end(v) {
            continue;
        }
        let reply = msgs[i + 1..]
            .iter()
            .find(|(c, rx, _)| c == conn && !rx)
            .map(|(_, _, r)| r.clone());
        out.push(VarlinkCall {
            connection: conn.clone(),
            method: method.to_string(),
            parameters: v.get("parameters").cloned().unwrap_or(Value::Null),
            reply,
        });
    }
    Ok(out)
}

/// The calls without those of the world's own user manager stack (PAM service `systemd-user`):
/// its `CreateSession`, and any later call naming the session id logind gave it.
pub fn without_user_manager(calls: Vec<VarlinkCall>) -> Vec<VarlinkCall> {
    let manager_ids: Vec<String> = calls
        .iter()
        .filter(|c| c.parameters.get("Service").and_then(Value::as_str) == Some("systemd-user"))
        .filter_map(|c| {
            c.reply
                .as_ref()?
                .pointer("/parameters/Id")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    calls
        .into_iter()
        .filter(|c| {
            c.parameters.get("Service").and_then(Value::as_str) != Some("systemd-user")
                && !c
                    .parameters
                    .get("Id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| manager_ids.iter().any(|m| m == id))
        })
        .collect()
}
