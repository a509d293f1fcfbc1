//! The system bus address and the socket connect, as sd-bus does them (behaviour.md, "The system bus").
//!
//! `$DBUS_SYSTEM_BUS_ADDRESS` (read with `secure_getenv` by the caller) is a `;`-separated list
//! of D-Bus addresses, tried in order. Entries that cannot be parsed are skipped; when nothing
//! could be tried the result is `ECONNREFUSED`, as sd-bus reports it. Only the socket connect
//! happens here: like sd-bus, the module counts authentication and `Hello` as part of the call
//! (a bus that accepts and then misbehaves fails the call, not the connect).

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Instant;

/// One entry of the address list, as the module will use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `unix:path=…`
    Path(Vec<u8>),
    /// `unix:abstract=…` (without the leading NUL)
    Abstract(Vec<u8>),
    /// `tcp:host=…,port=…[,family=ipv4|ipv6]`, as sd-bus reads it (other keys are skipped).
    Tcp {
        host: String,
        port: u16,
        family: Option<Family>,
    },
    /// Any other transport (`unixexec:`, `nonce-tcp:` …): not supported; the entry's text.
    Other(String),
}

/// `family=` of a `tcp:` address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Ipv4,
    Ipv6,
}

/// Parses the `;`-separated list; unparsable entries are left out.
pub fn parse_list(list: &str) -> Vec<Target> {
    list.split(';')
        .filter(|e| !e.is_empty())
        .filter_map(parse_entry)
        .collect()
}

/// `transport:key=value,key=value` with `%XX` escapes in values.
pub fn parse_entry(entry: &str) -> Option<Target> {
    let (transport, rest) = entry.split_once(':')?;
    if transport.is_empty() {
        return None;
    }
    if transport == "tcp" {
        return parse_tcp(rest);
    }
    if transport != "unix" {
        return Some(Target::Other(entry.to_owned()));
    }
    let mut found = None;
    for pair in rest.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=')?;
        let value = unescape(value)?;
        match key {
            "path" | "abstract" if found.is_some() => return None,
            "path" => found = Some(Target::Path(value)),
            "abstract" => found = Some(Target::Abstract(value)),
            "guid" => {}
            _ => return None,
        }
    }
    match found {
        Some(Target::Path(p) | Target::Abstract(p)) if p.is_empty() => None,
        other => other,
    }
}

/// sd-bus's `parse_tcp_address()`: `host` and `port` required, `family` optional, any other key
/// skipped; each key at most once.
fn parse_tcp(rest: &str) -> Option<Target> {
    let (mut host, mut port, mut family) = (None, None, None);
    for pair in rest.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=')?;
        let value = String::from_utf8(unescape(value)?).ok()?;
        let slot = match key {
            "host" => &mut host,
            "port" => &mut port,
            "family" => &mut family,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let family = match family.as_deref() {
        None => None,
        Some("ipv4") => Some(Family::Ipv4),
        Some("ipv6") => Some(Family::Ipv6),
        Some(_) => return None,
    };
    let host = host.filter(|h| !h.is_empty())?;
    let port = port?.parse().ok()?;
    Some(Target::Tcp { host, port, family })
}

fn unescape(v: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    let mut bytes = v.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = hex(bytes.next()?)?;
            let lo = hex(bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Connects a stream socket to a unix path or abstract name, non-blocking, waiting at most
/// until `deadline` for a connect that is in progress. Errors are errno values.
pub fn connect_unix(name: &[u8], is_abstract: bool, deadline: Option<Instant>) -> Result<UnixStream, i32> {
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let offset = usize::from(is_abstract);
    // A path needs room for its NUL; an abstract name has the leading NUL instead.
    if name.len() + 1 > sa.sun_path.len() {
        return Err(libc::EINVAL);
    }
    for (dst, &src) in sa.sun_path.iter_mut().skip(offset).zip(name) {
        *dst = src as libc::c_char;
    }
    let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = base + offset + name.len() + usize::from(!is_abstract);
    let len = libc::socklen_t::try_from(len).map_err(|_| libc::EINVAL)?;
    // SAFETY: `sa` is a valid sockaddr_un of at least `len` bytes.
    unsafe { connect_sockaddr(libc::AF_UNIX, (&raw const sa).cast(), len, deadline) }.map(UnixStream::from)
}

/// Connects to `tcp:` address `host`:`port` as sd-bus does: the first address `getaddrinfo()`
/// gives for them (of `family` if set), non-blocking, waiting at most until `deadline` for the
/// connect. The name lookup itself is not bounded by the deadline. Errors are errno values
/// (a failed lookup: `EADDRNOTAVAIL`).
pub fn connect_tcp(host: &str, port: u16, family: Option<Family>, deadline: Option<Instant>) -> Result<OwnedFd, i32> {
    use std::net::{SocketAddr, ToSocketAddrs};
    let addrs = (host, port).to_socket_addrs().map_err(|_| libc::EADDRNOTAVAIL)?;
    let addr = addrs
        .into_iter()
        .find(|a| match family {
            None => true,
            Some(Family::Ipv4) => a.is_ipv4(),
            Some(Family::Ipv6) => a.is_ipv6(),
        })
        .ok_or(libc::EADDRNOTAVAIL)?;
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: an all-zero sockaddr_in is valid.
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = a.port().to_be();
            sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            let len = libc::socklen_t::try_from(std::mem::size_of_val(&sa)).map_err(|_| libc::EINVAL)?;
            // SAFETY: `sa` is a valid sockaddr_in of `len` bytes.
            unsafe { connect_sockaddr(libc::AF_INET, (&raw const sa).cast(), len, deadline) }
        }
        SocketAddr::V6(a) => {
            // SAFETY: an all-zero sockaddr_in6 is valid.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = a.port().to_be();
            sa.sin6_addr.s6_addr = a.ip().octets();
            sa.sin6_flowinfo = a.flowinfo();
            sa.sin6_scope_id = a.scope_id();
            let len = libc::socklen_t::try_from(std::mem::size_of_val(&sa)).map_err(|_| libc::EINVAL)?;
            // SAFETY: `sa` is a valid sockaddr_in6 of `len` bytes.
            unsafe { connect_sockaddr(libc::AF_INET6, (&raw const sa).cast(), len, deadline) }
        }
    }
}

/// A non-blocking `SOCK_STREAM` socket of `domain` connected to `sa`, waiting at most until
/// `deadline` for a connect that is in progress.
///
/// # Safety
/// `sa` points to a valid socket address of `len` bytes for `domain`.
unsafe fn connect_sockaddr(
    domain: libc::c_int,
    sa: *const libc::sockaddr,
    len: libc::socklen_t,
    deadline: Option<Instant>,
) -> Result<OwnedFd, i32> {
    // SAFETY: plain socket(2); the result is checked.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) };
    if fd < 0 {
        return Err(crate::sys::errno());
    }
    // SAFETY: a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the caller vouches for `sa` and `len`.
    let r = unsafe { libc::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), sa, len) };
    if r < 0 {
        let e = crate::sys::errno();
        if e != libc::EINPROGRESS {
            return Err(e);
        }
        wait_connected(&fd, deadline)?;
    }
    Ok(fd)
}

/// Waits for an in-progress connect to finish (or the deadline), then reads its result.
fn wait_connected(fd: &OwnedFd, deadline: Option<Instant>) -> Result<(), i32> {
    use std::os::fd::AsFd;
    crate::sys::poll_until(fd.as_fd(), libc::POLLOUT, deadline).map_err(|e| match e {
        crate::sys::PollError::Timeout => libc::ETIMEDOUT,
        crate::sys::PollError::Os(e) => e,
    })?;
    let err: libc::c_int = crate::sys::getsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_ERROR)?;
    if err == 0 { Ok(()) } else { Err(err) }
}

#[cfg(test)]
mod tests;
