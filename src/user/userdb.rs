//! `userdb_by_name(name, flags 0)` (`src/shared/userdb.c`, `userdb-dropin.c`) as pam_systemd
//! 257 and later call it for a user no earlier module cached a record of:
//!
//! 1. the name must pass systemd's relaxed user-name check (else `EINVAL`);
//! 2. `io.systemd.Multiplexer` in [`SOCKET_DIR`] (systemd-userdbd): if it connects it alone is
//!    asked, and it covers the drop-ins and NSS (no client-side fallbacks for them);
//! 3. else every other socket of [`SOCKET_DIR`] in directory order (262: minus those whose
//!    `user.userdb.username` xattr patterns do not match the name); a connected
//!    `io.systemd.DropIn` / `io.systemd.NameServiceSwitch` covers that fallback;
//! 4. on any failure (but 262's `ENOEXEC`): drop-in `<name>.user` (+ `<name>.user-privileged`)
//!    in [`DROPIN_DIRS`] unless covered, then NSS unless covered.
//!
//! The call is `io.systemd.UserDatabase.GetUserRecord` with `{"userName":NAME,"service":SOCKET}`
//! on the blocking client ([`crate::varlink`]), one service after the other within the one
//! deadline. C connects to all of them at once and takes the first record that arrives; here the
//! first in directory order that answers with a record wins, which differs only when two
//! services both know the user (C: the faster one). Errors combine as C combines them: `ENOEXEC`
//! beats `ESRCH`, `ESRCH` beats the first other error.
//!
//! Logging: C's lookup logs at debug level through systemd's own logger, which pam_systemd leaves
//! at info, so nothing of it shows; here a service that misbehaves (no answer within the deadline,
//! a reply that is no Varlink, a record refused) gets one WARNING naming it, and nothing else is
//! logged.
//!
//! The found record is what C caches as PAM data: `sd_json_variant_format(record, 0)` of the
//! JSON the service sent (or the drop-in file held, or NSS gave) — [`crate::json::format()`] of the
//! record as the reply was parsed (once), [`crate::json::format_canonical`] of a drop-in's text.
//! A record is checked with the cached-record reader ([`super::record_read`],
//! `REFUSE_SECRET|PERMISSIVE`) and one from a service must name its `service`.
//!
//! Not done (C does): root / nobody / `foreign-N` synthesized when nothing knows them (Debian's
//! passwd has root and nobody); the `SYSTEMD_BYPASS_USERDB` / `SYSTEMD_ONLY_USERDB` switches
//! (C reads them with plain `getenv`; an environment must not steer a root module here).

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use log::warn;

use super::record_read::{self, CachedRecord};
use super::utf8::valid_user_name_relaxed;
use crate::host::NssUser;
use crate::json;
use crate::varlink::{Connection, Failure, Reply};

/// Where C looks for userdb services.
pub const SOCKET_DIR: &str = "/run/systemd/userdb/";
/// Where C looks for `<name>.user` drop-ins (`USERDB_DROPIN_DIR_NULSTR("userdb")`), in order.
pub const DROPIN_DIRS: [&str; 5] = [
    "/etc/userdb/",
    "/run/userdb/",
    "/run/host/userdb/",
    "/usr/local/lib/userdb/",
    "/usr/lib/userdb/",
];
/// The multiplexer of systemd-userdbd.
const MULTIPLEXER: &str = "io.systemd.Multiplexer";
const METHOD: &str = "io.systemd.UserDatabase.GetUserRecord";
/// sd-varlink's default method timeout: C waits no longer for any service.
pub const SERVICE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);

/// How a generation's `userdb_by_name()` differs (a field of its rules entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavour {
    /// 262: sockets carry `user.userdb.username` xattr patterns that filter them.
    pub xattr_filter: bool,
    /// 262: `io.systemd.UserDatabase.NonMatchingRecordFound` is `ENOEXEC` and ends the lookup;
    /// 257: `EIO` like any unknown error.
    pub non_matching: bool,
    /// 262: a lookup nothing answered ends with `ESRCH`; 257: with the last attempted step's error.
    pub unknown_is_esrch: bool,
    /// 262: a found record without a valid uid is refused before it is cached, USER_UNKNOWN
    /// (`User record of user '%s' has no UID, refusing.`); 257 caches it and fails with
    /// SERVICE_ERR (`Acquired user record does not have a UID.`).
    pub no_uid_unknown: bool,
}

/// Where to look: [`Places::system`] in the module; a temporary directory in tests.
#[derive(Debug, Clone)]
pub struct Places {
    pub sockets: PathBuf,
    pub dropins: Vec<PathBuf>,
}

impl Places {
    /// The real paths (the module knows no other).
    pub fn system() -> Places {
        Places {
            sockets: PathBuf::from(SOCKET_DIR),
            dropins: DROPIN_DIRS.iter().map(PathBuf::from).collect(),
        }
    }
}

/// Which step found the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A service (its socket name).
    Service(String),
    /// A drop-in file.
    DropIn(PathBuf),
    /// NSS.
    Nss,
}

/// A found record: the JSON C caches, the record as C holds it (read from the text found, not
/// from the cached form: sd-json writes a `\u007f` back as a raw DEL that its reader refuses),
/// and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub json: Vec<u8>,
    pub record: CachedRecord,
    pub source: Source,
}

/// The client-side NSS step: the name's JSON record and uid, or the errno.
pub type NssStep<'a> = dyn Fn(&[u8]) -> Result<NssUser, i32> + 'a;

/// `userdb_by_name(name, NULL, 0)`; `Err(errno)`. `nss` is the client-side NSS step (the JSON
/// record of `getpwnam_r` + `getspnam_r`, or the errno).
pub fn by_name(
    name: &[u8],
    flavour: Flavour,
    places: &Places,
    deadline: Option<Instant>,
    nss: &NssStep<'_>,
) -> Result<Found, i32> {
    if !valid_user_name_relaxed(name) {
        return Err(libc::EINVAL);
    }
    let mut covered = Covered::default();
    let mut r = match query_services(name, flavour, places, deadline, &mut covered) {
        Ok(found) => return Ok(found),
        Err(e) => e,
    };
    if r == libc::ENOEXEC && flavour.non_matching {
        return Err(r);
    }
    if !covered.dropin {
        match dropin_by_name(name, &places.dropins) {
            Ok(found) => return Ok(found),
            Err(e) => r = e,
        }
    }
    if !covered.nss {
        match nss(name) {
            Ok(user) => {
                // nss_passwd_to_user_record() builds the record; nothing in it but identity
                // reaches the session (NSS records carry no settings).
                let record = CachedRecord {
                    name: String::from_utf8_lossy(name).into_owned(),
                    uid: Some(user.uid),
                    disposition: None,
                    settings: Default::default(),
                    process: Default::default(),
                };
                return Ok(Found {
                    json: user.json,
                    record,
                    source: Source::Nss,
                });
            }
            Err(e) => r = e,
        }
    }
    Err(if flavour.unknown_is_esrch { libc::ESRCH } else { r })
}

#[derive(Debug, Default)]
struct Covered {
    dropin: bool,
    nss: bool,
}

/// `userdb_start_query()` + `userdb_process()`: the services.
fn query_services(
    name: &[u8],
    flavour: Flavour,
    places: &Places,
    deadline: Option<Instant>,
    covered: &mut Covered,
) -> Result<Found, i32> {
    let multiplexer = places.sockets.join(MULTIPLEXER);
    if let Ok(conn) = Connection::connect(multiplexer.as_os_str().as_bytes(), deadline, METHOD) {
        covered.dropin = true;
        covered.nss = true;
        return ask(conn, MULTIPLEXER, name, flavour);
    }
    let dir = std::fs::read_dir(&places.sockets).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) | None => libc::ESRCH,
        Some(e) => e,
    })?;
    let mut first_connect_error = None;
    let mut connected = false;
    let mut error: i32 = 0;
    for entry in dir {
        let entry = entry.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        let file = entry.file_name();
        let Some(service) = file.to_str() else { continue };
        if service == MULTIPLEXER {
            continue;
        }
        let path = places.sockets.join(&file);
        if flavour.xattr_filter && !xattr_admits(&path, name) {
            continue;
        }
        let conn = match Connection::connect(path.as_os_str().as_bytes(), deadline, METHOD) {
            Ok(c) => c,
            Err(e) => {
                first_connect_error.get_or_insert(e.errno());
                continue;
            }
        };
        connected = true;
        match service {
            "io.systemd.NameServiceSwitch" => covered.nss = true,
            "io.systemd.DropIn" => covered.dropin = true,
            _ => {}
        }
        match ask(conn, service, name, flavour) {
            Ok(found) => return Ok(found),
            Err(r) => {
                // userdb_on_query_reply(): ENOEXEC wins, then ESRCH, else the first error.
                if r == libc::ENOEXEC || (r == libc::ESRCH && error != libc::ENOEXEC) || error == 0 {
                    error = r;
                }
            }
        }
    }
    if !connected {
        return Err(first_connect_error.unwrap_or(libc::ESRCH));
    }
    Err(if error == 0 { libc::ESRCH } else { error })
}

/// One service's answer: the record, or the errno `userdb_on_query_reply()` makes of it.
fn ask(mut conn: Connection, service: &str, name: &[u8], flavour: Flavour) -> Result<Found, i32> {
    let mut query = vec![b'{'];
    json::push_str(&mut query, "userName", name);
    json::push_str(&mut query, "service", service.as_bytes());
    query.push(b'}');
    let reply = match conn.call(METHOD, &query, &[]) {
        Ok(r) => r,
        Err(e) => {
            // sd-varlink: a local timeout is io.systemd.TimedOut (ETIMEDOUT); a broken reply or a
            // closed connection io.systemd.Disconnected / Protocol (EIO).
            warn!("userdb: {e}");
            return Err(if matches!(e.failure, Failure::Timeout(_)) {
                libc::ETIMEDOUT
            } else {
                libc::EIO
            });
        }
    };
    drop(conn);
    let (json, record) = record_of_reply(service, flavour, &reply)?;
    Ok(Found {
        json,
        record,
        source: Source::Service(service.to_owned()),
    })
}

/// `userdb_on_query_reply()` on a GetUserRecord reply (as `varlink::read_reply` read it): the
/// record C caches (`sd_json_variant_format(record, 0)`), or the errno. The record is read from
/// the reply as parsed (`json`'s `KEEP_DEPTH` keeps it as deep as a record read alone).
pub fn record_of_reply(service: &str, flavour: Flavour, reply: &Reply) -> Result<(Vec<u8>, CachedRecord), i32> {
    if let Some(err) = reply.error.as_deref() {
        let invalid_user_name = err == "org.varlink.service.InvalidParameter"
            && reply
                .parameters
                .as_ref()
                .and_then(|p| p.by_key("parameter"))
                .and_then(json::Value::as_str)
                == Some(b"userName".as_slice());
        let errno = match err {
            "io.systemd.UserDatabase.NoRecordFound" | "io.systemd.UserDatabase.ConflictingRecordFound" => libc::ESRCH,
            _ if invalid_user_name => libc::ESRCH,
            "io.systemd.UserDatabase.NonMatchingRecordFound" if flavour.non_matching => libc::ENOEXEC,
            "io.systemd.UserDatabase.ServiceNotAvailable" => libc::EHOSTDOWN,
            "io.systemd.UserDatabase.EnumerationNotSupported" => libc::EOPNOTSUPP,
            "io.systemd.TimedOut" => libc::ETIMEDOUT,
            _ => libc::EIO,
        };
        return Err(errno);
    }
    let params = reply.parameters.as_ref();
    // sd_json_dispatch(): "incomplete" must be a boolean when present.
    if params
        .and_then(|p| p.by_key("incomplete"))
        .is_some_and(|v| !matches!(v, json::Value::Bool(_)))
    {
        warn!("userdb: {service}: reply's \"incomplete\" is not a boolean");
        return Err(libc::EINVAL);
    }
    let record = params.and_then(|p| p.by_key("record")).ok_or_else(|| {
        warn!("userdb: {service}: reply is missing record key");
        libc::EIO
    })?;
    let found = checked(record).inspect_err(|e| {
        warn!("userdb: {service}: refused its record: {}", crate::logind::strerror(*e));
    })?;
    // The record must say which service it came from: `service` at the top or in this machine's
    // `status` entry (where systemd-userdbd puts it).
    let machine_id = record_read::Machine::current().machine_id;
    if !carries_service(record, machine_id) {
        warn!("userdb: {service}: user record does not carry service information, refusing");
        return Err(libc::EINVAL);
    }
    Ok(found)
}

/// `UserRecord.service` set by `user_record_load()`: a string `service` member at the top or in
/// `status.<machine-id>`.
pub fn carries_service(v: &json::Value, machine_id: Option<[u8; 16]>) -> bool {
    let is_str = |s: Option<&json::Value>| matches!(s, Some(json::Value::Str(_)));
    if is_str(v.by_key("service")) {
        return true;
    }
    let Some(mid) = machine_id else { return false };
    let key = record_read::id128_hex(&mid);
    is_str(
        v.by_key("status")
            .and_then(|s| s.by_key(std::str::from_utf8(&key).ok()?))
            .and_then(|e| e.by_key("service")),
    )
}

/// The record in C's canonical form and as read, if `user_record_load(REFUSE_SECRET|PERMISSIVE)`
/// takes it.
fn checked(v: &json::Value) -> Result<(Vec<u8>, CachedRecord), i32> {
    let record = record_read::load_parsed(v)?;
    Ok((json::format(v), record))
}

/// [`checked`] of a record's text (a drop-in file).
fn checked_text(raw: &[u8]) -> Result<(Vec<u8>, CachedRecord), i32> {
    let record = record_read::load_cached(raw).map_err(|e| match e {
        record_read::RecordError::Parse(e) | record_read::RecordError::Load(e) => e,
    })?;
    let json = json::format_canonical(raw).ok_or(libc::EINVAL)?;
    Ok((json, record))
}

/// 262's `socket_filter_name_test()`: no `user.userdb.username` xattr (or none supported) admits;
/// else one of its NUL-separated `fnmatch()` patterns must match the name.
fn xattr_admits(path: &Path, name: &[u8]) -> bool {
    let (Ok(cpath), Ok(cname)) = (CString::new(path.as_os_str().as_bytes()), CString::new(name)) else {
        return true;
    };
    let attr = c"user.userdb.username";
    let mut buf = vec![0u8; 4096];
    // SAFETY: NUL-terminated path and name; buf is valid for buf.len() bytes.
    let n = unsafe { libc::getxattr(cpath.as_ptr(), attr.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let Ok(n) = usize::try_from(n) else {
        return true;
    };
    buf.truncate(n);
    buf.split(|&b| b == 0).filter(|p| !p.is_empty()).any(|pattern| {
        CString::new(pattern).is_ok_and(|cp| {
            // SAFETY: two NUL-terminated strings.
            unsafe { libc::fnmatch(cp.as_ptr(), cname.as_ptr(), 0) == 0 }
        })
    })
}

/// `dropin_user_record_by_name(name, NULL, 0)`: the first `<name>.user` of `dirs`, merged with
/// its `<name>.user-privileged` (keys of the latter replace the former's, appended in their order).
pub fn dropin_by_name(name: &[u8], dirs: &[PathBuf]) -> Result<Found, i32> {
    let mut file = name.to_vec();
    file.extend_from_slice(b".user");
    if file.len() > 255 {
        return Err(libc::ESRCH);
    }
    for dir in dirs {
        let path = dir.join(OsStr::from_bytes(&file));
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        let mut privileged = file.clone();
        privileged.extend_from_slice(b"-privileged");
        let merged = match std::fs::read(dir.join(OsStr::from_bytes(&privileged))) {
            Ok(p) => merge(&text, &p)?,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EACCES | libc::EPERM)) => text,
            Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        let (json, record) = checked_text(&merged)?;
        // user_record_matches_user_name() (257: the userName itself).
        if record.name.as_bytes() != name {
            return Err(libc::EINVAL);
        }
        return Ok(Found {
            json,
            record,
            source: Source::DropIn(path),
        });
    }
    Err(libc::ESRCH)
}

/// `sd_json_variant_merge_object(&v, m)` on raw text: v's members whose keys m lacks, then all
/// of m's; both must be objects (`EINVAL`); not JSON: `EINVAL`.
fn merge(v: &[u8], m: &[u8]) -> Result<Vec<u8>, i32> {
    let vm = json::members_raw(v).ok_or(libc::EINVAL)?;
    let mm = json::members_raw(m).ok_or(libc::EINVAL)?;
    let mut out = vec![b'{'];
    let kept = vm.iter().filter(|(k, _)| !mm.iter().any(|(mk, _)| mk == k));
    for (k, val) in kept.chain(mm.iter()) {
        if out.len() > 1 {
            out.push(b',');
        }
        json::push_string(&mut out, k);
        out.push(b':');
        out.extend_from_slice(val);
    }
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests;
