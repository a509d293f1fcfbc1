//! The hand-written man pages in man/: they render without a single warning (groff, man-db, as
//! lintian checks them), `lexgrog` finds the NAME line that whatis/apropos index, the version in
//! `.TH` is the crate's, and every argument the module parses (read from src/args.rs, so a new
//! argument without documentation fails here) is an entry of OPTIONS in pam_systemd_rs(8).
//!
//! Needs groff and man-db (groff-base, man-db: installed by testbed/setup-host.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

const PAGES: &[(&str, &str)] = &[
    ("pam_systemd_rs.8", "pam_systemd_rs"),
    ("pam_systemd_rs-doctor.8", "pam_systemd_rs-doctor"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn page(name: &str) -> PathBuf {
    root().join("man").join(name)
}

/// Runs a checker; returns (status ok, stderr). A missing tool is a failure, not a skip.
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (groff-base and man-db are needed): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn groff_has_no_warnings() {
    for (file, _) in PAGES {
        let (ok, _, err) = run(Command::new("groff").args(["-man", "-ww", "-z"]).arg(page(file)));
        assert!(ok && err.is_empty(), "groff -man -ww -z {file}: {err}");
    }
}

#[test]
fn man_has_no_warnings() {
    for (file, _) in PAGES {
        // The check lintian runs (manpage-has-errors-from-man), at two widths.
        for width in ["80", "132"] {
            let (ok, _, err) = run(Command::new("man")
                .args(["--warnings", "-E", "UTF-8", "-l"])
                .arg(page(file))
                .env("MANWIDTH", width)
                .env("MAN_KEEP_STDERR", "1"));
            assert!(ok && err.is_empty(), "man --warnings {file} (MANWIDTH={width}): {err}");
        }
    }
}

#[test]
fn lexgrog_finds_the_name_line() {
    for (file, name) in PAGES {
        let (ok, out, err) = run(Command::new("lexgrog").arg(page(file)));
        let expected = format!(": \"{name} - ");
        assert!(ok && out.contains(&expected), "lexgrog {file}: {out} {err}");
    }
}

#[test]
fn th_carries_the_crate_version() {
    for (file, _) in PAGES {
        let text = std::fs::read_to_string(page(file)).expect("page");
        let th = text.lines().find(|l| l.starts_with(".TH ")).expect(".TH line");
        let version = format!("\"pam_systemd_rs {}\"", env!("CARGO_PKG_VERSION"));
        assert!(th.contains(&version), "{file}: {th} does not name {version}");
    }
}

/// The words of a man(7) font macro line joined as they render: `.BI class= CLASS` → `class=CLASS`.
fn render_macro_line(line: &str) -> String {
    let rest = line.split_once(' ').map_or("", |(_, r)| r);
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in rest.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let joined: String = if line.starts_with(".B ") || line.starts_with(".I ") {
        words.join(" ")
    } else {
        words.concat()
    };
    joined
        .replace("\\-", "-")
        .replace("\\(ti", "~")
        .replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\fP", "")
}

/// The tags of the `.TP` entries of a section.
fn tags_of_section(text: &str, section: &str) -> Vec<String> {
    let mut in_section = false;
    let mut tags = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix(".SH ") {
            in_section = name.trim_matches('"') == section;
            continue;
        }
        if in_section
            && line == ".TP"
            && let Some(tag) = lines.next()
        {
            tags.push(render_macro_line(tag));
        }
    }
    tags
}

/// The arguments src/args.rs matches: the byte-string literals of its code (tests excluded)
/// that look like an argument word (`debug`) or prefix (`class=`).
fn parsed_arguments() -> Vec<String> {
    let src = std::fs::read_to_string(root().join("src/args.rs")).expect("src/args.rs");
    let code = src.split("#[cfg(test)]").next().unwrap_or("");
    let mut args = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("b\"") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('"') else { break };
        let lit = &after[..end];
        let word = lit.strip_suffix('=').unwrap_or(lit);
        let looks_like_argument = word.starts_with(|c: char| c.is_ascii_lowercase())
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        // Comments (`//!`, `///`) mention arguments too: only literals in code count.
        let line_start = code[..code.len() - rest.len() + i].rfind('\n').map_or(0, |n| n + 1);
        let in_comment = code[line_start..].trim_start().starts_with("//");
        if looks_like_argument && !in_comment && !args.iter().any(|a| a == lit) {
            args.push(lit.to_string());
        }
        rest = &after[end + 1..];
    }
    args
}

#[test]
fn every_parsed_argument_is_documented() {
    let args = parsed_arguments();
    // The extraction itself must work: the C module's arguments are always there.
    for known in ["class=", "type=", "desktop=", "debug", "debug=", "timeout="] {
        assert!(
            args.iter().any(|a| a == known),
            "{known} not found in src/args.rs: {args:?}"
        );
    }
    let text = std::fs::read_to_string(page("pam_systemd_rs.8")).expect("page");
    let tags = tags_of_section(&text, "OPTIONS");
    let missing: Vec<&String> = args
        .iter()
        .filter(|a| {
            !tags.iter().any(|t| {
                if a.ends_with('=') {
                    t.starts_with(a.as_str())
                } else {
                    t == *a
                }
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "arguments parsed in src/args.rs without an OPTIONS entry in man/pam_systemd_rs.8: {missing:?} (entries: {tags:?})"
    );
}

/// The option names of a tag: `--help, -h` → [`--help`, `-h`]; `--root DIR` → [`--root`].
fn option_names(tag: &str) -> Vec<&str> {
    tag.split(", ").filter_map(|p| p.split(' ').next()).collect()
}

#[test]
fn doctor_page_documents_the_cli_contract() {
    let text = std::fs::read_to_string(page("pam_systemd_rs-doctor.8")).expect("page");
    let options = tags_of_section(&text, "OPTIONS");
    for o in ["USER", "--json", "--help", "--version"] {
        assert!(
            options.iter().any(|t| option_names(t).contains(&o)),
            "OPTIONS lacks {o}: {options:?}"
        );
    }
    // Once the doctor is in the tree: every option its usage text names is documented.
    let main = root().join("src/bin/pam_systemd_rs/main.rs");
    if let Ok(src) = std::fs::read_to_string(&main) {
        let usage = src
            .split("const USAGE")
            .nth(1)
            .and_then(|r| r.split("\";").next())
            .unwrap_or("");
        assert!(usage.contains("doctor"), "no USAGE text found in {}", main.display());
        for word in usage.split(|c: char| c.is_whitespace() || "[]|".contains(c)) {
            if word.starts_with('-') && word.len() > 1 {
                assert!(
                    options.iter().any(|t| option_names(t).contains(&word)),
                    "the doctor's option {word} has no OPTIONS entry in man/pam_systemd_rs-doctor.8: {options:?}"
                );
            }
        }
    }
    let exit = tags_of_section(&text, "EXIT STATUS");
    assert_eq!(exit, ["0", "1", "2"]);
}

#[test]
fn pages_are_packaged() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    for (file, _) in PAGES {
        let asset = format!("[\"man/{file}\", \"usr/share/man/man8/{file}\", \"644\"]");
        assert!(
            manifest.contains(&asset),
            "Cargo.toml [package.metadata.deb] lacks {asset}"
        );
        assert!(Path::new(&page(file)).is_file());
    }
}
