//! Is pam_systemd (or pam_systemd_rs) in the session stacks? Reads `/etc/pam.d/<service>`,
//! following `@include`, `include` and `substack`, as Linux-PAM does for the `session` type.

use std::path::{Path, PathBuf};

use crate::report::{Finding, Level};

/// The services the doctor looks at, and whether a login through them should get a session.
pub const SERVICES: [(&str, bool); 4] = [("sshd", true), ("login", true), ("su", false), ("runuser", false)];

/// One `session` line that loads pam_systemd or pam_systemd_rs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file and line number it is on.
    pub file: String,
    pub line: usize,
    /// `-session` (a missing module is silently skipped).
    pub dash: bool,
    /// The control flag as written: `optional`, `required`, `[success=ok default=bad]`, ….
    pub control: String,
    /// The module path as written.
    pub module: String,
    /// Where libpam would load it from.
    pub resolved: PathBuf,
    /// The chain of includes that led there, e.g. `sshd:23 -> common-session`.
    pub via: Vec<String>,
}

/// The result of reading one service's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stack {
    /// No `/etc/pam.d/<service>`.
    NoFile,
    Entries(Vec<Entry>),
}

/// A config line split into fields: type, control, module, args (control may be bracketed).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if rest.starts_with('[') {
            let end = rest.find(']').map_or(rest.len(), |i| i + 1);
            out.push(rest[..end].split_whitespace().collect::<Vec<_>>().join(" "));
            rest = rest[end..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// Logical lines: comments dropped, `\`-continued lines joined, with their first line number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if cur.is_empty() {
            start = i + 1;
        }
        let line = raw.split('#').next().unwrap_or("");
        if let Some(body) = line.strip_suffix('\\') {
            cur.push_str(body);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        if !cur.trim().is_empty() {
            out.push((start, std::mem::take(&mut cur)));
        }
        cur.clear();
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// Whether a module path names pam_systemd or pam_systemd_rs.
pub fn is_pam_systemd(module: &str) -> bool {
    let base = module.rsplit('/').next().unwrap_or(module);
    matches!(base, "pam_systemd.so" | "pam_systemd_rs.so" | "libpam_systemd_rs.so")
}

/// Reads the session stack of `service` from `pamd` (e.g. `/etc/pam.d`); relative module
/// paths resolve against `moddir`.
pub fn read_stack(pamd: &Path, moddir: &Path, service: &str) -> Stack {
    let path = pamd.join(service);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Stack::NoFile;
    };
    let mut entries = Vec::new();
    walk(pamd, moddir, service, &text, &mut Vec::new(), &mut entries, 0);
    Stack::Entries(entries)
}

fn walk(pamd: &Path, moddir: &Path, name: &str, text: &str, via: &mut Vec<String>, out: &mut Vec<Entry>, depth: usize) {
    if depth > 16 {
        return;
    }
    for (n, line) in logical_lines(text) {
        let f = fields(&line);
        let Some(kind) = f.first() else { continue };
        let include = |target: &str, via: &mut Vec<String>, out: &mut Vec<Entry>| {
            // A file already being read (an include loop) is not read again.
            let open = |v: &String| v.rsplit_once(':').is_some_and(|(f, _)| f == target);
            if target == name || via.iter().any(open) {
                return;
            }
            let file = if target.starts_with('/') {
                PathBuf::from(target)
            } else {
                pamd.join(target)
            };
            if let Ok(t) = std::fs::read_to_string(&file) {
                via.push(format!("{name}:{n}"));
                walk(pamd, moddir, target, &t, via, out, depth + 1);
                via.pop();
            }
        };
        if kind == "@include" {
            if let Some(target) = f.get(1) {
                include(target, via, out);
            }
            continue;
        }
        let dash = kind.starts_with('-');
        if !kind.trim_start_matches('-').eq_ignore_ascii_case("session") {
            continue;
        }
        let (Some(control), Some(module)) = (f.get(1), f.get(2)) else {
            continue;
        };
        if control == "include" || control == "substack" {
            include(module, via, out);
            continue;
        }
        if is_pam_systemd(module) {
            let resolved = if module.starts_with('/') {
                PathBuf::from(module)
            } else {
                moddir.join(module)
            };
            out.push(Entry {
                file: name.to_owned(),
                line: n,
                dash,
                control: control.clone(),
                module: module.clone(),
                resolved,
                via: via.clone(),
            });
        }
    }
}

/// The directory libpam loads relative module names from: where `pam_unix.so` is.
pub fn module_dir(root: &Path) -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    for base in ["usr/lib", "lib", "usr/lib64", "lib64"] {
        let dir = root.join(base);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut subs: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path().join("security")).collect();
            subs.sort();
            candidates.extend(subs);
        }
        candidates.push(dir.join("security"));
    }
    candidates
        .into_iter()
        .find(|d| d.join("pam_unix.so").exists())
        .unwrap_or_else(|| root.join("lib/x86_64-linux-gnu/security"))
}

fn place(e: &Entry) -> String {
    let mut s = String::new();
    for v in &e.via {
        s.push_str(v);
        s.push_str(" -> ");
    }
    s.push_str(&format!("{}:{}", e.file, e.line));
    s
}

/// The findings for one service.
pub fn findings(service: &str, wants_session: bool, stack: &Stack, pamd: &Path) -> Vec<Finding> {
    let file = pamd.join(service);
    let entries = match stack {
        Stack::NoFile => {
            return vec![Finding::new(
                "pam",
                Level::Info,
                format!("{service}: no {} (not installed)", file.display()),
            )];
        }
        Stack::Entries(e) => e,
    };
    if entries.is_empty() {
        if wants_session {
            return vec![
                Finding::new(
                    "pam",
                    Level::Problem,
                    format!(
                        "{service}: neither pam_systemd.so nor pam_systemd_rs.so is in the session stack of {} (includes followed): logins through {service} register no session with logind, so they get no XDG_RUNTIME_DIR, no session scope and no user manager",
                        file.display()
                    ),
                )
                .fix(format!(
                    "add `-session optional pam_systemd_rs.so` (or pam_systemd.so) to the session lines of {} or of the common-session file it includes",
                    file.display()
                )),
            ];
        }
        return vec![Finding::new(
            "pam",
            Level::Info,
            format!(
                "{service}: no pam_systemd in its session stack (usual for {service}: it runs commands, it does not log in)"
            ),
        )];
    }
    let mut out = Vec::new();
    for e in entries {
        let exists = e.resolved.exists();
        let how = format!(
            "{}session {} {} ({})",
            if e.dash { "-" } else { "" },
            e.control,
            e.module,
            place(e)
        );
        if !exists {
            let effect = if e.dash {
                "libpam skips the line silently, so logins get no logind session".to_owned()
            } else if matches!(e.control.as_str(), "required" | "requisite") {
                "libpam fails every session open through it (and logs that it cannot load the module)".to_owned()
            } else {
                "libpam logs that it cannot load the module, and logins get no logind session".to_owned()
            };
            out.push(
                Finding::new(
                    "pam",
                    Level::Problem,
                    format!("{service}: {how}: {} does not exist: {effect}", e.resolved.display()),
                )
                .fix(format!(
                    "install the module at {} (scripts/install-module, or the package), or point the line at the installed one",
                    e.resolved.display()
                )),
            );
            continue;
        }
        let flag = match e.control.as_str() {
            "required" | "requisite" => "; a logind failure fails the login",
            "optional" => "; a logind failure does not stop the login",
            _ => "",
        };
        out.push(Finding::new(
            "pam",
            Level::Ok,
            format!("{service}: {how}, {} present{flag}", e.resolved.display()),
        ));
    }
    let mut names: Vec<&str> = entries
        .iter()
        .map(|e| e.module.rsplit('/').next().unwrap_or(&e.module))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() > 1 || entries.len() > 1 {
        out.push(
            Finding::new(
                "pam",
                Level::Warn,
                format!(
                    "{service}: the session stack loads pam_systemd {} times ({}): the second asks logind again and gets 'Already running in a session'",
                    entries.len(),
                    names.join(", ")
                ),
            )
            .fix("keep only one of pam_systemd.so and pam_systemd_rs.so in the stack"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    /// A fresh tree (removed when the `Tmp` is dropped) and its `pam.d` and `security` folders.
    fn tmp(tag: &str) -> (Tmp, PathBuf, PathBuf) {
        let d = std::env::temp_dir().join(format!("doctor-pamd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let (pamd, sec) = (d.join("pam.d"), d.join("security"));
        std::fs::create_dir_all(&pamd).unwrap();
        std::fs::create_dir_all(&sec).unwrap();
        (Tmp(d), pamd, sec)
    }
    fn write(p: &Path, s: &str) {
        std::fs::write(p, s).unwrap();
    }

    #[test]
    fn debian_sshd_through_include_of_common_session() {
        let (_t, pamd, sec) = tmp("deb");
        write(&sec.join("pam_systemd.so"), "");
        write(
            &pamd.join("sshd"),
            "# PAM configuration for the Secure Shell service\n@include common-auth\naccount    required     pam_nologin.so\n\
             session [success=ok ignore=ignore module_unknown=ignore default=bad]        pam_selinux.so close\n\
             @include common-session\nsession    optional     pam_motd.so  motd=/run/motd.dynamic\n",
        );
        write(
            &pamd.join("common-session"),
            "session\t[default=1]\t\t\tpam_permit.so\nsession\trequisite\t\t\tpam_deny.so\n\
             session\trequired\tpam_unix.so \nsession\toptional\tpam_systemd.so\n",
        );
        let s = read_stack(&pamd, &sec, "sshd");
        let Stack::Entries(e) = &s else { panic!("{s:?}") };
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].file.as_str(), e[0].line, e[0].control.as_str()),
            ("common-session", 4, "optional")
        );
        assert_eq!(e[0].via, vec!["sshd:5".to_owned()]);
        assert!(!e[0].dash);
        let f = findings("sshd", true, &s, &pamd);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].level, Level::Ok);
        assert!(
            f[0].text
                .contains("session optional pam_systemd.so (sshd:5 -> common-session:4)"),
            "{f:?}"
        );
    }

    #[test]
    fn include_substack_continuation_and_absolute_paths() {
        let (t, pamd, sec) = tmp("inc");
        let abs = t.0.join("elsewhere/libpam_systemd_rs.so");
        write(
            &pamd.join("login"),
            &format!(
                "auth include system-auth\nsession substack system-session\nSession [success=ok \\\n default=die] \\\n {} debug\n",
                abs.display()
            ),
        );
        write(
            &pamd.join("system-session"),
            "-session optional pam_systemd_rs.so timeout=5s\nsession include loop\n",
        );
        write(&pamd.join("loop"), "session include system-session\n");
        let s = read_stack(&pamd, &sec, "login");
        let Stack::Entries(e) = &s else { panic!("{s:?}") };
        // The include loop is cut off: each line is seen once.
        assert_eq!(e.len(), 2, "{e:?}");
        let first = &e[0];
        assert_eq!(
            (first.file.as_str(), first.line, first.dash),
            ("system-session", 1, true)
        );
        assert_eq!(first.resolved, sec.join("pam_systemd_rs.so"));
        let last = e.last().unwrap();
        assert_eq!((last.file.as_str(), last.line), ("login", 3));
        assert_eq!(last.control, "[success=ok default=die]");
        assert_eq!(last.resolved, abs);
        let f = findings("login", true, &s, &pamd);
        // Both modules are missing: a problem each; -session: skipped silently.
        assert!(
            f.iter()
                .any(|x| x.level == Level::Problem && x.text.contains("skips the line silently")),
            "{f:?}"
        );
        assert!(f.iter().any(|x| x.level == Level::Warn), "{f:?}");
    }

    #[test]
    fn missing_module_in_stack_of_a_login_service_is_a_problem_not_for_runuser() {
        let (_t, pamd, sec) = tmp("miss");
        write(&pamd.join("sshd"), "@include common-session\n");
        write(
            &pamd.join("common-session"),
            "session required pam_unix.so\n# session optional pam_systemd.so\n",
        );
        write(&pamd.join("runuser"), "session required pam_unix.so\n");
        let f = findings("sshd", true, &read_stack(&pamd, &sec, "sshd"), &pamd);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].level, Level::Problem);
        assert!(f[0].fix.as_deref().unwrap().contains("pam_systemd_rs.so"));
        let f = findings("runuser", false, &read_stack(&pamd, &sec, "runuser"), &pamd);
        assert_eq!(f[0].level, Level::Info);
        let f = findings("su", false, &read_stack(&pamd, &sec, "su"), &pamd);
        assert_eq!(f[0].level, Level::Info);
        assert!(f[0].text.contains("not installed"));
    }

    #[test]
    fn required_missing_module_fails_logins() {
        let (_t, pamd, sec) = tmp("req");
        write(&pamd.join("sshd"), "session required pam_systemd.so\n");
        let f = findings("sshd", true, &read_stack(&pamd, &sec, "sshd"), &pamd);
        assert!(f[0].text.contains("fails every session open"), "{f:?}");
    }

    #[test]
    fn names() {
        assert!(is_pam_systemd("pam_systemd.so"));
        assert!(is_pam_systemd("/usr/lib/security/pam_systemd_rs.so"));
        assert!(!is_pam_systemd("pam_systemd_home.so"));
        assert!(!is_pam_systemd("pam_systemd_loadkey.so"));
        assert_eq!(
            fields("session [a=b c=d]  x.so y"),
            vec!["session", "[a=b c=d]", "x.so", "y"]
        );
    }
}
