//! Findings and how they are printed: one line each for people, one JSON document for monitoring.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Info,
    Warn,
    /// A check that could not be made.
    Unknown,
    Problem,
}

impl Level {
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Unknown => "unknown",
            Level::Problem => "problem",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check: `pam`, `logind`, `bus`, `user`, `units`, `logind.conf`, `logins`.
    pub check: &'static str,
    pub level: Level,
    /// What was found, and why it matters.
    pub text: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(check: &'static str, level: Level, text: impl Into<String>) -> Self {
        Finding {
            check,
            level,
            text: text.into(),
            fix: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// 0 healthy, 1 a problem found, 2 some check could not be made (and no problem found).
pub fn exit_code(findings: &[Finding]) -> u8 {
    match findings.iter().map(|f| f.level).max() {
        Some(Level::Problem) => 1,
        Some(Level::Unknown) => 2,
        _ => 0,
    }
}

fn status_word(code: u8) -> &'static str {
    match code {
        0 => "healthy",
        1 => "problem",
        _ => "unknown",
    }
}

/// The human form: one line per finding, then a summary line.
pub fn human(user: &str, uid: u32, findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = write!(out, "{:<8}{:<12}{}", f.level.word(), f.check, one_line(&f.text));
        if let Some(fix) = &f.fix {
            let _ = write!(out, " Fix: {}", one_line(fix));
        }
        out.push('\n');
    }
    let code = exit_code(findings);
    let problems = findings.iter().filter(|f| f.level == Level::Problem).count();
    let _ = writeln!(
        out,
        "{}: user {user} (uid {uid}), {problems} problem(s), exit {code}",
        status_word(code)
    );
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The JSON form (one document).
pub fn json(user: &str, uid: u32, findings: &[Finding]) -> String {
    let code = exit_code(findings);
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"user\":{},\"uid\":{uid},\"status\":{},\"exit\":{code},\"findings\":[",
        quote(user),
        quote(status_word(code))
    );
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"check\":{},\"level\":{},\"text\":{},\"fix\":{}}}",
            quote(f.check),
            quote(f.level.word()),
            quote(&f.text),
            f.fix.as_deref().map_or_else(|| "null".to_owned(), quote)
        );
    }
    out.push_str("]}\n");
    out
}

/// A JSON string literal, escaped as the module writes user records (systemd's
/// `json_format_string()`).
pub fn quote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    pam_systemd_rs::doctor_api::push_json_string(&mut out, s.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let ok = Finding::new("pam", Level::Ok, "fine");
        let warn = Finding::new("logins", Level::Warn, "many");
        let unk = Finding::new("units", Level::Unknown, "?");
        let bad = Finding::new("bus", Level::Problem, "gone");
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(&[ok.clone(), warn.clone()]), 0);
        assert_eq!(exit_code(&[ok.clone(), unk.clone()]), 2);
        assert_eq!(exit_code(&[unk, bad, ok]), 1);
    }

    #[test]
    fn human_and_json_forms() {
        let f = vec![
            Finding::new("bus", Level::Problem, "no \"socket\"\nhere").fix("start dbus"),
            Finding::new("pam", Level::Ok, "sshd: fine"),
        ];
        assert_eq!(
            human("root", 0, &f),
            "problem bus         no \"socket\" here Fix: start dbus\n\
             ok      pam         sshd: fine\n\
             problem: user root (uid 0), 1 problem(s), exit 1\n"
        );
        assert_eq!(
            json("root", 0, &f),
            "{\"user\":\"root\",\"uid\":0,\"status\":\"problem\",\"exit\":1,\"findings\":[\
             {\"check\":\"bus\",\"level\":\"problem\",\"text\":\"no \\\"socket\\\"\\nhere\",\"fix\":\"start dbus\"},\
             {\"check\":\"pam\",\"level\":\"ok\",\"text\":\"sshd: fine\",\"fix\":null}]}\n"
        );
        assert_eq!(quote("\u{1}"), "\"\\u0001\"");
    }
}
