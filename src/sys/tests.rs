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

#[test]
#[cfg_attr(miri, ignore)] // sockets and poll()
fn poll_until_answers_events_or_the_deadline() {
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};
    let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    // Nothing to read: the deadline, not before it.
    let started = Instant::now();
    let r = poll_until(b.as_fd(), libc::POLLIN, Some(started + Duration::from_millis(30)));
    assert_eq!(r, Err(PollError::Timeout));
    assert!(started.elapsed() >= Duration::from_millis(30));
    // A deadline already gone: at once.
    assert_eq!(
        poll_until(b.as_fd(), libc::POLLIN, Some(started)),
        Err(PollError::Timeout)
    );
    // Writable at once; readable once a byte is there, without a deadline too.
    assert_eq!(
        poll_until(b.as_fd(), libc::POLLOUT, Some(Instant::now() + Duration::from_secs(5))),
        Ok(libc::POLLOUT)
    );
    a.write_all(b"x").unwrap();
    assert_eq!(poll_until(b.as_fd(), libc::POLLIN, None), Ok(libc::POLLIN));
    // The peer gone: a hang-up is an answer, not a wait.
    drop(a);
    let r = poll_until(b.as_fd(), libc::POLLOUT, Some(Instant::now() + Duration::from_secs(5))).unwrap();
    assert_ne!(r & (libc::POLLHUP | libc::POLLERR), 0);
}
