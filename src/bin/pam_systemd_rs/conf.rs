//! logind.conf and its drop-ins, read as systemd-logind reads them: the `[Login]` section of the
//! main file (the first of /etc, /run, /usr/local/lib, /usr/lib) and of every
//! `logind.conf.d/*.conf` in those directories (sorted by file name; a name in /etc hides the
//! same name in /run, which hides /usr/local/lib, which hides /usr/lib); the last assignment wins.
//! elogind reads the same syntax from `/etc/elogind/logind.conf` and the `elogind/logind.conf.d/`
//! directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DIRS: [&str; 4] = ["etc/systemd", "run/systemd", "usr/local/lib/systemd", "usr/lib/systemd"];
/// elogind: its main file only in /etc, its drop-ins in the same four places.
const ELOGIND_MAIN: &str = "etc/elogind";
const ELOGIND_DIRS: [&str; 4] = ["etc/elogind", "run/elogind", "usr/local/lib/elogind", "usr/lib/elogind"];

/// One setting and where it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    /// `path:line`.
    pub source: String,
}

/// The `[Login]` settings the doctor looks at (any key is kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogindConf {
    pub settings: BTreeMap<String, Setting>,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    /// Read for elogind, which starts no user units (`UserStopDelaySec=` means nothing there).
    pub elogind: bool,
}

impl LogindConf {
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key)
    }
}

/// The files logind (or elogind) reads, in the order it reads them.
pub fn files(root: &Path, elogind: bool) -> Vec<PathBuf> {
    let (main_dirs, dirs): (&[&str], &[&str]) = if elogind {
        (&[ELOGIND_MAIN], &ELOGIND_DIRS)
    } else {
        (&DIRS, &DIRS)
    };
    let mut out = Vec::new();
    if let Some(main) = main_dirs
        .iter()
        .map(|d| root.join(d).join("logind.conf"))
        .find(|p| p.is_file())
    {
        out.push(main);
    }
    let mut dropins: BTreeMap<String, PathBuf> = BTreeMap::new();
    // Lowest priority first, so that a higher one replaces the same name.
    for d in dirs.iter().rev() {
        let dir = root.join(d).join("logind.conf.d");
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") {
                dropins.insert(name, e.path());
            }
        }
    }
    out.extend(dropins.into_values());
    out
}

/// Reads the settings from `root` (`/` on a live system), as logind or as elogind reads them.
pub fn read(root: &Path, elogind: bool) -> LogindConf {
    let mut conf = LogindConf {
        elogind,
        ..LogindConf::default()
    };
    for f in files(root, elogind) {
        if let Ok(text) = std::fs::read_to_string(&f) {
            parse_into(&mut conf, &text, &f.display().to_string());
            conf.files.push(f);
        }
    }
    conf
}

/// systemd's ini syntax, `[Login]` only: `#`/`;` comments, `Key=Value`, trailing `\` joins lines.
pub fn parse_into(conf: &mut LogindConf, text: &str, source: &str) {
    let mut in_login = false;
    let mut pending = String::new();
    let mut pending_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_empty() {
            pending_line = i + 1;
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
        }
        if let Some(body) = line.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let full = full.trim();
        if full.is_empty() {
            continue;
        }
        if full.starts_with('[') && full.ends_with(']') {
            in_login = full == "[Login]";
            continue;
        }
        if !in_login {
            continue;
        }
        if let Some((k, v)) = full.split_once('=') {
            conf.settings.insert(
                k.trim().to_owned(),
                Setting {
                    value: v.trim().to_owned(),
                    source: format!("{source}:{pending_line}"),
                },
            );
        }
    }
}

/// A time span as logind parses it (seconds by default), in µs; `u64::MAX` for infinity.
pub fn span_usec(v: &str) -> Option<u64> {
    pam_systemd_rs::parse::parse_sec(v.as_bytes())
}

/// `SessionsMax=`: a number or `infinity`.
pub fn sessions_max(v: &str) -> Option<u64> {
    if v == "infinity" {
        return Some(u64::MAX);
    }
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh root under /tmp with these files (parent directories created).
    fn tree(tag: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("doctor-conf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (file, text) in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn dropins_override_main_file_in_order() {
        let root = tree(
            "order",
            &[
                (
                    "etc/systemd/logind.conf",
                    "[Login]\n#UserStopDelaySec=10\nKillUserProcesses=no\nSessionsMax=8192\n",
                ),
                ("usr/lib/systemd/logind.conf.d/10-a.conf", "[Login]\nSessionsMax=4\n"),
                // Same name in /run hides /usr/lib's.
                ("usr/lib/systemd/logind.conf.d/20-b.conf", "[Login]\nSessionsMax=99\n"),
                ("run/systemd/logind.conf.d/20-b.conf", "[Login]\nSessionsMax=3\n"),
                (
                    "etc/systemd/logind.conf.d/x.conf",
                    "[Other]\nUserStopDelaySec=5\n[Login]\nUserStopDelaySec=0\n",
                ),
                ("etc/systemd/logind.conf.d/ignored.txt", "[Login]\nSessionsMax=1\n"),
            ],
        );
        let c = read(&root, false);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(c.files.len(), 4, "{c:?}");
        assert_eq!(c.get("SessionsMax").unwrap().value, "3");
        assert!(
            c.get("SessionsMax")
                .unwrap()
                .source
                .ends_with("run/systemd/logind.conf.d/20-b.conf:2")
        );
        assert_eq!(c.get("UserStopDelaySec").unwrap().value, "0");
        assert!(c.get("UserStopDelaySec").unwrap().source.ends_with("x.conf:4"));
        assert_eq!(c.get("KillUserProcesses").unwrap().value, "no");
    }

    #[test]
    fn values() {
        assert_eq!(span_usec("0"), Some(0));
        assert_eq!(span_usec("10"), Some(10_000_000));
        assert_eq!(span_usec("5min"), Some(300_000_000));
        assert_eq!(span_usec("infinity"), Some(u64::MAX));
        assert_eq!(sessions_max("infinity"), Some(u64::MAX));
        assert_eq!(sessions_max("12"), Some(12));
        assert_eq!(sessions_max("x"), None);
        let mut c = LogindConf::default();
        parse_into(&mut c, "[Login]\nUserStopDelaySec=\\\n  30s\n; c\n", "f");
        assert_eq!(c.get("UserStopDelaySec").unwrap().value, "30s");
    }

    #[test]
    fn elogind_reads_its_own_files() {
        let root = tree(
            "elogind",
            &[
                ("etc/systemd/logind.conf", "[Login]\nSessionsMax=3\n"),
                (
                    "usr/lib/systemd/logind.conf.d/a.conf",
                    "[Login]\nKillUserProcesses=no\n",
                ),
                ("etc/elogind/logind.conf", "[Login]\nSessionsMax=7\n"),
                (
                    "usr/lib/elogind/logind.conf.d/a.conf",
                    "[Login]\nKillUserProcesses=yes\n",
                ),
            ],
        );
        let e = read(&root, true);
        let s = read(&root, false);
        let _ = std::fs::remove_dir_all(&root);
        assert!(e.elogind && !s.elogind);
        assert_eq!(e.get("SessionsMax").unwrap().value, "7");
        assert_eq!(e.get("KillUserProcesses").unwrap().value, "yes");
        assert!(e.files.iter().all(|f| f.to_string_lossy().contains("elogind")), "{e:?}");
        assert_eq!(s.get("SessionsMax").unwrap().value, "3");
        assert_eq!(s.get("KillUserProcesses").unwrap().value, "no");
    }
}
