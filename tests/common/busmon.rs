//! Recording the login1 calls on a testbed's bus with `busctl --system monitor`, for the tests
//! that compare what two modules sent to a real logind (differential, systemd_logind).
//!
//! `SETUP` is shell for a case's setup: it starts the monitor, waits until the monitor has seen a
//! start marker, and defines `busmon_finish`, which a test's EXIT trap calls after the client:
//! it waits for an end marker (so the output is known to be complete), stops the monitor and
//! appends its lines to the client's output as `busmon=<json>` lines.

use super::Outcome;
use serde_json::Value;

pub const SETUP: &str = r#"
busctl --system monitor --json=short >"$S/busmon.json" 2>"$S/busmon.err" &
BUSMON_PID=$!
busmon_mark() {
  for i in $(seq 200); do
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$1" >/dev/null 2>&1
    grep -q "\"$1\"" "$S/busmon.json" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "busmon: marker $1 never seen" >&2
  return 1
}
busmon_mark busmon.start
busmon_finish() {
  busmon_mark busmon.end
  kill "$BUSMON_PID" 2>/dev/null
  wait "$BUSMON_PID" 2>/dev/null
  sed 's/^/busmon=/' "$S/busmon.json" >>"$S/client.out"
}
"#;

/// A login1 Manager call seen on the bus, with logind's answer.
#[derive(Clone, Debug)]
pub struct BusCall {
    pub member: String,
    pub signature: String,
    pub data: Vec<Value>,
    /// The error name, when logind answered with an error.
    pub error: Option<String>,
    /// `error <name>: <message>`, or `return <signature> [<payload, fds as <fd>>]`, or `none`.
    pub reply: String,
}

/// Every `org.freedesktop.login1.Manager` method call in the monitor's output, in order.
pub fn calls(o: &Outcome) -> Result<Vec<BusCall>, String> {
    let msgs: Vec<Value> = o
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("busmon="))
        .map(|l| serde_json::from_str::<Value>(l).map_err(|e| format!("bad busctl monitor line {l:?}: {e}")))
        .collect::<Result<_, _>>()?;
    if !msgs.iter().any(|m| m.to_string().contains("busmon.end")) {
        return Err("the bus monitor did not see the end marker (monitor output incomplete)".into());
    }
    let s = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let payload = |m: &Value| -> (String, Vec<Value>) {
        let p = m.get("payload");
        let ty = p
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let data = p
            .and_then(|p| p.get("data"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .to_vec();
        (ty, data)
    };
    let mut out = Vec::new();
    for m in &msgs {
        if s(m, "type") != "method_call" || s(m, "interface") != "org.freedesktop.login1.Manager" {
            continue;
        }
        let sender = s(m, "sender");
        let cookie = m.get("cookie").and_then(Value::as_i64);
        let answer = msgs.iter().find(|r| {
            matches!(s(r, "type").as_str(), "error" | "method_return")
                && s(r, "destination") == sender
                && r.get("reply_cookie").and_then(Value::as_i64) == cookie
        });
        let (error, reply) = match answer {
            None => (None, "none".to_string()),
            Some(r) if s(r, "type") == "error" => {
                let (_, data) = payload(r);
                let msg = data.first().map(|x| x.to_string()).unwrap_or_default();
                let name = s(r, "error_name");
                (Some(name.clone()), format!("error {name}: {msg}"))
            }
            Some(r) => {
                // Drop fds: their numbers are the monitor's, meaningless here.
                let (ty, data) = payload(r);
                let kept: Vec<String> = ty
                    .chars()
                    .zip(data.iter())
                    .map(|(t, d)| if t == 'h' { "<fd>".to_string() } else { d.to_string() })
                    .collect();
                (None, format!("return {ty} [{}]", kept.join(",")))
            }
        };
        let (signature, data) = payload(m);
        out.push(BusCall {
            member: s(m, "member"),
            signature,
            data,
            error,
            reply,
        });
    }
    Ok(out)
}
