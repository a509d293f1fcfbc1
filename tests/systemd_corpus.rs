//! systemd's own fuzz corpora for its JSON parser and its Varlink code (systemd 262,
//! `test/fuzz/fuzz-json/` and `test/fuzz/fuzz-varlink/`, vendored in `tests/corpus/systemd-262/`,
//! see its README) run through our JSON reader and Varlink reply reader: no panic, and per input a
//! bounded time and a bounded peak of heap memory (counted by this binary's allocator, per thread).
//! The Varlink inputs also go over a real socket into the client, as a peer's answer would. What
//! parses writes (`json::format`) as its text does (`json::format_canonical`).
//!
//! No root, no network: `cargo test --test systemd_corpus`.

use pam_systemd_rs::fuzz_api::{
    JsonValue, VARLINK_MAX_MESSAGE, VarlinkConnection, json_format, json_format_canonical, json_parse, read_created,
    varlink_error_to_errno, varlink_read_reply,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Counts the bytes this thread holds, and their peak.
struct Counting;

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the counters are plain thread-locals
// (const-initialised, so touching them never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let _ = HELD.try_with(|h| {
                h.set(h.get() + l.size());
                let _ = PEAK.try_with(|p| p.set(p.get().max(h.get())));
            });
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(p, l) };
        let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(l.size())));
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result, the time it took and the peak heap it added on this thread.
fn measured<R>(f: impl FnOnce() -> R) -> (R, Duration, usize) {
    let base = HELD.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let t0 = Instant::now();
    let r = f();
    let took = t0.elapsed();
    let peak = PEAK.with(Cell::get).saturating_sub(base);
    (r, took, peak)
}

/// Time per input: generous for a debug build on a loaded 2-core machine (a 1 MiB message takes
/// ~0.25 s per reading there); a quadratic or runaway reader would blow it by orders of magnitude.
const TIME_BOUND: Duration = Duration::from_secs(5);

/// Heap per input: the parsed tree holds at most ~24 bytes per input byte (measured: a 32-byte
/// value per two-byte `1,` array element, plus a vector's spare capacity), plus a fixed allowance.
fn memory_bound(input: usize) -> usize {
    40 * input + 64 * 1024
}

fn corpus(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/systemd-262")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the vendored corpus is missing)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "too few corpus files in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

/// Everything our readers do with one message; returns a short verdict for the log.
fn read_all(message: &[u8]) -> String {
    let json = match json_parse(message) {
        Ok(JsonValue::Object(m)) => format!("object of {}", m.len()),
        Ok(_) => "other JSON".to_owned(),
        Err(e) => format!("{e:?}"),
    };
    let reply = match varlink_read_reply(message) {
        Ok(r) => {
            if let Some(name) = &r.error {
                let e = varlink_error_to_errno(name, r.parameters.as_ref());
                assert!((1..=4095).contains(&e), "{name} -> {e}");
            }
            format!(
                "reply, CreateSession read: {:?}",
                read_created(r.parameters.as_ref()).err()
            )
        }
        Err(f) => format!("{f:?}"),
    };
    format!("json {json}; varlink {reply}")
}

fn check(name: &Path, input: &[u8]) {
    let (verdict, took, peak) = measured(|| {
        // The whole input as one JSON text (what fuzz-json feeds sd_json_parse), and each
        // NUL-framed message in it (what fuzz-varlink feeds a connection).
        let mut v = vec![read_all(input)];
        if input.contains(&0) {
            v.extend(input.split(|&b| b == 0).map(read_all));
        }
        v
    });
    let first = verdict.first().cloned().unwrap_or_default();
    println!(
        "{}: {} bytes, {} ms, peak {} bytes; {first}",
        name.display(),
        input.len(),
        took.as_millis(),
        peak
    );
    assert!(took < TIME_BOUND, "{}: took {took:?}", name.display());
    // The value written is the text written token by token (the two ways of a userdb record to
    // its cached form), at every depth.
    for message in std::iter::once(input).chain(input.split(|&b| b == 0)) {
        if let Ok(v) = json_parse(message) {
            assert_eq!(
                Some(json_format(&v)),
                json_format_canonical(message),
                "{}",
                name.display()
            );
        }
    }
    assert!(
        peak <= memory_bound(input.len()),
        "{}: peak heap {peak} bytes for {} input bytes",
        name.display(),
        input.len()
    );
}

/// systemd's JSON corpus: no panic, bounded time and memory.
#[test]
fn json_corpus() {
    for (p, b) in corpus("json") {
        check(&p, &b);
    }
}

/// systemd's Varlink corpus: no panic, bounded time and memory.
#[test]
fn varlink_corpus() {
    for (p, b) in corpus("varlink") {
        check(&p, &b);
    }
}

/// Each Varlink corpus input as the answer of a peer on a real socket: the client reads to the
/// first NUL (or the peer's close) within the deadline, and fails or succeeds like the pure
/// reader on the same bytes.
#[test]
fn varlink_corpus_over_a_socket() {
    for (p, b) in corpus("varlink") {
        let path = std::env::temp_dir().join(format!("pam-systemd-rs-corpus-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let answer = b.clone();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut byte = [0u8; 1];
            // Read the call up to its NUL, then answer with the corpus bytes and close.
            while s.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != 0 {}
            let _ = s.write_all(&answer);
        });
        let t0 = Instant::now();
        let deadline = Some(t0 + Duration::from_secs(5));
        let got = VarlinkConnection::connect(path.as_os_str().as_encoded_bytes(), deadline, "a.B")
            .and_then(|mut c| c.call("a.B", b"{}", &[]));
        let took = t0.elapsed();
        peer.join().unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(took < Duration::from_secs(5), "{}: {took:?}", p.display());
        let first = b.split(|&c| c == 0).next().unwrap();
        let has_nul = b.contains(&0);
        match (&got, has_nul && first.len() <= VARLINK_MAX_MESSAGE) {
            (Ok(r), true) => assert_eq!(Ok(r.clone()), varlink_read_reply(first), "{}", p.display()),
            (Err(e), true) => assert_eq!(
                Some(e.failure.clone()),
                varlink_read_reply(first).err(),
                "{}",
                p.display()
            ),
            (Err(e), false) => assert_eq!(e.errno(), libc::ECONNRESET, "{}: {e}", p.display()),
            (Ok(r), false) => panic!("{}: a reply without its NUL was accepted: {r:?}", p.display()),
        }
        println!("{}: {:?}", p.display(), got.map(|_| "reply").map_err(|e| e.to_string()));
    }
}

/// Inputs built to be worst cases for the reader stay inside the same bounds at the size cap.
#[test]
fn worst_cases_at_the_cap() {
    let n = VARLINK_MAX_MESSAGE;
    let brackets = "[".repeat(n);
    let mut numbers = String::from("{\"parameters\":{\"x\":[");
    while numbers.len() < n - 8 {
        numbers.push_str("1,");
    }
    numbers.push_str("1]}}");
    let mut keys = String::from("{\"parameters\":{");
    while keys.len() < n - 16 {
        keys.push_str("\"a\":1,");
    }
    keys.push_str("\"a\":1}}");
    let strings = format!("{{\"parameters\":{{\"x\":\"{}\"}}}}", "\\u00e9".repeat((n - 32) / 6));
    for (name, input) in [
        ("brackets", brackets),
        ("numbers", numbers),
        ("keys", keys),
        ("strings", strings),
    ] {
        check(Path::new(name), input.as_bytes());
    }
}
