use super::*;

/// `%m` text, without std's ` (os error N)` suffix; unknown numbers as glibc prints them.
#[test]
#[cfg_attr(miri, ignore)] // glibc strerror_r: miri has its own shim
fn strerror_is_glibc_text() {
    assert_eq!(strerror(libc::ENOENT), "No such file or directory");
    assert_eq!(strerror(libc::ESRCH), "No such process");
    assert_eq!(strerror(100_000), "Unknown error 100000");
}

/// `getsockopt` reads a typed value and reports the errno of a failure.
#[test]
#[cfg_attr(miri, ignore)] // sockets are not available under miri
fn getsockopt_reads_values_and_errors() {
    use std::os::fd::AsFd;
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let cred: libc::ucred = getsockopt(a.as_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED).unwrap();
    assert_eq!(cred.pid, std::process::id() as i32);
    let err: libc::c_int = getsockopt(a.as_fd(), libc::SOL_SOCKET, libc::SO_ERROR).unwrap();
    assert_eq!(err, 0);
    let bad: Result<libc::c_int, i32> = getsockopt(a.as_fd(), libc::SOL_SOCKET, -1);
    assert_eq!(bad, Err(libc::ENOPROTOOPT));
}
