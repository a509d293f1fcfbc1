//! The two `io.systemd.Login` calls pam_systemd 262 makes over Varlink, built and read exactly as
//! `src/login/pam_systemd.c` (262) does: `register_session()` sends `CreateSession`,
//! `pam_sm_close_session()` sends `ReleaseSession`; the interface is
//! `src/shared/varlink-io.systemd.Login.c`.
//!
//! * [`create_session_parameters`] / [`release_session_parameters`]: the parameters object,
//!   member for member as C's `sd_varlink_callbo()` argument list builds it (pure).
//! * [`read_created`]: `CreateSession`'s reply parameters, dispatched as C's table does (pure).
//! * [`own_pidref`]: our process as C sends it (pid, pidfd ID, boot ID; I/O).
//! * [`create_session`] / [`release_session`]: connect, call, and C's reading of the answer.
//!
//! When C uses Varlink at all: for `CreateSession` only when none of the five PAM data
//! `systemd.memory_max`, `systemd.tasks_max`, `systemd.cpu_weight`, `systemd.io_weight`,
//! `systemd.runtime_max_sec` is set (`can_use_varlink()`: the scope properties only go over
//! D-Bus), and never for class `none`; `ReleaseSession` whenever `XDG_SESSION_ID` is set. It goes
//! to D-Bus only when the connect fails ([`super::Error::falls_back`]); any later failure is the
//! login's failure. The Varlink reply has no session fd, no object path and no "existing" flag.
//!
//! No file descriptor travels: C enables output fd passing on the connection but pushes none; the
//! session leader goes as a JSON "pidref" (`pid`, `pidfdId`, `bootId`), which logind turns back
//! into a pidfd and checks (`json_dispatch_pidref()` with `SD_JSON_STRICT`).

use std::time::Instant;

use super::{Connection, Error, Failure, error_to_errno};
use crate::json::{self, Value};
use crate::user::utf8::utf8_is_valid;

/// logind's Varlink socket.
pub const SOCKET: &[u8] = b"/run/systemd/io.systemd.Login";
/// The method that registers a session.
pub const CREATE_SESSION: &str = "io.systemd.Login.CreateSession";
/// The method that releases one.
pub const RELEASE_SESSION: &str = "io.systemd.Login.ReleaseSession";
/// The error that means "the caller already is in a session": C returns `PAM_SUCCESS` and sets
/// nothing (as for D-Bus's `SessionBusy`).
pub const ALREADY_SESSION_MEMBER: &str = "io.systemd.Login.AlreadySessionMember";

/// A process reference as `json_variant_new_pidref()` sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pidref {
    pub pid: i32,
    /// The pidfd's inode ID (`pidfd_get_inode_id()`); 0 when unknown, then left out.
    pub pidfd_id: u64,
    /// The boot ID, sent only with a pidfd ID (as C acquires it only then).
    pub boot_id: Option<[u8; 16]>,
}

/// Why [`own_pidref`] failed, as C tells the two apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidrefError {
    /// `pidfd_open()` of ourselves failed other than for lack of resources: "Failed to acquire
    /// PID reference on ourselves: %m" (C returns `PAM_SERVICE_ERR`).
    Acquire(i32),
    /// The pidfd ID or the boot ID could not be read, so sd-json could not build the call:
    /// "Failed to issue io.systemd.Login.CreateSession varlink call: %m".
    Build(i32),
}

/// `PID_FS_MAGIC`: the file system type of a pidfd on kernels with pidfs (6.9+).
const PID_FS_MAGIC: i64 = 0x5049_4446;

/// `pidfd_open(getpid(), 0)`.
fn pidfd_open_self() -> Result<std::os::fd::OwnedFd, i32> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain syscall with integer arguments; the result is checked.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if r < 0 {
        return Err(crate::sys::errno());
    }
    let fd = libc::c_int::try_from(r).map_err(|_| libc::EBADF)?;
    // SAFETY: a fresh fd that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// `pidfd_get_inode_id()`: on pidfs only (else `EOPNOTSUPP`), the first 64 bits of the pidfd's
/// file handle (kernel 6.14+), else, where the kernel has no such handle, its inode number.
fn pidfd_inode_id(fd: std::os::fd::BorrowedFd<'_>) -> Result<u64, i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero statfs is valid; fstatfs fills it.
    let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `sfs` is writable; the fd is open (borrowed).
    if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut sfs) } < 0 {
        return Err(crate::sys::errno());
    }
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // f_type's type varies by arch
    if i64::from(sfs.f_type) != PID_FS_MAGIC {
        return Err(libc::EOPNOTSUPP);
    }
    // struct file_handle { u32 handle_bytes; i32 handle_type; u8 f_handle[128]; }, 8-aligned.
    const MAX_HANDLE_SZ: u32 = 128;
    let mut buf = [0u64; 1 + MAX_HANDLE_SZ as usize / 8];
    let head = buf.as_mut_ptr().cast::<u32>();
    // SAFETY: the buffer starts with room for the u32 handle_bytes field.
    unsafe { head.write(MAX_HANDLE_SZ) };
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `buf` is a writable file_handle of MAX_HANDLE_SZ handle bytes; the path is an empty
    // C string used with AT_EMPTY_PATH on an open fd.
    let r = unsafe {
        libc::name_to_handle_at(
            fd.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut mount_id,
            libc::AT_EMPTY_PATH,
        )
    };
    if r == 0 {
        // SAFETY: the kernel wrote handle_bytes into the first u32.
        let handle_bytes = unsafe { head.read() };
        if handle_bytes < 8 {
            return Err(libc::EBADMSG);
        }
        // f_handle starts at byte 8, which is buf[1]: its first 8 bytes, native endian.
        return buf.get(1).copied().ok_or(libc::EBADMSG);
    }
    let e = crate::sys::errno();
    let not_supported = matches!(
        e,
        libc::EOPNOTSUPP
            | libc::ENOTTY
            | libc::ENOSYS
            | libc::EAFNOSUPPORT
            | libc::EPFNOSUPPORT
            | libc::EPROTONOSUPPORT
            | libc::ESOCKTNOSUPPORT
            | libc::ENOPROTOOPT
    );
    if !(not_supported || matches!(e, libc::EPERM | libc::EACCES | libc::EOVERFLOW | libc::EINVAL)) {
        return Err(e);
    }
    // SAFETY: an all-zero stat is valid; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable; the fd is open (borrowed).
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(crate::sys::errno());
    }
    Ok(st.st_ino)
}

/// The inode id of a pidfd of ourselves (`pidfd_get_inode_id_self_cached()`), where pidfs
/// gives one; `None` otherwise. Shared with the OSC 3008 context.
pub(crate) fn pidfd_id_self() -> Option<u64> {
    let fd = pidfd_open_self().ok()?;
    pidfd_inode_id(std::os::fd::AsFd::as_fd(&fd)).ok()
}

/// `sd_id128_get_boot()`: /proc/sys/kernel/random/boot_id (the UUID form, with its newline).
fn boot_id() -> Result<[u8; 16], i32> {
    let b = std::fs::read("/proc/sys/kernel/random/boot_id").map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let t = b.strip_suffix(b"\n").unwrap_or(&b);
    match crate::user::record_read::parse_id128(t) {
        Some(id) if id.iter().any(|&x| x != 0) => Ok(id),
        Some(_) => Err(libc::ENOMEDIUM),
        None => Err(libc::EUCLEAN),
    }
}

/// Our own process as C 262 sends it (`pidref_set_self()` + `json_variant_new_pidref()`): the
/// pid; the pidfd ID when the kernel has pidfs; then the boot ID. A `pidfd_open()` failure is
/// fatal unless for lack of resources (EMFILE, ENFILE, ENOMEM: then no pidfd and no ID). The
/// pidfd itself is not sent and is closed here.
pub fn own_pidref() -> Result<Pidref, PidrefError> {
    // SAFETY: getpid() has no preconditions.
    let pid = unsafe { libc::getpid() };
    // pidfd_get_inode_id_self_cached(): a failure only leaves the ID unknown.
    let mut pidfd_id = pidfd_open_self()
        .ok()
        .and_then(|fd| pidfd_inode_id(std::os::fd::AsFd::as_fd(&fd)).ok())
        .unwrap_or(0);
    match pidfd_open_self() {
        Ok(fd) => {
            // pidref_acquire_pidfd_id() when the cached attempt found nothing: "not supported"
            // is fine, anything else fails the build.
            if pidfd_id == 0 {
                match pidfd_inode_id(std::os::fd::AsFd::as_fd(&fd)) {
                    Ok(id) => pidfd_id = id,
                    Err(
                        libc::EOPNOTSUPP
                        | libc::ENOTTY
                        | libc::ENOSYS
                        | libc::EAFNOSUPPORT
                        | libc::EPFNOSUPPORT
                        | libc::EPROTONOSUPPORT
                        | libc::ESOCKTNOSUPPORT
                        | libc::ENOPROTOOPT,
                    ) => {}
                    Err(e) => return Err(PidrefError::Build(e)),
                }
            }
        }
        Err(libc::EMFILE | libc::ENFILE | libc::ENOMEM) => {}
        Err(e) => return Err(PidrefError::Acquire(e)),
    }
    let boot_id = if pidfd_id > 0 {
        Some(boot_id().map_err(PidrefError::Build)?)
    } else {
        None
    };
    Ok(Pidref { pid, pidfd_id, boot_id })
}

/// What `register_session()` sends, by the names of C's `SessionContext` fields. Strings are
/// bytes as PAM and the environment give them; "empty" is C's `isempty()` (NULL or "").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateSession<'a> {
    /// `ur->uid`.
    pub uid: u32,
    /// The module's own process.
    pub pid: Option<Pidref>,
    pub service: &'a [u8],
    /// Sent always, `-`/`+` turned into `_` (`JSON_BUILD_PAIR_ENUM`).
    pub session_type: &'a [u8],
    /// Sent always, `-`/`+` turned into `_` (`user-light` → `user_light`).
    pub class: &'a [u8],
    pub desktop: &'a [u8],
    pub seat: &'a [u8],
    /// Left out when 0.
    pub vtnr: u32,
    pub tty: &'a [u8],
    pub display: &'a [u8],
    /// Sent always.
    pub remote: bool,
    pub remote_user: &'a [u8],
    pub remote_host: &'a [u8],
    /// Left out when empty.
    pub extra_device_access: &'a [&'a [u8]],
}

/// `json_underscorify()`: `-`, `+` → `_`.
fn underscorify(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| if c == b'-' || c == b'+' { b'_' } else { c })
        .collect()
}

/// A string member; sd-json refuses strings that are not UTF-8 (`EUCLEAN`), which fails the
/// whole call before anything is sent.
fn push_utf8(out: &mut Vec<u8>, key: &str, v: &[u8]) -> Result<(), i32> {
    if !utf8_is_valid(v) {
        return Err(libc::EUCLEAN);
    }
    json::push_str(out, key, v);
    Ok(())
}

/// `JSON_BUILD_PAIR_STRING_NON_EMPTY`: left out when empty.
fn push_non_empty(out: &mut Vec<u8>, key: &str, v: &[u8]) -> Result<(), i32> {
    if v.is_empty() { Ok(()) } else { push_utf8(out, key, v) }
}

fn hex(id: &[u8; 16]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(32);
    for &b in id {
        out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
        out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
    }
    out
}

/// The `CreateSession` parameters object, members in C's order: `UID`, `PID`, `Service`, `Type`,
/// `Class`, `Desktop`, `Seat`, `VTNr`, `TTY`, `Display`, `Remote`, `RemoteUser`, `RemoteHost`,
/// `ExtraDeviceAccess`. Err(EUCLEAN) for a string that is not UTF-8 (C: "Failed to issue
/// io.systemd.Login.CreateSession varlink call: Structure needs cleaning").
pub fn create_session_parameters(c: &CreateSession<'_>) -> Result<Vec<u8>, i32> {
    let mut o = Vec::with_capacity(256);
    o.push(b'{');
    json::push_u64(&mut o, "UID", u64::from(c.uid));
    json::push_key(&mut o, "PID");
    match &c.pid {
        None => o.extend_from_slice(b"null"),
        Some(p) => {
            o.push(b'{');
            json::push_i64(&mut o, "pid", i64::from(p.pid));
            if p.pidfd_id > 0 {
                json::push_u64(&mut o, "pidfdId", p.pidfd_id);
                if let Some(b) = p.boot_id.filter(|b| b.iter().any(|&x| x != 0)) {
                    json::push_str(&mut o, "bootId", &hex(&b));
                }
            }
            o.push(b'}');
        }
    }
    push_non_empty(&mut o, "Service", c.service)?;
    push_utf8(&mut o, "Type", &underscorify(c.session_type))?;
    push_utf8(&mut o, "Class", &underscorify(c.class))?;
    push_non_empty(&mut o, "Desktop", c.desktop)?;
    push_non_empty(&mut o, "Seat", c.seat)?;
    if c.vtnr != 0 {
        json::push_u64(&mut o, "VTNr", u64::from(c.vtnr));
    }
    push_non_empty(&mut o, "TTY", c.tty)?;
    push_non_empty(&mut o, "Display", c.display)?;
    json::push_bool(&mut o, "Remote", c.remote);
    push_non_empty(&mut o, "RemoteUser", c.remote_user)?;
    push_non_empty(&mut o, "RemoteHost", c.remote_host)?;
    if !c.extra_device_access.is_empty() {
        if !c.extra_device_access.iter().all(|d| utf8_is_valid(d)) {
            return Err(libc::EUCLEAN);
        }
        json::push_strv(&mut o, "ExtraDeviceAccess", c.extra_device_access);
    }
    o.push(b'}');
    Ok(o)
}

/// The `ReleaseSession` parameters: `{"Id":ID}` (`SD_JSON_BUILD_PAIR_STRING`).
pub fn release_session_parameters(id: &[u8]) -> Result<Vec<u8>, i32> {
    let mut o = vec![b'{'];
    push_utf8(&mut o, "Id", id)?;
    o.push(b'}');
    Ok(o)
}

/// What a created session's reply says (C's struct in `register_session()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// `Id` → `XDG_SESSION_ID`.
    pub id: Vec<u8>,
    /// `RuntimePath` → `XDG_RUNTIME_DIR`: a valid absolute path.
    pub runtime_path: Vec<u8>,
    /// `UID` (the original UID); None for null (C: `UID_INVALID`).
    pub uid: Option<u32>,
    /// `Seat`; None when absent.
    pub seat: Option<Vec<u8>>,
    /// `VTNr`: 0 when absent, `u32::MAX` for null (`sd_json_dispatch_uint()`).
    pub vtnr: u32,
}

/// `sd_json_dispatch_uint64()` on a field of any type: an unsigned number, or a string
/// `safe_atou64()` reads; else EINVAL.
fn dispatch_u64(v: &Value) -> Result<u64, i32> {
    if let Value::Str(s) = v
        && let Some(u) = crate::parse::safe_atou64(s)
    {
        return Ok(u);
    }
    v.as_unsigned().ok_or(libc::EINVAL)
}

/// `sd_json_dispatch_uint32()`: null → `u32::MAX`, more than 32 bits → ERANGE.
fn dispatch_u32(v: &Value) -> Result<u32, i32> {
    if *v == Value::Null {
        return Ok(u32::MAX);
    }
    u32::try_from(dispatch_u64(v)?).map_err(|_| libc::ERANGE)
}

/// `path_is_valid()`: not empty, shorter than `PATH_MAX`, no component longer than `NAME_MAX`.
fn path_is_valid(p: &[u8]) -> bool {
    !p.is_empty() && p.len() < 4096 && p.split(|&c| c == b'/').all(|c| c.len() <= 255)
}

/// Reads `CreateSession`'s reply parameters as C does: `sd_json_dispatch(vreply, table,
/// SD_JSON_ALLOW_EXTENSIONS)`. `Id` and `RuntimePath` must be strings, `UID` present; `Seat` a
/// string; unknown members are ignored, a known one twice is `ENOTUNIQ`, a wrong type `EINVAL`, a
/// missing mandatory one `ENXIO` (C: "Failed to parse CreateSession() reply: %m").
///
/// `parameters` None (no `parameters` in the reply) reads as an empty object.
pub fn read_created(parameters: Option<&Value>) -> Result<Created, i32> {
    let empty = Value::Object(Vec::new());
    let p = parameters.unwrap_or(&empty);
    let Value::Object(members) = p else {
        return Err(libc::EINVAL);
    };
    let (mut id, mut runtime_path, mut uid, mut seat, mut vtnr) = (None, None, None, None, 0u32);
    // Dispatch-table order: Id, RuntimePath, UID, Seat, VTNr.
    let mut found = [false; 5];
    for (k, v) in members {
        let slot = match k.as_slice() {
            b"Id" => 0,
            b"RuntimePath" => 1,
            b"UID" => 2,
            b"Seat" => 3,
            b"VTNr" => 4,
            _ => continue,
        };
        let typed_string = matches!(slot, 0 | 1 | 3);
        if typed_string && !matches!(v, Value::Str(_)) {
            return Err(libc::EINVAL);
        }
        let seen = found.get_mut(slot).ok_or(libc::EINVAL)?;
        if *seen {
            return Err(libc::ENOTUNIQ);
        }
        *seen = true;
        match (slot, v) {
            (0, Value::Str(s)) => id = Some(s.clone()),
            (1, Value::Str(s)) => {
                if !path_is_valid(s) || s.first() != Some(&b'/') {
                    return Err(libc::EINVAL);
                }
                runtime_path = Some(s.clone());
            }
            (2, Value::Null) => uid = None,
            (2, v) => {
                let u = dispatch_u32(v)?;
                if !crate::user::uid_is_valid(u) {
                    return Err(libc::EINVAL);
                }
                uid = Some(u);
            }
            (3, Value::Str(s)) => seat = Some(s.clone()),
            (4, v) => vtnr = dispatch_u32(v)?,
            _ => return Err(libc::EINVAL),
        }
    }
    let [has_id, has_path, has_uid, _, _] = found;
    if !(has_id && has_path && has_uid) {
        return Err(libc::ENXIO);
    }
    match (id, runtime_path) {
        (Some(id), Some(runtime_path)) => Ok(Created {
            id,
            runtime_path,
            uid,
            seat,
            vtnr,
        }),
        _ => Err(libc::ENXIO),
    }
}

/// How `CreateSession` ended, when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registered {
    Created(Created),
    /// `io.systemd.Login.AlreadySessionMember`: C logs "Not creating session: %s" (debug) and
    /// returns `PAM_SUCCESS` with nothing set.
    AlreadySessionMember,
}

/// `register_session()`'s Varlink part: connect to `socket` (C: `SOCKET`), call `CreateSession`,
/// read the answer; one `deadline` over all of it. An [`Error`] that [`Error::falls_back`] means
/// C would now use D-Bus; any other is C's `PAM_SERVICE_ERR` (or `PAM_BUF_ERR`), with
/// [`Error::c_line`] as its log line.
pub fn create_session(socket: &[u8], deadline: Option<Instant>, c: &CreateSession<'_>) -> Result<Registered, Error> {
    let mut conn = Connection::connect(socket, deadline, CREATE_SESSION)?;
    let params = create_session_parameters(c).map_err(|e| conn.error(CREATE_SESSION, Failure::Encode(e)))?;
    let reply = conn.call(CREATE_SESSION, &params, &[])?;
    match reply.error {
        Some(name) if name == ALREADY_SESSION_MEMBER => Ok(Registered::AlreadySessionMember),
        Some(name) => {
            let errno = error_to_errno(&name, reply.parameters.as_ref());
            Err(conn.error(CREATE_SESSION, Failure::Reply { name, errno }))
        }
        None => read_created(reply.parameters.as_ref())
            .map(Registered::Created)
            .map_err(|e| conn.error(CREATE_SESSION, Failure::BadParameters(e))),
    }
}

/// `pam_sm_close_session()`'s Varlink part: `ReleaseSession` of `id`. The reply's parameters
/// are not read, and an error reply's errno comes from its name alone (C passes no reply to
/// `sd_varlink_error_to_errno()` here).
pub fn release_session(socket: &[u8], deadline: Option<Instant>, id: &[u8]) -> Result<(), Error> {
    let mut conn = Connection::connect(socket, deadline, RELEASE_SESSION)?;
    let params = release_session_parameters(id).map_err(|e| conn.error(RELEASE_SESSION, Failure::Encode(e)))?;
    let reply = conn.call(RELEASE_SESSION, &params, &[])?;
    match reply.error {
        None => Ok(()),
        Some(name) => {
            let errno = error_to_errno(&name, None);
            Err(conn.error(RELEASE_SESSION, Failure::Reply { name, errno }))
        }
    }
}

#[cfg(test)]
mod tests;
