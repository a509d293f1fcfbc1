//! The module's syslog lines as the testbed's syslog captured them: priority, ident, the
//! `name(service:session)` tag and the text.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogLine {
    /// `<PRI>` value (facility*8 + severity): 83 ERR, 84 WARNING, 87 DEBUG for authpriv.
    pub pri: u32,
    pub ident: String,
    /// The `name(service:session)` tag of pam_syslog lines, if any (`pam_systemd`, ...).
    pub module_tag: Option<String>,
    /// The message after the ident and the module prefix.
    pub text: String,
    pub raw: String,
}

impl SyslogLine {
    pub fn severity(&self) -> u32 {
        self.pri & 7
    }
    /// Whether the line came from a pam_systemd implementation (C or ours).
    pub fn is_module(&self) -> bool {
        self.module_tag.as_deref().is_some_and(|t| t.contains("pam_systemd"))
    }
}

pub fn parse_syslog_line(raw: &str) -> SyslogLine {
    let mut pri = 0;
    let mut rest = raw;
    if let Some(r) = raw.strip_prefix('<')
        && let Some(end) = r.find('>')
    {
        pri = r[..end].parse().unwrap_or(0);
        rest = &r[end + 1..];
    }
    // Skip the "Mmm dd hh:mm:ss " timestamp (15 chars + space) when present.
    if rest.len() > 16 && rest.as_bytes()[3] == b' ' && rest.as_bytes()[15] == b' ' {
        rest = &rest[16..];
    }
    let (ident, msg) = match rest.find(": ") {
        Some(i) => (rest[..i].to_string(), &rest[i + 2..]),
        None => (String::new(), rest),
    };
    // "name(service:session): text"
    let mut module_tag = None;
    let mut text = msg.to_string();
    if let Some(open) = msg.find('(')
        && let Some(close) = msg.find("): ")
        && open < close
        && !msg[..open].contains(' ')
    {
        module_tag = Some(msg[..open].to_string());
        text = msg[close + 3..].to_string();
    }
    SyslogLine {
        pri,
        ident,
        module_tag,
        text,
        raw: raw.to_string(),
    }
}

/// Whether `line` is the C module's error text `text`, or ours: the same text followed by
/// ` (details)` — what failed, where, the D-Bus error name, how long it took.
pub fn is_text_with_details(text: &str, line: &str) -> bool {
    line == text
        || line
            .strip_prefix(text)
            .is_some_and(|rest| rest.starts_with(" (") && rest.ends_with(')'))
}

pub const LOG_ERR: u32 = 3;
pub const LOG_WARNING: u32 = 4;
pub const LOG_DEBUG: u32 = 7;
