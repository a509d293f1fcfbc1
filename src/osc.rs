//! 262's OSC 3008 session context (docs/behaviour-262.md, "OSC 3008 context"): at the end of a successful open of a
//! `tty` session the module writes `ESC ] 3008;start=<id>;…;type=session ESC \` to stdout, and at
//! close `ESC ] 3008;end=<id> ESC \` to the same terminal. C: `open_osc_context()` and
//! `close_osc_context()` in `src/login/pam_systemd.c`, the sequence from
//! `osc_context_open_session()`/`osc_context_close()` in `src/shared/osc-context.c`.
//!
//! Pure: [`wanted`], [`escape`], [`start_sequence`], [`end_sequence`], [`v4`]. I/O behind
//! [`Terminal`] (stdout, the pinned tty, the random id, the identity fields) and libpam behind
//! [`PamOps`] + [`PamData`]; [`SystemTerminal`] is the real terminal. 262 only: the caller
//! decides the generation.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use log::{debug, error};

use crate::error::Error;
use crate::ffi::{PAM_BUF_ERR, PAM_SERVICE_ERR};
use crate::pam::{Code, PamData, PamOps};
use crate::sys::strerror;

/// PAM data: the context id (16 bytes, `free()`d at `pam_end`).
pub const ID_KEY: &CStr = c"systemd.osc-context-id";
/// PAM data: the `O_PATH` pin of the tty (fd + 1, closed at `pam_end` except in the payload
/// child).
pub const FD_KEY: &CStr = c"systemd.osc-context-fd";

/// A 128-bit context id, as `sd_id128_t`.
pub type ContextId = [u8; 16];

/// `id128_make_v4_uuid()`: random bytes made a version 4, DCE-variant UUID, as
/// `sd_id128_randomize()` returns them.
pub fn v4(mut raw: [u8; 16]) -> ContextId {
    raw[6] = (raw[6] & 0x0f) | 0x40;
    raw[8] = (raw[8] & 0x3f) | 0x80;
    raw
}

/// Whether open writes the start sequence at all, before looking at stdout: the computed session
/// type is exactly `tty` and `TERM` (PAM env, else the process env) is not exactly `dumb`. An
/// unset or empty `TERM` does not stop it.
pub fn wanted(session_type: &[u8], term: Option<&[u8]>) -> bool {
    session_type == b"tty" && term != Some(b"dumb")
}

/// `xescape(value, ";\\")`: every byte below 0x20, from 0x7f up, `\` and `;` as `\xNN`
/// (lowercase hex).
pub fn escape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if !(b' '..0x7f).contains(&b) || b == b'\\' || b == b';' {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// `SD_ID128_FORMAT_STR`: 32 lowercase hex digits.
pub fn hex(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity fields of `osc_append_identity()`, each `None` where C leaves it out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// `getusername_malloc()`: `$USER` (`secure_getenv`, even empty), else the name of
    /// `getuid()` (`root` for 0, `nobody` for 65534 unless `/etc/systemd/dont-synthesize-nobody`
    /// exists, NSS, else the number).
    pub user: Option<Vec<u8>>,
    /// `gethostname_malloc()`: the kernel's node name, or the default host name when that is
    /// empty or `(none)`.
    pub hostname: Option<Vec<u8>>,
    /// `/etc/machine-id`, when it reads as a non-null id.
    pub machine_id: Option<[u8; 16]>,
    /// The boot id, when it reads.
    pub boot_id: Option<[u8; 16]>,
    /// `getpid()`.
    pub pid: u32,
    /// The pidfd inode id of ourselves, only on pidfs.
    pub pidfd_id: Option<u64>,
    /// `program_invocation_short_name`.
    pub comm: Vec<u8>,
}

fn push_escaped(seq: &mut Vec<u8>, key: &str, value: &[u8]) {
    seq.extend_from_slice(key.as_bytes());
    seq.extend_from_slice(&escape(value));
}

/// `osc_context_open_session(user, session_id)` with the id already drawn: `ESC ] 3008;start=<id>`,
/// the identity (`user`, `hostname`, `machineid`, `bootid`, `pid`, `pidfdid`, `comm`), then
/// `targetuser` (the record's user name), `sessionid` (`XDG_SESSION_ID` from the PAM env, left
/// out when unset), `type=session` and `ESC \`.
pub fn start_sequence(
    id: &ContextId,
    who: &Identity,
    target_user: Option<&[u8]>,
    session_id: Option<&[u8]>,
) -> Vec<u8> {
    let mut seq = Vec::with_capacity(256);
    seq.extend_from_slice(b"\x1b]3008;start=");
    seq.extend_from_slice(hex(id).as_bytes());
    if let Some(u) = &who.user {
        push_escaped(&mut seq, ";user=", u);
    }
    if let Some(h) = &who.hostname {
        push_escaped(&mut seq, ";hostname=", h);
    }
    if let Some(m) = &who.machine_id {
        seq.extend_from_slice(format!(";machineid={}", hex(m)).as_bytes());
    }
    if let Some(b) = &who.boot_id {
        seq.extend_from_slice(format!(";bootid={}", hex(b)).as_bytes());
    }
    seq.extend_from_slice(format!(";pid={}", who.pid).as_bytes());
    if let Some(p) = who.pidfd_id {
        seq.extend_from_slice(format!(";pidfdid={p}").as_bytes());
    }
    push_escaped(&mut seq, ";comm=", &who.comm);
    if let Some(u) = target_user {
        push_escaped(&mut seq, ";targetuser=", u);
    }
    if let Some(s) = session_id {
        push_escaped(&mut seq, ";sessionid=", s);
    }
    seq.extend_from_slice(b";type=session\x1b\\");
    seq
}

/// `osc_context_close(id)`: `ESC ] 3008;end=<id> ESC \`; `None` for the null id (C writes
/// nothing). The ids this module stores are v4 UUIDs, so never null nor all-ones (C's "default
/// context" id, which it would hash first).
pub fn end_sequence(id: &ContextId) -> Option<Vec<u8>> {
    if id.iter().all(|&b| b == 0) {
        return None;
    }
    let mut seq = b"\x1b]3008;end=".to_vec();
    seq.extend_from_slice(hex(id).as_bytes());
    seq.extend_from_slice(b"\x1b\\");
    Some(seq)
}

/// What the OSC steps need from the process and the terminal.
pub trait Terminal {
    /// `TERM` from the process environment, plain `getenv()` as C reads it.
    fn term_env(&self) -> Option<Vec<u8>>;
    /// `isatty_safe(STDOUT_FILENO)`: a tty, or `EIO` (a hung-up tty).
    fn stdout_is_tty(&self) -> bool;
    /// `fd_reopen(STDOUT_FILENO, O_PATH|O_CLOEXEC)` moved above stdio; the errno on failure.
    fn pin_stdout(&mut self) -> Result<OwnedFd, i32>;
    /// 16 random bytes (`random_bytes()`, which never fails).
    fn random(&mut self) -> [u8; 16];
    /// The identity fields, read now.
    fn identity(&mut self) -> Identity;
    /// `loop_write(STDOUT_FILENO, seq)` without waiting; the errno on failure.
    fn write_stdout(&mut self, seq: &[u8]) -> Result<(), i32>;
    /// `fd_reopen(pin, O_WRONLY|O_CLOEXEC|O_NONBLOCK|O_NOCTTY)` moved above stdio. `pin` is the
    /// raw fd from PAM data: borrowed, never closed here.
    fn reopen(&mut self, pin: RawFd) -> Result<OwnedFd, i32>;
    /// `isatty_safe(fd)`.
    fn is_tty(&self, fd: BorrowedFd<'_>) -> bool;
    /// `loop_write(fd, seq)` without waiting; the errno on failure.
    fn write_fd(&mut self, fd: BorrowedFd<'_>, seq: &[u8]) -> Result<(), i32>;
}

/// `pam_syslog_errno()`'s code: BUF_ERR for ENOMEM, else SERVICE_ERR.
fn errno_code(e: i32) -> Code {
    if e == libc::ENOMEM {
        PAM_BUF_ERR
    } else {
        PAM_SERVICE_ERR
    }
}

fn pam_fail(pam: &impl PamOps, code: Code, what: &str) -> Error {
    Error::new(code, format!("{what}: {}", pam.strerror(code)))
}

/// `open_osc_context()`: the last step of a 262 open, with the computed session type and the
/// record's user name. `Err` is fatal for open (its line is logged at LOG_ERR by the caller).
pub fn open_osc_context(
    pam: &mut (impl PamOps + PamData),
    tty: &mut impl Terminal,
    session_type: &[u8],
    user_name: &[u8],
) -> Result<(), Error> {
    let term = pam.getenv(c"TERM").or_else(|| tty.term_env());
    if !wanted(session_type, term.as_deref()) || !tty.stdout_is_tty() {
        return Ok(());
    }
    let pin = match tty.pin_stdout() {
        Ok(fd) => Some(fd),
        Err(e) => {
            debug!("Failed to pin TTY, ignoring: {}", strerror(e));
            None
        }
    };
    let session_id = pam.getenv(c"XDG_SESSION_ID");
    let id = v4(tty.random());
    let who = tty.identity();
    let seq = start_sequence(&id, &who, Some(user_name), session_id.as_deref());
    // On every failure below the pin is dropped, i.e. closed, as C's _cleanup_close_ does.
    tty.write_stdout(&seq).map_err(|e| {
        Error::new(
            errno_code(e),
            format!("Failed to write OSC sequence to TTY: {}", strerror(e)),
        )
    })?;
    pam.set_data_id128(ID_KEY, id)
        .map_err(|r| pam_fail(pam, r, "Failed to set PAM OSC sequence ID data"))?;
    if let Some(pin) = pin {
        pam.set_data_fd(FD_KEY, pin)
            .map_err(|r| pam_fail(pam, r, "Failed to set PAM OSC sequence fd data"))?;
    }
    Ok(())
}

/// `close_osc_context()`: the first step of a 262 close. Never fails the close (C discards its
/// result): problems are logged here and end the step.
pub fn close_osc_context(pam: &(impl PamOps + PamData), tty: &mut impl Terminal) {
    let pin = match pam.data_value(FD_KEY) {
        Ok(Some(v)) => (v as isize).wrapping_sub(1),
        Ok(None) => return,
        Err(r) => {
            error!("Failed to get PAM OSC context fd: {}", pam.strerror(r));
            return;
        }
    };
    let Ok(pin) = RawFd::try_from(pin) else { return };
    if pin < 0 {
        return;
    }
    // SAFETY: this module stores only 16-byte ids under ID_KEY (`set_data_id128`).
    let id = match unsafe { pam.data_id128(ID_KEY) } {
        Ok(Some(id)) => id,
        Ok(None) => return,
        Err(r) => {
            error!("Failed to get PAM OSC context id data: {}", pam.strerror(r));
            return;
        }
    };
    let fd = match tty.reopen(pin) {
        Ok(fd) => fd,
        Err(e) => {
            debug!("Failed to reopen TTY, ignoring: {}", strerror(e));
            return;
        }
    };
    if !tty.is_tty(fd.as_fd()) {
        return;
    }
    let Some(seq) = end_sequence(&id) else { return };
    if let Err(e) = tty.write_fd(fd.as_fd(), &seq) {
        debug!("Failed to write OSC sequence to TTY, ignoring: {}", strerror(e));
    }
}

/// The real terminal: this process's stdout, environment and identity.
pub struct SystemTerminal;

impl Terminal for SystemTerminal {
    fn term_env(&self) -> Option<Vec<u8>> {
        // SAFETY: NUL-terminated name; the value is copied at once.
        let p = unsafe { libc::getenv(c"TERM".as_ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: getenv returned a NUL-terminated string.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
    }

    fn stdout_is_tty(&self) -> bool {
        isatty_safe(libc::STDOUT_FILENO)
    }

    fn pin_stdout(&mut self) -> Result<OwnedFd, i32> {
        reopen_raw(libc::STDOUT_FILENO, libc::O_PATH | libc::O_CLOEXEC)
    }

    fn random(&mut self) -> [u8; 16] {
        random_bytes()
    }

    fn identity(&mut self) -> Identity {
        system_identity()
    }

    fn write_stdout(&mut self, seq: &[u8]) -> Result<(), i32> {
        loop_write(libc::STDOUT_FILENO, seq)
    }

    fn reopen(&mut self, pin: RawFd) -> Result<OwnedFd, i32> {
        reopen_raw(
            pin,
            libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY,
        )
    }

    fn is_tty(&self, fd: BorrowedFd<'_>) -> bool {
        isatty_safe(std::os::fd::AsRawFd::as_raw_fd(&fd))
    }

    fn write_fd(&mut self, fd: BorrowedFd<'_>, seq: &[u8]) -> Result<(), i32> {
        loop_write(std::os::fd::AsRawFd::as_raw_fd(&fd), seq)
    }
}

fn isatty_safe(fd: RawFd) -> bool {
    // SAFETY: isatty on any integer is defined (EBADF for a closed fd).
    let tty = unsafe { libc::isatty(fd) } == 1;
    tty || crate::sys::errno() == libc::EIO
}

/// `fd_reopen()` through `/proc/self/fd/N`, then `fd_move_above_stdio()`.
fn reopen_raw(fd: RawFd, flags: i32) -> Result<OwnedFd, i32> {
    let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).map_err(|_| libc::EINVAL)?;
    // SAFETY: NUL-terminated path; the result is checked.
    let n = unsafe { libc::open(path.as_ptr(), flags) };
    if n < 0 {
        let e = crate::sys::errno();
        if e != libc::ENOENT {
            return Err(e);
        }
        // proc_fd_enoent_errno(): no such fd if /proc is there, else /proc is missing.
        // SAFETY: NUL-terminated path.
        let proc_there = unsafe { libc::access(c"/proc/self/fd".as_ptr(), libc::F_OK) } == 0;
        return Err(if proc_there { libc::EBADF } else { libc::ENOSYS });
    }
    // SAFETY: a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(n) };
    Ok(move_above_stdio(fd))
}

/// `fd_move_above_stdio()`: an fd in 0..=2 is duplicated to ≥ 3 (`F_DUPFD_CLOEXEC`) and the low
/// one closed; if that fails the low one is kept.
fn move_above_stdio(fd: OwnedFd) -> OwnedFd {
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    if raw > 2 {
        return fd;
    }
    // SAFETY: fcntl on a valid fd; a non-negative result is a new fd we own.
    let n = unsafe { libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return fd;
    }
    // SAFETY: a fresh fd that nothing else owns; `fd` (the low one) is closed on drop.
    unsafe { OwnedFd::from_raw_fd(n) }
}

/// `loop_write(fd, buf, SIZE_MAX)` with no timeout: EINTR retried, EAGAIN an error, a zero
/// write EIO.
fn loop_write(fd: RawFd, mut buf: &[u8]) -> Result<(), i32> {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for its length.
        let k = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if k < 0 {
            let e = crate::sys::errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        let k = usize::try_from(k).map_err(|_| libc::EIO)?;
        if k == 0 {
            return Err(libc::EIO);
        }
        buf = buf.get(k..).unwrap_or_default();
    }
    Ok(())
}

/// `random_bytes()`: `getrandom(GRND_INSECURE)`, else `/dev/urandom`, else (C's "terrible
/// fallback") bytes from the clock and pid.
fn random_bytes() -> [u8; 16] {
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or_default();
        // SAFETY: `rest` is writable for its length.
        let l = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), libc::GRND_INSECURE) };
        if l <= 0 {
            break;
        }
        got += usize::try_from(l).unwrap_or(0);
    }
    if got == buf.len() {
        return buf;
    }
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom")
        && f.read_exact(&mut buf).is_ok()
    {
        return buf;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = t ^ (u128::from(std::process::id()) << 64);
    mixed.to_le_bytes()
}

unsafe extern "C" {
    /// glibc's basename of `argv[0]`, what C prints as `comm=`.
    static program_invocation_short_name: *const libc::c_char;
}

fn system_identity() -> Identity {
    // SAFETY: glibc initialises this pointer before any code of ours runs and never frees it.
    let comm_p = unsafe { program_invocation_short_name };
    let comm = if comm_p.is_null() {
        Vec::new()
    } else {
        // SAFETY: a NUL-terminated string owned by the process; copied at once.
        unsafe { CStr::from_ptr(comm_p) }.to_bytes().to_vec()
    };
    Identity {
        user: Some(user_name()),
        hostname: Some(hostname()),
        machine_id: std::fs::read("/etc/machine-id")
            .ok()
            .and_then(|b| parse_id128(&b, false)),
        boot_id: std::fs::read("/proc/sys/kernel/random/boot_id")
            .ok()
            .and_then(|b| parse_id128(&b, true)),
        pid: std::process::id(),
        pidfd_id: pidfd_id_self(),
        comm,
    }
}

/// `getusername_malloc()`.
fn user_name() -> Vec<u8> {
    // SAFETY: NUL-terminated name; the value is copied at once.
    let p = unsafe { crate::ffi::secure_getenv(c"USER".as_ptr()) };
    if !p.is_null() {
        // SAFETY: secure_getenv returned a NUL-terminated string.
        return unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        return b"root".to_vec();
    }
    // SAFETY: NUL-terminated path.
    if uid == 65534 && unsafe { libc::access(c"/etc/systemd/dont-synthesize-nobody".as_ptr(), libc::F_OK) } != 0 {
        return b"nobody".to_vec();
    }
    if uid != 65535
        && let Some(name) = passwd_name(uid)
    {
        return name;
    }
    uid.to_string().into_bytes()
}

fn passwd_name(uid: u32) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: all-zero passwd is a valid out-parameter.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: valid out-pointers and a buffer of the stated length.
        let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut res) };
        if r == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if r != 0 || res.is_null() || pw.pw_name.is_null() {
            return None;
        }
        // SAFETY: pw_name points into `buf`, NUL-terminated.
        return Some(unsafe { CStr::from_ptr(pw.pw_name) }.to_bytes().to_vec());
    }
}

/// `gethostname_malloc()`: the node name, or for an empty or `(none)` one the default host name.
fn hostname() -> Vec<u8> {
    // SAFETY: all-zero utsname is a valid out-parameter.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    if unsafe { libc::uname(&mut u) } == 0 {
        // SAFETY: uname NUL-terminates nodename.
        let n = unsafe { CStr::from_ptr(u.nodename.as_ptr()) }.to_bytes();
        if !n.is_empty() && n != b"(none)" {
            return n.to_vec();
        }
    }
    default_hostname()
}

/// `get_default_hostname()`: `$SYSTEMD_DEFAULT_HOSTNAME` (secure_getenv), else os-release's
/// `DEFAULT_HOSTNAME`, each when it is a valid host name, else `localhost` (the build's
/// `FALLBACK_HOSTNAME`; Debian keeps meson's default). Not followed: the `?`/`$` wildcards C
/// substitutes from the machine id (such a name is skipped here). Only reached on a machine
/// whose kernel has no host name at all.
fn default_hostname() -> Vec<u8> {
    // SAFETY: NUL-terminated name.
    let p = unsafe { crate::ffi::secure_getenv(c"SYSTEMD_DEFAULT_HOSTNAME".as_ptr()) };
    if !p.is_null() {
        // SAFETY: NUL-terminated value, copied at once.
        let v = unsafe { CStr::from_ptr(p) }.to_bytes();
        if hostname_is_valid(v) {
            return v.to_vec();
        }
    }
    let os_release = std::fs::read("/etc/os-release").or_else(|_| std::fs::read("/usr/lib/os-release"));
    if let Some(v) = os_release.ok().and_then(|t| os_release_value(&t, b"DEFAULT_HOSTNAME"))
        && hostname_is_valid(&v)
    {
        return v;
    }
    b"localhost".to_vec()
}

/// The value of `key` in an os-release file: the last `KEY=value` line, one pair of matching
/// outer quotes removed.
pub fn os_release_value(text: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let mut found = None;
    for line in text.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if let Some(v) = line.strip_prefix(key).and_then(|r| r.strip_prefix(b"=")) {
            let v = match v {
                [q @ (b'"' | b'\''), inner @ .., last] if last == q => inner,
                v => v,
            };
            found = Some(v.to_vec());
        }
    }
    found
}

/// `hostname_is_valid(s, 0)`: 1–64 bytes of dot-separated LDH labels, no empty label, no
/// leading or trailing dot.
fn hostname_is_valid(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split(|&b| b == b'.')
            .all(|l| !l.is_empty() && l.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// `id128_read_fd()` for one format: 32 hex digits (`uuid` false) or the 36-character UUID
/// form, optionally followed by one newline; the null id is refused.
pub fn parse_id128(b: &[u8], uuid: bool) -> Option<[u8; 16]> {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    let digits: Vec<u8> = if uuid {
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b.get(i) != Some(&b'-')) {
            return None;
        }
        b.iter().copied().filter(|&c| c != b'-').collect()
    } else {
        b.to_vec()
    };
    if digits.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        *id.get_mut(i)? = u8::from_str_radix(s, 16).ok()?;
    }
    if id.iter().all(|&x| x == 0) {
        return None;
    }
    Some(id)
}

/// `pidfd_get_inode_id_self_cached()`: the inode id of a pidfd of ourselves, on pidfs only (the
/// one the Varlink transport sends in its `PID` object).
fn pidfd_id_self() -> Option<u64> {
    crate::varlink::login::pidfd_id_self()
}

#[cfg(test)]
mod tests;
