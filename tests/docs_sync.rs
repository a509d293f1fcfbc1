//! The documentation says what the code does (review T10): the README's argument and return-code
//! tables, the crate docs' contract in `src/lib.rs`, and the code agree. Lists are derived from
//! the code wherever possible, so adding an argument, an environment variable, a PAM data key or
//! a returned code without documenting it fails here.
//!
//! Also: comments cite the C function or `docs/behaviour.md`, never a document outside the
//! repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module's own code: `src/**/*.rs` without unit tests (`tests.rs` files, and everything
/// from an inline `#[cfg(test)]` on).
fn module_code() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|p| {
            let s = std::fs::read_to_string(&p).unwrap();
            let code = s.split("\n#[cfg(test)]").next().unwrap_or_default().to_string();
            (p, code)
        })
        .collect()
}

/// The string literals (`"…"`, `c"…"`, `b"…"`) of `code` without their quotes.
fn literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

/// The crate-level docs (`//!` lines of src/lib.rs), without the markers.
fn crate_docs() -> String {
    read("src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows of the first Markdown table after the line that contains `header`.
fn table_after(text: &str, header: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| !l.contains(header));
    lines.next().unwrap_or_else(|| panic!("no table with {header:?}"));
    lines
        .skip_while(|l| l.starts_with("| ---"))
        .take_while(|l| l.starts_with('|'))
        .map(str::to_string)
        .collect()
}

/// The arguments `src/args.rs` recognises: `strip_prefix(b"name=")` and `arg == b"word"`.
fn arguments_in_code() -> BTreeSet<String> {
    let code = read("src/args.rs");
    let code = code.split("\n#[cfg(test)]").next().unwrap();
    let mut args = BTreeSet::new();
    for (marker, _) in code
        .match_indices("strip_prefix(b\"")
        .chain(code.match_indices("arg == b\""))
    {
        let start = code[marker..].find('"').unwrap() + marker + 1;
        let end = code[start..].find('"').unwrap() + start;
        args.insert(code[start..end].to_string());
    }
    args
}

/// Every argument the code recognises is in the README's table and in the crate docs, and the
/// README documents no argument the code does not know.
#[test]
fn module_arguments_match() {
    let code = arguments_in_code();
    assert!(
        code.contains("class=") && code.contains("debug"),
        "argument scan found {code:?}"
    );
    let readme: BTreeSet<String> = table_after(&read("README.md"), "| argument | meaning |")
        .iter()
        .map(|row| {
            let cell = row.split('`').nth(1).unwrap_or_default();
            match cell.find('=') {
                Some(i) => cell[..=i].to_string(),
                None => cell.to_string(),
            }
        })
        .collect();
    assert_eq!(readme, code, "README's argument table vs src/args.rs");
    let docs = crate_docs();
    for a in &code {
        assert!(
            docs.contains(&format!("`{a}`")),
            "the crate docs (src/lib.rs) do not list `{a}`"
        );
    }
}

/// The README's return-code table and the one in the crate docs are the same, and every PAM code
/// the module's code returns is named in it.
#[test]
fn return_codes_match() {
    let header = "| situation | open returns | close returns |";
    let readme = table_after(&read("README.md"), header);
    let docs = table_after(&crate_docs(), header);
    assert!(readme.len() >= 10, "README's code table has {} rows", readme.len());
    assert_eq!(
        docs, readme,
        "the crate docs' return-code table differs from the README's"
    );

    // PAM return codes declared in ffi.rs and used by the module's code.
    let ffi = read("src/ffi.rs");
    let codes: Vec<&str> = ffi
        .lines()
        .filter_map(|l| l.strip_prefix("pub const ")?.split(':').next())
        .filter(|n| n.ends_with("_ERR") || *n == "PAM_SUCCESS" || *n == "PAM_USER_UNKNOWN")
        .collect();
    assert!(codes.contains(&"PAM_SESSION_ERR"), "{codes:?}");
    let table = readme.join("\n");
    for (path, code) in module_code() {
        if path.ends_with("ffi.rs") {
            continue;
        }
        for c in &codes {
            let used = code.match_indices(c).any(|(i, _)| {
                let next = code[i + c.len()..].chars().next();
                !next.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                    && !code[..i]
                        .rsplit('\n')
                        .next()
                        .unwrap_or_default()
                        .trim_start()
                        .starts_with("//")
            });
            assert!(
                !used || table.contains(c),
                "{} returns {c}, which the README's code table does not name",
                path.display()
            );
        }
    }
}

/// Every environment variable and PAM data key that appears in the module's code is in the crate
/// docs' contract and in the README.
#[test]
fn environment_and_pam_data_are_documented() {
    let docs = crate_docs();
    let readme = read("README.md");
    let env_prefixes = ["XDG_", "DBUS_", "SYSTEMD_", "SHELL_", "CREDENTIALS_"];
    let mut names = BTreeSet::new();
    for (_, code) in module_code() {
        for l in literals(&code) {
            let is_env = env_prefixes.iter().any(|p| l.starts_with(p))
                && l.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            let is_data = l.starts_with("systemd.") || l.starts_with("pam_systemd_rs.") || l == "systemd-user-record-";
            if is_env || is_data {
                names.insert(l);
            }
        }
    }
    for must in [
        "XDG_SESSION_ID",
        "XDG_RUNTIME_DIR",
        "systemd.session-fd",
        "systemd-user-record-",
    ] {
        assert!(names.contains(must), "the literal scan missed {must}: {names:?}");
    }
    for n in &names {
        assert!(docs.contains(n), "the crate docs (src/lib.rs) do not mention {n}");
        assert!(readme.contains(n), "README.md does not mention {n}");
    }
}

/// Comments and docs point inside the repository: no section-sign references into a spec that
/// lives elsewhere, and no `../shared` paths.
#[test]
fn references_stay_inside_the_repository() {
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    rs_files(&root().join("tests"), &mut files);
    rs_files(&root().join("fuzz/fuzz_targets"), &mut files);
    let mut bad = Vec::new();
    for p in files.into_iter().filter(|p| !p.ends_with("tests/docs_sync.rs")) {
        let s = std::fs::read_to_string(&p).unwrap();
        for (n, line) in s.lines().enumerate() {
            if line.contains('\u{a7}') || line.contains("../shared") || line.contains("shared/spec") {
                bad.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "cite the C function or docs/behaviour.md instead:\n{}",
        bad.join("\n")
    );
    let behaviour = read("docs/behaviour.md");
    for section in [
        "## Open, step by step",
        "## Session limits",
        "## The user record",
        "## Close",
        "## Return codes",
        "## Cases",
        "## 257: what changes",
    ] {
        assert!(
            behaviour.contains(section),
            "docs/behaviour.md lost its section {section:?}"
        );
    }
}
