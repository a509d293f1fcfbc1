//! Step 10's probe: which VT does the X server of a local display run on? (v252
//! `get_seat_from_display`). Every failure just means "can't tell".

use std::io::Read;
use std::os::unix::net::{SocketAddr, UnixStream};

/// The VT number (1..=63) of the X server behind `display`, if it is local and on a VT.
pub fn vt_of_display(display: &[u8]) -> Option<u32> {
    let digits = local_display_number(display)?;
    let mut path = b"/tmp/.X11-unix/X".to_vec();
    path.extend_from_slice(digits);
    let stream = connect(&path)?;
    let pid = peer_pid(&stream)?;
    drop(stream);
    let (major, minor) = ctty_of(pid)?;
    let link = std::fs::read_link(format!("/sys/dev/char/{major}:{minor}")).ok()?;
    let name = link.file_name()?.to_str()?;
    vtnr_from_tty(name)
}

/// `display_is_local()` + `socket_from_display()`: `:` then a digit; the digits that follow.
pub fn local_display_number(display: &[u8]) -> Option<&[u8]> {
    let rest = display.strip_prefix(b":")?;
    let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    rest.get(..n)
}

/// The abstract socket first, then (only if that was refused) the path.
fn connect(path: &[u8]) -> Option<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let abstract_addr = SocketAddr::from_abstract_name(path).ok()?;
    match UnixStream::connect_addr(&abstract_addr) {
        Ok(s) => Some(s),
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
            let p = std::ffi::OsStr::new(std::str::from_utf8(path).ok()?);
            UnixStream::connect(p).ok()
        }
        Err(_) => None,
    }
}

fn peer_pid(s: &UnixStream) -> Option<i32> {
    use std::os::fd::AsFd;
    let cred: libc::ucred = crate::sys::getsockopt(s.as_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED).ok()?;
    (cred.pid > 0).then_some(cred.pid)
}

/// `get_ctty_devnr()`: field 7 (`tty_nr`) of `/proc/<pid>/stat`, as (major, minor).
fn ctty_of(pid: i32) -> Option<(u32, u32)> {
    let mut stat = String::new();
    std::fs::File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read_to_string(&mut stat)
        .ok()?;
    tty_nr_from_stat(&stat)
}

/// Parses `tty_nr` out of a `/proc/<pid>/stat` line; 0 means "no controlling tty".
pub fn tty_nr_from_stat(stat: &str) -> Option<(u32, u32)> {
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let tty_nr: u64 = after.split_ascii_whitespace().nth(4)?.parse().ok()?;
    if tty_nr == 0 {
        return None;
    }
    let dev = tty_nr as libc::dev_t;
    Some((libc::major(dev), libc::minor(dev)))
}

/// `vtnr_from_tty()`: `tty<N>` with N in 1..=63.
pub fn vtnr_from_tty(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("tty")?;
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    (1..=63).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests;
