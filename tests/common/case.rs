//! The case builder: one PAM session (the C client `tests/c/pamclient.c`) against a module
//! inside a testbed (`testbed/testbed run`: private /run, private system bus, a fake or real
//! logind, captured syslog), described as items, environment, arguments, fake-logind settings
//! and setup shell, and run into an [`Outcome`](super::Outcome).
//!
//! Placeholders, replaced inside the testbed in fake.conf values, service-file lines, client
//! arguments and setup scripts: `{USER1} {UID1} {USER2} {UID2} {STATE}` (the testbed's state dir)
//! and `{MODULE}` (the module under test). `{USER1}` is the default PAM user.

use super::testbed::{TempDir, Testbed};
use super::{
    C_MODULE_PATH, Logind, Module, Outcome, World, pamclient, testbed_runner, testhelper, testkit_bin, testkit_dir,
};
use std::fmt::Write as _;
use std::time::Duration;

/// What the client uses as its system bus (`DBUS_SYSTEM_BUS_ADDRESS` in the process env).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub enum Bus {
    /// The testbed's bus at the default path (variable unset).
    Default,
    /// A socket that accepts and never answers (testkit `mute-socket`).
    Mute,
    /// A socket that closes the connection in the middle of the SASL handshake (`half-bus`).
    HalfBus,
    /// Any address (placeholders allowed).
    Address(String),
}

#[derive(Clone, Debug)]
pub enum User {
    User1,
    User2,
    Name(String),
    /// No PAM_USER: libpam asks the conversation.
    Unset,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub module: Module,
    pub module_args: Vec<String>,
    pub service: String,
    pub user: User,
    pub items: Vec<(String, String)>,
    pub penv: Vec<(String, String)>,
    pub env: Vec<(String, String)>,
    /// PAM data set by the helper module before the module under test (`set K=V`).
    pub pam_data: Vec<(String, String)>,
    /// Extra raw service-file lines before / after the module's line.
    pub lines_before: Vec<String>,
    pub lines_after: Vec<String>,
    /// Run the helper's `dump` after the module (open and close).
    pub dump: bool,
    pub fake_conf: Vec<(String, String)>,
    pub logind: Logind,
    /// The world booted for `Logind::Systemd` (ignored otherwise).
    pub world: World,
    /// Extra `testbed/testbed run` options (`--logind-conf`, `--unit-dropin`, ...).
    pub testbed_args: Vec<String>,
    pub seats: bool,
    pub bus: Bus,
    /// Extra pamclient flags (`--open-twice`, `--no-close`, ...).
    pub client_flags: Vec<String>,
    /// Shell run inside the testbed before the client (after fake.conf is written).
    pub setup: Vec<String>,
    /// Shell run by the client after open (via system()), e.g. to change fake.conf.
    pub after_open: Option<String>,
    /// Overall timeout for the testbed run.
    pub timeout: Duration,
    /// Words put before the client's command line (e.g. another system's dynamic loader).
    pub client_prefix: Vec<String>,
}

/// `s` single-quoted for bash (the one quoting helper of the shell the tests generate).
pub fn shell_quote(s: impl AsRef<std::ffi::OsStr>) -> String {
    let s = s.as_ref().to_string_lossy();
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Case {
    pub fn new(module: &Module) -> Case {
        Case {
            module: module.clone(),
            module_args: vec!["debug".into()],
            service: "pamtest".into(),
            user: User::User1,
            items: vec![],
            penv: vec![],
            env: vec![],
            pam_data: vec![],
            lines_before: vec![],
            lines_after: vec![],
            dump: true,
            fake_conf: vec![],
            logind: Logind::Fake,
            world: World::Debian12,
            testbed_args: vec![],
            seats: true,
            bus: Bus::Default,
            client_flags: vec![],
            setup: vec![],
            after_open: None,
            timeout: Duration::from_secs(60),
            client_prefix: vec![],
        }
    }
    pub fn args(mut self, args: &[&str]) -> Self {
        self.module_args = args.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn service(mut self, s: &str) -> Self {
        self.service = s.into();
        self
    }
    pub fn user(mut self, u: User) -> Self {
        self.user = u;
        self
    }
    /// PAM item: tty, rhost, ruser, xdisplay. Values may use `\xHH` escapes.
    pub fn item(mut self, k: &str, v: &str) -> Self {
        self.items.push((k.into(), v.into()));
        self
    }
    /// PAM env entry before open (`pam_putenv("K=V")`).
    pub fn penv(mut self, k: &str, v: &str) -> Self {
        self.penv.push((k.into(), v.into()));
        self
    }
    /// Process env entry (setenv) before open.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn pam_data(mut self, k: &str, v: &str) -> Self {
        self.pam_data.push((k.into(), v.into()));
        self
    }
    pub fn line_before(mut self, l: &str) -> Self {
        self.lines_before.push(l.into());
        self
    }
    pub fn line_after(mut self, l: &str) -> Self {
        self.lines_after.push(l.into());
        self
    }
    pub fn fake_conf(mut self, k: &str, v: &str) -> Self {
        self.fake_conf.push((k.into(), v.into()));
        self
    }
    pub fn logind(mut self, l: Logind) -> Self {
        self.logind = l;
        self
    }
    /// Real systemd as PID 1 of `w` (sets the logind to `Logind::Systemd`).
    pub fn world(mut self, w: World) -> Self {
        self.logind = Logind::Systemd;
        self.world = w;
        self
    }
    /// Extra `testbed/testbed run` options, e.g. `["--logind-conf", "UserStopDelaySec=0"]`.
    pub fn testbed_opts(mut self, opts: &[&str]) -> Self {
        self.testbed_args.extend(opts.iter().map(|s| s.to_string()));
        self
    }
    pub fn no_seats(mut self) -> Self {
        self.seats = false;
        self
    }
    pub fn bus(mut self, b: Bus) -> Self {
        self.bus = b;
        self
    }
    pub fn flag(mut self, f: &str) -> Self {
        self.client_flags.push(f.into());
        self
    }
    pub fn setup(mut self, sh: &str) -> Self {
        self.setup.push(sh.into());
        self
    }
    pub fn after_open(mut self, sh: &str) -> Self {
        self.after_open = Some(sh.into());
        self
    }
    /// Runs the client through `prefix` (e.g. `ld-linux-x86-64.so.2 --library-path DIRS`).
    pub fn client_prefix(mut self, prefix: &[&str]) -> Self {
        self.client_prefix = prefix.iter().map(|w| w.to_string()).collect();
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    fn service_file(&self) -> String {
        let helper = testhelper();
        let mut s = String::new();
        for l in &self.lines_before {
            writeln!(s, "{l}").unwrap();
        }
        if !self.pam_data.is_empty() {
            write!(s, "session optional {} set", helper.display()).unwrap();
            for (k, v) in &self.pam_data {
                // PAM config: brackets protect values with spaces.
                if v.contains(' ') || v.is_empty() {
                    write!(s, " [{k}={}]", v.replace(']', "\\]")).unwrap();
                } else {
                    write!(s, " {k}={v}").unwrap();
                }
            }
            s.push('\n');
        }
        write!(s, "session required {{MODULE}}").unwrap();
        for a in &self.module_args {
            if a.contains(' ') || a.is_empty() {
                write!(s, " [{}]", a.replace(']', "\\]")).unwrap();
            } else {
                write!(s, " {a}").unwrap();
            }
        }
        s.push('\n');
        if self.dump {
            writeln!(
                s,
                "session optional {} dump out={{STATE}}/dump.txt user={{USER}}",
                helper.display()
            )
            .unwrap();
        }
        for l in &self.lines_after {
            writeln!(s, "{l}").unwrap();
        }
        s
    }

    fn client_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["--confdir".into(), "{STATE}/pam.conf.d".into()];
        a.push("--service".into());
        a.push(self.service.clone());
        match &self.user {
            User::User1 => a.extend(["--user".into(), "{USER1}".into()]),
            User::User2 => a.extend(["--user".into(), "{USER2}".into()]),
            User::Name(n) => a.extend(["--user".into(), n.clone()]),
            User::Unset => a.extend(["--unset-user".into(), "--user".into(), "{USER1}".into()]),
        }
        for (k, v) in &self.items {
            a.push("--item".into());
            a.push(format!("{k}={v}"));
        }
        for (k, v) in &self.penv {
            a.push("--penv".into());
            a.push(format!("{k}={v}"));
        }
        let mut env = self.env.clone();
        match &self.bus {
            Bus::Default => {}
            Bus::Mute => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), "unix:path={STATE}/mute.sock".into())),
            Bus::HalfBus => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), "unix:path={STATE}/half.sock".into())),
            Bus::Address(addr) => env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), addr.clone())),
        }
        for (k, v) in &env {
            a.push("--env".into());
            a.push(format!("{k}={v}"));
        }
        a.extend(self.client_flags.iter().cloned());
        if let Some(sh) = &self.after_open {
            a.push("--run-after-open".into());
            a.push(sh.clone());
        }
        // Just before the client exits (it still holds whatever the module left open), ask the
        // fake logind which session FIFOs still have a writer: the probe records its answer (and
        // any EOF it finds) synchronously, so the snapshot taken after it needs no grace period.
        // The testbed's own bus, explicitly: the case may point DBUS_SYSTEM_BUS_ADDRESS elsewhere.
        a.push("--run-at-end".into());
        a.push(
            "if [ \"${TESTBED_LOGIND:-}\" = fake ]; then \
             timeout 10 busctl --address=unix:path=/run/dbus/system_bus_socket --auto-start=no --timeout=5 \
             call org.freedesktop.login1 /org/freedesktop/login1 org.pamsystemdrs.FakeLogind.Probe Probe \
             >/dev/null 2>>{STATE}/probe.err; \
             cp {STATE}/fake-calls.jsonl {STATE}/calls-before-exit.jsonl 2>/dev/null; fi; true"
                .into(),
        );
        a
    }

    fn script(&self) -> String {
        let tb = testbed_runner();
        let mut s = String::new();
        s.push_str("set -u\nS=\"$TESTBED_STATE\"\n");
        // The C reference is the one of the testbed's world (252 on the host, 257 in Debian 13).
        s.push_str(
            "if [ \"$TESTBED_MODULE_KIND\" = c ]; then M=\"$TESTBED_MODULE_C\"; else M=\"$TESTBED_MODULE_PATH\"; fi\n",
        );
        let uexpr = match &self.user {
            User::User2 => "$TESTBED_USER2".to_string(),
            User::Name(n) => n.clone(),
            _ => "$TESTBED_USER1".to_string(),
        };
        writeln!(
            s,
            "U={}",
            if uexpr.starts_with('$') {
                format!("\"{uexpr}\"")
            } else {
                shell_quote(&uexpr)
            }
        )
        .unwrap();
        // Placeholder substitution with sed -z (NUL-separated client arguments pass whole); the
        // values are escaped for sed's replacement ('|', '&', '\\', newline), so any path works.
        s.push_str(
            "esc() { printf '%s' \"$1\" | sed -z -e 's/[|&\\\\]/\\\\&/g' -e 's/\\n/\\\\n/g'; }\n\
             sub() { sed -z -e \"s|{USER1}|$(esc \"$TESTBED_USER1\")|g; s|{UID1}|$(esc \"$TESTBED_UID1\")|g; \
             s|{USER2}|$(esc \"$TESTBED_USER2\")|g; s|{UID2}|$(esc \"$TESTBED_UID2\")|g; s|{STATE}|$(esc \"$S\")|g; \
             s|{MODULE}|$(esc \"$M\")|g; s|{USER}|$(esc \"$U\")|g\"; }\n",
        );
        s.push_str("mkdir -p \"$S/pam.conf.d\"\n");
        s.push_str("sub <\"$S/fake.conf.in\" >\"$S/fake.conf\"\n");
        if self.fake_conf.iter().any(|(k, v)| k == "varlink" && v == "1") {
            // The fake's Varlink face listens once it reads varlink=1.
            s.push_str("for i in $(seq 100); do [ -S /run/systemd/io.systemd.Login ] && break; sleep 0.05; done\n");
        }
        writeln!(s, "sub <\"$S/service.in\" >\"$S/pam.conf.d/{}\"", self.service).unwrap();
        s.push_str("sub <\"$S/args.in\" >\"$S/args\"\n");
        s.push_str("mapfile -d '' ARGS <\"$S/args\"\n");
        match self.bus {
            Bus::Mute => {
                writeln!(
                    s,
                    "{} \"$S/mute.sock\" >\"$S/mute.out\" 2>&1 &",
                    shell_quote(testkit_bin("mute-socket"))
                )
                .unwrap();
                s.push_str("for i in $(seq 50); do [ -S \"$S/mute.sock\" ] && break; sleep 0.1; done\n");
            }
            Bus::HalfBus => {
                writeln!(
                    s,
                    "{} \"$S/half.sock\" >\"$S/half.out\" 2>&1 &",
                    shell_quote(testkit_bin("half-bus"))
                )
                .unwrap();
                s.push_str("for i in $(seq 50); do [ -S \"$S/half.sock\" ] && break; sleep 0.1; done\n");
            }
            _ => {}
        }
        for sh in &self.setup {
            writeln!(s, "eval \"$(printf '%s' {} | sub)\"", shell_quote(sh)).unwrap();
        }
        for w in &self.client_prefix {
            write!(s, "{} ", shell_quote(w)).unwrap();
        }
        writeln!(
            s,
            "{} \"${{ARGS[@]}}\" >\"$S/client.out\" 2>\"$S/client.err\" </dev/null",
            shell_quote(pamclient())
        )
        .unwrap();
        s.push_str("echo $? >\"$S/client.rc\"\n");
        // Wait (bounded) until every FIFO handed out has been seen at EOF.
        s.push_str(
            "for i in $(seq 30); do\n  n_fifo=$(grep -c '\"fd\":\"fifo\"' \"$S/fake-calls.jsonl\" 2>/dev/null || true)\n  \
             n_eof=$(grep -c '\"fifo-eof\"' \"$S/fake-calls.jsonl\" 2>/dev/null || true)\n  \
             [ \"${n_fifo:-0}\" -le \"${n_eof:-0}\" ] && break\n  sleep 0.1\ndone\n",
        );
        writeln!(s, "{} syslog-sync || true", shell_quote(tb)).unwrap();
        s.push_str("exit 0\n");
        s
    }

    /// Runs the case in a fresh testbed and collects the results.
    pub fn run(&self) -> Outcome {
        // Build everything first (outside the testbed).
        let _ = testkit_dir();
        let _ = pamclient();
        let _ = testhelper();

        let state = TempDir::new("pamsd-case");
        let dir = state.path().to_path_buf();
        let mut conf = String::new();
        for (k, v) in &self.fake_conf {
            writeln!(conf, "{k}={v}").unwrap();
        }
        std::fs::write(dir.join("fake.conf.in"), conf).unwrap();
        std::fs::write(dir.join("service.in"), self.service_file()).unwrap();
        let mut args = Vec::new();
        for a in self.client_args() {
            args.extend_from_slice(a.as_bytes());
            args.push(0);
        }
        std::fs::write(dir.join("args.in"), args).unwrap();

        // The C reference is the world's own module, unless the case names another C module
        // explicitly (e.g. Debian 13's, loaded by Debian 13's loader on Debian 12).
        let kind = if self.module.is_ours() {
            "rs"
        } else if self.module.path != std::path::Path::new(C_MODULE_PATH) {
            "path"
        } else {
            "c"
        };
        let mut opts = self.testbed_args.clone();
        if !self.seats {
            opts.insert(0, "--no-seats".into());
        }
        let mut tb = Testbed::new("case")
            .logind(self.logind)
            .opts(&opts)
            .env("TESTBED_MODULE_PATH", &self.module.path)
            .env("TESTBED_MODULE_KIND", kind)
            .timeout(self.timeout);
        if self.logind == Logind::Systemd {
            tb = tb.world(self.world);
        }
        let mut out = tb.state(state).run_script(&self.script());
        let runner_rc = out.code();
        let runner_log = if out.timed_out {
            format!(
                "testbed timed out after {:?}\n{}{}",
                self.timeout, out.stdout, out.stderr
            )
        } else {
            format!("{}{}", out.stdout, out.stderr)
        };
        let o = Outcome::collect(out.state.path(), self.module.kind, runner_rc, runner_log, out.elapsed);
        if o.runner_rc != 0 || o.client_rc != Some(0) {
            eprintln!("--- case state {} ---\n{}", out.state.path().display(), o.runner_log);
        }
        if o.runner_rc != 0 {
            out.state.keep();
        }
        o
    }
}
