//! `mute-socket PATH`: a unix stream socket that accepts connections and never reads or writes.
//! Accepted connections are kept open until the process ends. Used as a "system bus" that never
//! answers, to test a client's timeout. Prints `ready` once listening.
use std::io::Write;
use std::os::unix::net::UnixListener;

fn main() {
    let path = match std::env::args().nth(1) {
        Some(p) => p,
        None => {
            eprintln!("usage: mute-socket PATH");
            std::process::exit(2);
        }
    };
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap_or_else(|e| {
        eprintln!("mute-socket: bind {path}: {e}");
        std::process::exit(1)
    });
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut held = Vec::new();
    for conn in listener.incoming() {
        match conn {
            Ok(c) => held.push(c),
            Err(e) => eprintln!("mute-socket: accept: {e}"),
        }
    }
}
