//! `half-bus PATH`: a unix stream socket that accepts a connection, reads the client's SASL
//! start (the NUL byte and the `AUTH ...` line), then closes the connection: a bus that goes away
//! in the middle of the handshake. Prints `ready` once listening.
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

fn main() {
    let path = match std::env::args().nth(1) {
        Some(p) => p,
        None => {
            eprintln!("usage: half-bus PATH");
            std::process::exit(2);
        }
    };
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap_or_else(|e| {
        eprintln!("half-bus: bind {path}: {e}");
        std::process::exit(1)
    });
    println!("ready");
    let _ = std::io::stdout().flush();
    for conn in listener.incoming() {
        let Ok(mut c) = conn else { continue };
        let _ = c.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        // Read until the first "\r\n" (end of the AUTH line), or EOF / timeout.
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = c.read(&mut byte) {
            buf.push(byte[0]);
            if buf.ends_with(b"\r\n") || buf.len() > 4096 {
                break;
            }
        }
        drop(c);
    }
}
