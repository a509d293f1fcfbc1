//! pkg/deb/copyright (the Debian package's DEP-5 copyright file) names every crate compiled into
//! the release artifacts, with the licence Cargo.toml of that crate declares. The set is what
//! `cargo tree -e normal,no-proc-macro` prints for the host: normal dependencies, without proc
//! macros and build-only crates. Adding or removing a crate, or a crate changing its licence,
//! fails this test until the copyright file says so.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// SPDX expression (Cargo.toml) → the DEP-5 spelling used in the file.
fn dep5_license(spdx: &str) -> String {
    spdx.replace(" WITH LLVM-exception", " with LLVM exception")
        .replace(" OR ", " or ")
        .replace(" AND ", " and ")
}

/// Crate name → licence expression, from `cargo tree` (our own package left out).
fn linked_crates() -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal,no-proc-macro",
            "--prefix",
            "none",
        ])
        .args(["-f", "{p}|{l}"])
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut crates = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((pkg, license)) = line.split_once('|') else {
            continue;
        };
        let name = pkg.split(' ').next().unwrap_or_default();
        if name.is_empty() || name == env!("CARGO_PKG_NAME") {
            continue;
        }
        crates.insert(name.to_string(), license.to_string());
    }
    crates
}

/// The paragraphs of a DEP-5 file: field name → value (continuation lines joined by '\n').
fn paragraphs(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut last: Option<String> = None;
        for line in block.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(k) = &last {
                    let v = fields.entry(k.clone()).or_default();
                    v.push('\n');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.to_string(), v.trim().to_string());
                last = Some(k.to_string());
            }
        }
        if !fields.is_empty() {
            out.push(fields);
        }
    }
    out
}

#[test]
fn every_linked_crate_has_a_copyright_paragraph() {
    let crates = linked_crates();
    assert!(
        crates.contains_key("pam-bindings") && crates.contains_key("libc"),
        "cargo tree output: {crates:?}"
    );
    let text = std::fs::read_to_string(root().join("pkg/deb/copyright")).expect("pkg/deb/copyright");
    assert!(text.starts_with("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"));
    let paras = paragraphs(&text);

    let mut listed: BTreeMap<String, (String, String)> = BTreeMap::new();
    for p in &paras {
        if let Some(files) = p.get("Files").and_then(|f| f.strip_prefix("crates.io/")) {
            let name = files.trim_end_matches("/*").to_string();
            let license = p.get("License").cloned().unwrap_or_default();
            let copyright = p.get("Copyright").cloned().unwrap_or_default();
            listed.insert(name, (license, copyright));
        }
    }

    let mut problems = Vec::new();
    for (name, spdx) in &crates {
        match listed.get(name) {
            None => problems.push(format!("{name} ({spdx}) has no 'Files: crates.io/{name}/*' paragraph")),
            Some((license, copyright)) => {
                if license.lines().next() != Some(dep5_license(spdx).as_str()) {
                    problems.push(format!("{name}: License '{license}', Cargo says '{spdx}'"));
                }
                if copyright.trim().is_empty() {
                    problems.push(format!("{name}: empty Copyright"));
                }
            }
        }
    }
    for name in listed.keys() {
        if !crates.contains_key(name) {
            problems.push(format!("{name} is listed but no longer linked"));
        }
    }
    assert!(
        problems.is_empty(),
        "pkg/deb/copyright is out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_license_named_has_its_text() {
    let text = std::fs::read_to_string(root().join("pkg/deb/copyright")).expect("pkg/deb/copyright");
    let paras = paragraphs(&text);
    // Stand-alone licence paragraphs: a License field with text and no Files field.
    let texts: Vec<&str> = paras
        .iter()
        .filter(|p| !p.contains_key("Files") && !p.contains_key("Format"))
        .filter_map(|p| p.get("License"))
        .filter(|l| l.contains('\n'))
        .filter_map(|l| l.lines().next())
        .collect();
    let mut missing = Vec::new();
    for p in paras.iter().filter(|p| p.contains_key("Files")) {
        let license = p.get("License").and_then(|l| l.lines().next()).unwrap_or_default();
        for short in license
            .replace(['(', ')'], "")
            .split(" or ")
            .flat_map(|s| s.split(" and "))
        {
            if !texts.contains(&short.trim()) {
                missing.push(short.trim().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "licences without a stand-alone paragraph: {missing:?}"
    );
}
