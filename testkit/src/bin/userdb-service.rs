//! `userdb-service PATH MODE [ARG]`: a userdb Varlink service at the unix socket PATH that
//! misbehaves in one way, for the module's userdb tests. Every connection is served in turn:
//!
//! * `mute`: reads the call and never answers a look-up by `userName` (connections kept open
//!   until the process ends); any other call (logind and PID 1 look users up by uid) gets
//!   `io.systemd.UserDatabase.NoRecordFound`, so that only the PAM module meets the silence;
//! * `garbage`: reads the call, answers bytes that are not JSON (NUL-terminated) and closes;
//! * `reply FILE`: reads the call, answers FILE's content (plus a NUL) and closes.
//!
//! Prints `ready` once listening.
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};

fn read_call(s: &mut UnixStream) -> Vec<u8> {
    let mut call = Vec::new();
    let mut b = [0u8; 1];
    while s.read(&mut b).unwrap_or(0) == 1 && b[0] != 0 {
        call.push(b[0]);
    }
    call
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: userdb-service PATH mute|garbage|reply FILE");
        std::process::exit(2);
    };
    let answer: Option<Vec<u8>> = match mode.as_str() {
        "mute" => None,
        "garbage" => Some(b"\xff{\"parameters\": garbage \x01".to_vec()),
        "reply" => Some(
            std::fs::read(args.get(3).map(String::as_str).unwrap_or("")).unwrap_or_else(|e| {
                eprintln!("userdb-service: reply file: {e}");
                std::process::exit(2)
            }),
        ),
        m => {
            eprintln!("userdb-service: unknown mode {m}");
            std::process::exit(2)
        }
    };
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap_or_else(|e| {
        eprintln!("userdb-service: bind {path}: {e}");
        std::process::exit(1)
    });
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut held = Vec::new();
    for conn in listener.incoming() {
        let Ok(mut c) = conn else { continue };
        let call = read_call(&mut c);
        let by_name = call.windows(10).any(|w| w == b"\"userName\"");
        match &answer {
            None if by_name => held.push(c),
            None => {
                let _ = c.write_all(b"{\"error\":\"io.systemd.UserDatabase.NoRecordFound\"}\0");
            }
            Some(a) => {
                let _ = c.write_all(a);
                let _ = c.write_all(b"\0");
            }
        }
    }
}
