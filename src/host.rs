//! The host, behind a trait ([`Host`]) so that the session story runs against a fake in unit
//! tests: the logind gate, the process environment, file checks, the NSS user lookup, credential
//! files, the X11 probe and the capability changes. [`System`] is the thin real implementation.

use std::ffi::{CStr, CString};

use crate::caps;
use crate::sys::errno;
use crate::user::process::ProcessOps as _;

/// What `lstat()` tells about a path (the runtime-directory checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub is_dir: bool,
    pub uid: u32,
}

/// A user found through NSS: the record as JSON (to cache), its uid and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssUser {
    pub json: Vec<u8>,
    pub uid: u32,
}

/// Where 262's `make_area_runtime_directory()` failed, with the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaDirError {
    /// `Unable to open runtime directory '%s': %m`
    Open(i32),
    /// `Unable to create 'Areas' directory below '%s': %m`
    Areas(i32),
    /// `Unable to create '%s' directory below '%s/Areas': %m`
    Area(i32),
}

/// What the session story asks of the machine it runs on.
pub trait Host {
    /// `logind_running()`: `access("/run/systemd/seats/", F_OK) >= 0`.
    fn logind_running(&self) -> bool;
    /// `secure_getenv()`: the process environment, except in AT_SECURE (setuid/setcap) processes.
    fn secure_getenv(&self, name: &CStr) -> Option<Vec<u8>>;
    /// `lstat()`; `Err(errno)`.
    fn lstat(&self, path: &[u8]) -> Result<FileInfo, i32>;
    /// `access(path, F_OK) >= 0`.
    fn exists(&self, path: &[u8]) -> bool;
    /// `userdb_by_name()` through NSS (name check, `getpwnam_r`, `getspnam_r`), formatted as
    /// the JSON record systemd would cache; `Err(errno)`.
    fn lookup_user(&self, name: &[u8]) -> Result<NssUser, i32>;
    /// `userdb_by_name(name, NULL, 0)` as a generation of the C module calls it
    /// (`user::userdb`: services in /run/systemd/userdb/, drop-ins, then [`Host::lookup_user`]),
    /// within `deadline`: the record's JSON as C caches it and the record as read; `Err(errno)`.
    fn userdb_by_name(
        &self,
        name: &[u8],
        flavour: crate::user::userdb::Flavour,
        deadline: Option<std::time::Instant>,
    ) -> Result<crate::user::userdb::Found, i32>;
    /// Reads a whole file (a credential); `Err(errno)`.
    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, i32>;
    /// The X11 probe: the VT of a local display's server.
    fn vt_of_display(&self, display: &[u8]) -> Option<u32>;
    /// The effective uid (for the AccessDenied hint).
    fn euid(&self) -> u32;
    /// The process id (for debug lines and the bus cache key).
    fn pid(&self) -> u32;
    /// `verify_timezone()`'s file check: `path` opens as a regular file that starts with `TZif`.
    fn is_tzif(&self, path: &[u8]) -> bool;
    /// `locale_is_installed()`'s question: `newlocale(LC_ALL_MASK, name, 0)` succeeds.
    fn locale_installed(&self, name: &[u8]) -> bool;
    /// The version of the installed systemd (`libsystemd-shared-<N>.so`), for the generation when
    /// no logind answers.
    fn systemd_version(&self) -> Option<u32>;
    /// `cap_last_cap()`.
    fn last_cap(&self) -> u32;
    /// `access(path, F_OK)`; `Err(errno)` (262's bus address check tells ENOENT from others).
    fn access(&self, path: &[u8]) -> Result<(), i32> {
        if self.exists(path) { Ok(()) } else { Err(libc::ENOENT) }
    }
    /// 262's area home: `chase(path, CHASE_MUST_BE_DIRECTORY)` then `fstat()`: the resolved
    /// path and its owner; `Err(errno)` (no such path, not a directory, …).
    fn chase_directory(&self, path: &[u8]) -> Result<(Vec<u8>, u32), i32>;
    /// 262's `make_area_runtime_directory()`: `<rt>/Areas/<area>`, each level opened if it
    /// exists, else created 0700 under a temporary name, chowned to `uid:gid`, chmod 0755 and
    /// renamed into place without replacing (at most 6 attempts).
    fn make_area_runtime_directory(&self, rt: &[u8], area: &[u8], uid: u32, gid: u32) -> Result<(), AreaDirError>;
    /// `capability_ambient_set_apply(set, true)`; `Err(errno)`.
    fn apply_ambient(&self, set: u64) -> Result<(), i32>;
    /// `capability_bounding_set_drop(keep, false)`; `Err(errno)`.
    fn drop_bounding(&self, keep: u64) -> Result<(), i32>;
    /// `umask(mask)`: the previous mask (a user record's `umask`).
    fn umask(&self, mask: u32) -> u32;
    /// glibc `nice(increment)`: its return value and errno after it (a user record's `niceLevel`).
    fn nice(&self, increment: i32) -> (i32, i32);
    /// `getrlimit()`; `Err(errno)`.
    fn getrlimit(&self, resource: crate::user::process::Resource) -> Result<crate::user::process::Limit, i32>;
    /// `setrlimit()`; `Err(errno)` (a user record's `resourceLimits`, through setrlimit_closest).
    fn setrlimit(
        &self,
        resource: crate::user::process::Resource,
        limit: crate::user::process::Limit,
    ) -> Result<(), i32>;
    /// The terminal 262's OSC 3008 context is written to (stdout, the pinned tty, the random id,
    /// the identity fields).
    fn terminal(&self) -> impl crate::osc::Terminal + '_;
}

/// The file whose existence says logind runs (`logind_running()`; not `sd_booted()`).
const LOGIND_GATE: &CStr = c"/run/systemd/seats/";

/// The real host.
pub struct System;

impl Host for System {
    fn logind_running(&self) -> bool {
        // SAFETY: NUL-terminated path; access only reads it.
        unsafe { libc::access(LOGIND_GATE.as_ptr(), libc::F_OK) >= 0 }
    }

    fn secure_getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        // SAFETY: NUL-terminated name; the result points into the environment and is copied at once.
        let p = unsafe { crate::ffi::secure_getenv(name.as_ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: a non-NULL result of secure_getenv is a NUL-terminated string.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
    }

    fn lstat(&self, path: &[u8]) -> Result<FileInfo, i32> {
        let c = CString::new(path).map_err(|_| libc::EINVAL)?;
        // SAFETY: an all-zero stat is a valid out-parameter.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: NUL-terminated path and a valid out-pointer.
        if unsafe { libc::lstat(c.as_ptr(), &mut st) } < 0 {
            return Err(errno());
        }
        Ok(FileInfo {
            is_dir: st.st_mode & libc::S_IFMT == libc::S_IFDIR,
            uid: st.st_uid,
        })
    }

    fn exists(&self, path: &[u8]) -> bool {
        let Ok(c) = CString::new(path) else { return false };
        // SAFETY: NUL-terminated path; access only reads it.
        unsafe { libc::access(c.as_ptr(), libc::F_OK) >= 0 }
    }

    fn lookup_user(&self, name: &[u8]) -> Result<NssUser, i32> {
        let user = crate::user::lookup(name).map_err(|e| e.errno())?;
        let cname = CString::new(user.name.as_slice()).map_err(|_| libc::EINVAL)?;
        let shadow = crate::user::shadow_by_name(&cname);
        let json = crate::user::record_json(&user, shadow.as_ref()).ok_or(libc::EINVAL)?;
        Ok(NssUser { json, uid: user.uid })
    }

    fn userdb_by_name(
        &self,
        name: &[u8],
        flavour: crate::user::userdb::Flavour,
        deadline: Option<std::time::Instant>,
    ) -> Result<crate::user::userdb::Found, i32> {
        use crate::user::userdb;
        let nss = |n: &[u8]| self.lookup_user(n);
        userdb::by_name(name, flavour, &userdb::Places::system(), deadline, &nss)
    }

    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, i32> {
        use std::os::unix::ffi::OsStrExt;
        std::fs::read(std::ffi::OsStr::from_bytes(path)).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
    }

    fn vt_of_display(&self, display: &[u8]) -> Option<u32> {
        crate::x11::vt_of_display(display)
    }

    fn is_tzif(&self, path: &[u8]) -> bool {
        use std::io::Read;
        use std::os::unix::ffi::OsStrExt;
        let Ok(mut f) = std::fs::File::open(std::ffi::OsStr::from_bytes(path)) else {
            return false;
        };
        let mut magic = [0u8; 4];
        f.metadata().is_ok_and(|m| m.is_file()) && f.read_exact(&mut magic).is_ok() && &magic == b"TZif"
    }

    fn systemd_version(&self) -> Option<u32> {
        // Debian 13 keeps it under the multiarch directory, Debian 12 in /lib/systemd.
        let multiarch = format!("/usr/lib/{}-linux-gnu/systemd", std::env::consts::ARCH);
        [multiarch.as_str(), "/usr/lib/systemd", "/lib/systemd"]
            .iter()
            .find_map(|dir| {
                std::fs::read_dir(dir).ok()?.find_map(|e| {
                    let name = e.ok()?.file_name();
                    let rest = name.to_str()?.strip_prefix("libsystemd-shared-")?;
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().ok()
                })
            })
    }

    fn locale_installed(&self, name: &[u8]) -> bool {
        let Ok(name) = std::ffi::CString::new(name) else {
            return false;
        };
        // SAFETY: a NUL-terminated name; a null base asks for a new locale object.
        let loc = unsafe { libc::newlocale(libc::LC_ALL_MASK, name.as_ptr(), std::ptr::null_mut()) };
        if loc.is_null() {
            return false;
        }
        // SAFETY: `loc` came from newlocale and is freed once.
        unsafe { libc::freelocale(loc) };
        true
    }

    fn euid(&self) -> u32 {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() }
    }

    fn pid(&self) -> u32 {
        std::process::id()
    }

    fn last_cap(&self) -> u32 {
        caps::last_cap()
    }

    fn apply_ambient(&self, set: u64) -> Result<(), i32> {
        caps::apply_ambient(set, caps::last_cap())
    }

    fn drop_bounding(&self, keep: u64) -> Result<(), i32> {
        caps::drop_bounding(keep, caps::last_cap())
    }

    fn umask(&self, mask: u32) -> u32 {
        crate::user::process::ThisProcess.umask(mask)
    }

    fn nice(&self, increment: i32) -> (i32, i32) {
        crate::user::process::ThisProcess.nice(increment)
    }

    fn getrlimit(&self, resource: crate::user::process::Resource) -> Result<crate::user::process::Limit, i32> {
        crate::user::process::ThisProcess.getrlimit(resource)
    }

    fn setrlimit(
        &self,
        resource: crate::user::process::Resource,
        limit: crate::user::process::Limit,
    ) -> Result<(), i32> {
        crate::user::process::ThisProcess.setrlimit(resource, limit)
    }

    fn terminal(&self) -> impl crate::osc::Terminal + '_ {
        crate::osc::SystemTerminal
    }

    fn access(&self, path: &[u8]) -> Result<(), i32> {
        let c = CString::new(path).map_err(|_| libc::EINVAL)?;
        // SAFETY: NUL-terminated path; access only reads it.
        if unsafe { libc::access(c.as_ptr(), libc::F_OK) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    fn chase_directory(&self, path: &[u8]) -> Result<(Vec<u8>, u32), i32> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let c = CString::new(path).map_err(|_| libc::EINVAL)?;
        // SAFETY: NUL-terminated path; the fd returned is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(errno());
        }
        // SAFETY: a fresh fd of ours, closed once when dropped.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero stat is a valid out-parameter.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid fd and out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
            return Err(errno());
        }
        let resolved = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        use std::os::unix::ffi::OsStrExt;
        Ok((resolved.as_os_str().as_bytes().to_vec(), st.st_uid))
    }

    fn make_area_runtime_directory(&self, rt: &[u8], area: &[u8], uid: u32, gid: u32) -> Result<(), AreaDirError> {
        use std::os::fd::{FromRawFd, OwnedFd};
        let c = CString::new(rt).map_err(|_| AreaDirError::Open(libc::EINVAL))?;
        // SAFETY: NUL-terminated path; the fd returned is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_CLOEXEC | libc::O_PATH | libc::O_DIRECTORY) };
        if fd < 0 {
            return Err(AreaDirError::Open(errno()));
        }
        // SAFETY: a fresh fd of ours, closed once when dropped.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let areas =
            crate::sys::mkdir_chown_open_directory(&fd, b"Areas", uid, gid, 0o755).map_err(AreaDirError::Areas)?;
        crate::sys::mkdir_chown_open_directory(&areas, area, uid, gid, 0o755).map_err(AreaDirError::Area)?;
        Ok(())
    }
}
