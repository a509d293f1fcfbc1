//! The golden table: `tests/golden/expected.tsv` holds what Debian 12's libsystemd-shared-252.so
//! (the code pam_systemd.so 252 is built from) answers for the cases in `cases.tsv`, produced by
//! `tests/golden/gen.c` through `tests/golden/gen.sh` (see tests/golden/README.md).
//!
//! * `rust_ports_match_the_golden_table`: every row, answered by our ports, must match. No root,
//!   no library needed.
//! * `generator_reproduces_the_golden_table`: rebuilds the generator and runs it again, so the
//!   committed table is known to be the library's answer, not a hand-edited file (~1 s).
//!
//! Parser and writer failures are compared as "err": those ports return `None` without an errno.
//! Cached-record failures are compared whole: the failing step (`parse:` / `load:`) and the errno,
//! which pam_systemd logs with `%m`.

use std::path::PathBuf;
use std::process::Command;

use pam_systemd_rs::fuzz_api::{Passwd, RecordError, Shadow, load_cached, record_json, valid_user_name_relaxed};
use pam_systemd_rs::parse;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The generator's argument syntax: `\xHH` escapes, `-` for an empty string.
fn unescape(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The generator's answer syntax (gen.c `out_escaped`).
fn escape(s: &[u8]) -> String {
    let mut out = String::new();
    for &c in s {
        if c == b'\\' || c == b'\t' || !(0x20..0x7f).contains(&c) {
            out.push_str(&format!("\\x{c:02x}"));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "err".to_string(), |v| v.to_string())
}

fn tf(b: bool) -> String {
    b.to_string()
}

/// Our answer to one case, in the generator's syntax (failures as plain "err").
fn answer(f: &str, a: &[Vec<u8>]) -> String {
    let s = a.first().map_or(&[][..], Vec::as_slice);
    match f {
        "boolean" => opt(std::str::from_utf8(s).ok().and_then(parse::parse_boolean)),
        "atou32" => opt(parse::safe_atou32(s)),
        "atou64" => opt(parse::safe_atou64(s)),
        "atoi" => opt(parse::safe_atoi(s)),
        "permyriad" => opt(parse::parse_permyriad(s)),
        "size" => opt(parse::parse_size_1024(s)),
        "sec" => opt(parse::parse_sec(s)),
        "weight" => opt(parse::cgroup_weight(s)),
        "cpu_weight" => opt(parse::cpu_weight(s)),
        "localhost" => tf(parse::is_localhost(s)),
        "dev_prefix" => opt(parse::path_startswith(s, b"/dev/").map(escape)),
        "user_name" => tf(valid_user_name_relaxed(s)),
        "record" => {
            let num = |i: usize| std::str::from_utf8(&a[i]).unwrap().parse::<i64>().unwrap();
            let pw = Passwd {
                name: a[0].clone(),
                passwd: b"x".to_vec(),
                uid: num(1) as u32,
                gid: num(2) as u32,
                gecos: a[3].clone(),
                dir: a[4].clone(),
                shell: a[5].clone(),
            };
            let sp = (a.len() == 14).then(|| Shadow {
                name: a[6].clone(),
                password: a[7].clone(),
                last_change: num(8),
                min: num(9),
                max: num(10),
                warn: num(11),
                inactive: num(12),
                expire: num(13),
            });
            opt(record_json(&pw, sp.as_ref()).map(|j| escape(&j)))
        }
        "identity" => match load_cached(s) {
            Ok(r) => format!("ok {} {}", escape(r.name.as_bytes()), opt(r.uid).replace("err", "none")),
            Err(RecordError::Parse(e)) => format!("parse:err:{}", errno_name(e)),
            Err(RecordError::Load(e)) => format!("load:err:{}", errno_name(e)),
        },
        other => panic!("unknown function {other} in the golden table"),
    }
}

/// The errno names the generator prints (glibc `strerrorname_np`), for the ones the reader uses.
fn errno_name(e: i32) -> String {
    match e {
        libc::EINVAL => "EINVAL".into(),
        libc::EBADMSG => "EBADMSG".into(),
        libc::EUCLEAN => "EUCLEAN".into(),
        libc::ENOMEM => "ENOMEM".into(),
        libc::ENOBUFS => "ENOBUFS".into(),
        libc::E2BIG => "E2BIG".into(),
        libc::ELNRNG => "ELNRNG".into(),
        other => format!("errno {other}"),
    }
}

/// The library's answer as our ports can give it: the parsers and the writer fail without an
/// errno ("err"); the cached-record reader gives the failing step and its errno, the two lines
/// pam_systemd logs ("Failed to parse JSON user record: %m" / "Failed to load user record: %m").
fn comparable(c: &str) -> &str {
    if c.starts_with("err") { "err" } else { c }
}

/// Every row of the committed table, answered by our ports, gives the library's answer.
#[test]
fn rust_ports_match_the_golden_table() {
    let table = std::fs::read_to_string(dir().join("expected.tsv")).unwrap();
    let mut rows = 0;
    let mut wrong = Vec::new();
    for line in table.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (f, args, want) = (cols[0], &cols[1..cols.len() - 1], cols[cols.len() - 1]);
        let args: Vec<Vec<u8>> = args.iter().map(|a| unescape(a)).collect();
        let got = answer(f, &args);
        if got != comparable(want) {
            wrong.push(format!(
                "{f} {:?}: libsystemd-shared {want:?}, ours {got:?}",
                &cols[1..cols.len() - 1]
            ));
        }
        rows += 1;
    }
    assert!(rows >= 200, "only {rows} rows in expected.tsv");
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The committed table is what the generator prints today (gen.sh --check rebuilds gen.c
/// against libsystemd-shared-252.so and diffs).
#[test]
fn generator_reproduces_the_golden_table() {
    let out = Command::new(dir().join("gen.sh"))
        .arg("--check")
        .env("CARGO_TARGET_TMPDIR", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gen.sh --check failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
