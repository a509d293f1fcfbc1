//! The pure rules that turn PAM items, environment and arguments into the session request
//! (behaviour.md, open steps 7–12), for any generation of pam_systemd; where generations differ
//! (the `systemd-user` stack, the early classes, the incomplete flag) their entry in `rules`
//! says how. No I/O happens here: the one probe that needs I/O (the X11 display's VT, step 10)
//! is passed in as a function.

use crate::parse;
pub use crate::rules::Generation;
use crate::rules::SystemdUser;

/// `user_record_disposition()`: what kind of account a user is (systemd's `UserDisposition`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Disposition {
    Intrinsic,
    System,
    Dynamic,
    #[default]
    Regular,
    Container,
    Reserved,
}

/// The highest system uid as Debian builds systemd (`-Dsystem-uid-max=999`; `/etc/login.defs`
/// is not read, as `compat-mutable-uid-boundaries` is off).
pub const SYSTEM_UID_MAX: u32 = 999;

impl Disposition {
    /// The record's `disposition` string, as `user_disposition_from_string()` reads it.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"intrinsic" => Disposition::Intrinsic,
            b"system" => Disposition::System,
            b"dynamic" => Disposition::Dynamic,
            b"regular" => Disposition::Regular,
            b"container" => Disposition::Container,
            b"reserved" => Disposition::Reserved,
            _ => return None,
        })
    }

    /// The record's declared disposition if any, else derived from uid and name: root and nobody
    /// (by uid or by name) are intrinsic, then the system, dynamic and container uid ranges,
    /// anything above `INT32_MAX` is reserved, the rest regular.
    pub fn of(declared: Option<Disposition>, uid: u32, name: &[u8]) -> Self {
        if let Some(d) = declared {
            return d;
        }
        if uid == 0 || name == b"root" || uid == 65534 || name == b"nobody" {
            Disposition::Intrinsic
        } else if uid <= SYSTEM_UID_MAX {
            Disposition::System
        } else if (61184..=65519).contains(&uid) {
            Disposition::Dynamic
        } else if (524_288..=1_879_048_191).contains(&uid) {
            Disposition::Container
        } else if uid > 0x7fff_ffff {
            Disposition::Reserved
        } else {
            Disposition::Regular
        }
    }

    /// Intrinsic, system and dynamic users: the ones started "early" where a generation has the
    /// early classes (`user-early`, `manager-early`).
    pub fn is_early(self) -> bool {
        matches!(
            self,
            Disposition::Intrinsic | Disposition::System | Disposition::Dynamic
        )
    }
}

/// `getenv_harder_bool()` for `$XDG_SESSION_INCOMPLETE` (where read): unset or empty is false; an
/// unparsable value is false too, with the LOG_ERR line the caller logs (`Err`).
pub fn incomplete_flag(value: Option<&[u8]>) -> Result<bool, String> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(false);
    };
    std::str::from_utf8(v)
        .ok()
        .and_then(parse::parse_boolean)
        .ok_or_else(|| {
            format!(
                "Boolean environment variable value of 'XDG_SESSION_INCOMPLETE' is not valid: {}",
                String::from_utf8_lossy(v)
            )
        })
}

/// `getenv_harder()`: the PAM environment's value if non-empty, else the process environment's
/// (read with `secure_getenv`) if non-empty, else the fallback (a module argument).
pub fn getenv_harder<'a>(
    pam: Option<&'a [u8]>,
    process: Option<&'a [u8]>,
    fallback: Option<&'a [u8]>,
) -> Option<&'a [u8]> {
    pam.filter(|v| !v.is_empty())
        .or(process.filter(|v| !v.is_empty()))
        .or(fallback)
}

/// Everything the request is derived from. Absent items and variables are empty slices.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub uid: u32,
    pub service: &'a [u8],
    /// `PAM_XDISPLAY`
    pub display: &'a [u8],
    /// `PAM_TTY`
    pub tty: &'a [u8],
    /// `PAM_RUSER`
    pub remote_user: &'a [u8],
    /// `PAM_RHOST`
    pub remote_host: &'a [u8],
    /// `$XDG_SEAT`
    pub seat: &'a [u8],
    /// `$XDG_VTNR`, unparsed
    pub vtnr: &'a [u8],
    /// `$XDG_SESSION_TYPE`, else `type=`
    pub session_type: &'a [u8],
    /// `$XDG_SESSION_CLASS`, else `class=`
    pub class: &'a [u8],
    /// `$XDG_SESSION_DESKTOP`, else `desktop=`
    pub desktop: &'a [u8],
    /// The user's disposition (for the early classes).
    pub disposition: Disposition,
    /// `$XDG_SESSION_INCOMPLETE`, parsed (for the incomplete flag).
    pub incomplete: bool,
}

/// The arguments of `CreateSession` after uid and leader, exactly as the C module sends them
/// (absent strings are sent as `""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub uid: u32,
    pub service: &'a [u8],
    pub session_type: &'a [u8],
    pub class: &'a [u8],
    pub desktop: &'a [u8],
    pub seat: &'a [u8],
    pub vtnr: u32,
    pub tty: &'a [u8],
    pub display: &'a [u8],
    pub remote: bool,
    pub remote_user: &'a [u8],
    pub remote_host: &'a [u8],
}

/// The request, plus what the caller logs at debug level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived<'a> {
    pub request: Request<'a>,
    /// Step 11: a VT number given for a seat other than seat0 was dropped.
    pub ignored_vtnr: Option<u32>,
    /// Incomplete flag: the session is incomplete but its class is not `user`: the class the LOG_WARNING
    /// `PAM session of class '%s' is incomplete, which is not supported, ignoring.` names.
    pub incomplete_ignored: Option<&'a [u8]>,
}

/// Steps 8–12 as the oldest generation takes them. `probe_display` is step 10's X11 probe: for
/// a display it returns the VT number of the X server's controlling terminal (which puts the
/// session on seat0), if it can tell.
pub fn derive<'a>(inp: &Inputs<'a>, probe_display: impl FnOnce(&[u8]) -> Option<u32>) -> Derived<'a> {
    derive_for(inp, Generation::OLDEST, probe_display)
}

/// Steps 8–12 as generation `generation` takes them. Where a generation registers no session
/// for the `systemd-user` service (`SystemdUser::RuntimeDirOnly`), that service is not special
/// here: not asking is the caller's business.
pub fn derive_for<'a>(
    inp: &Inputs<'a>,
    generation: Generation,
    probe_display: impl FnOnce(&[u8]) -> Option<u32>,
) -> Derived<'a> {
    let rules = generation.rules();
    let mut display = inp.display;
    let mut tty = inp.tty;
    let mut session_type = inp.session_type;
    let mut class = inp.class;
    let mut seat = inp.seat;

    // Step 8: what the tty really is.
    if rules.systemd_user == SystemdUser::ManagerSession && inp.service == b"systemd-user" {
        // user@.service's own stack registers a manager session; forced, whatever the
        // environment or the arguments asked for.
        session_type = b"unspecified";
        class = if rules.early_classes && inp.disposition.is_early() {
            b"manager-early"
        } else {
            b"manager"
        };
        tty = b"";
    } else if tty.contains(&b':') {
        // A "tty" with a colon is an X11 display (gdm and xdm have done this).
        if display.is_empty() {
            display = tty;
        }
        tty = b"";
    } else if tty == b"cron" {
        // cron sets PAM_TTY to "cron": a background session, whatever was asked for.
        session_type = b"unspecified";
        class = b"background";
        tty = b"";
    } else if tty == b"ssh" {
        // Some ssh setups set PAM_TTY to "ssh" for sessions without a pty.
        session_type = b"tty";
        class = b"user";
        tty = b"";
    } else {
        tty = parse::skip_dev_prefix(tty);
    }

    // Step 9: an unparsable $XDG_VTNR silently counts as 0.
    let mut vtnr = if inp.vtnr.is_empty() {
        0
    } else {
        parse::parse_vtnr(inp.vtnr)
    };

    // Step 10: a local X display may tell us its VT (and so seat0).
    if !display.is_empty()
        && vtnr == 0
        && (seat.is_empty() || seat == b"seat0")
        && let Some(n) = probe_display(display)
    {
        vtnr = n;
        seat = b"seat0";
    }

    // Step 11: only seat0 has VTs.
    let mut ignored_vtnr = None;
    if !seat.is_empty() && seat != b"seat0" && vtnr != 0 {
        ignored_vtnr = Some(vtnr);
        vtnr = 0;
    }

    // Step 12: defaults.
    if session_type.is_empty() {
        session_type = if !display.is_empty() {
            b"x11"
        } else if !tty.is_empty() {
            b"tty"
        } else {
            b"unspecified"
        };
    }
    if class.is_empty() {
        class = if session_type == b"unspecified" {
            b"background"
        } else if rules.early_classes && inp.disposition.is_early() && session_type == b"tty" {
            b"user-early"
        } else {
            b"user"
        };
    }
    let mut incomplete_ignored = None;
    if rules.incomplete_flag && inp.incomplete {
        if class == b"user" {
            class = b"user-incomplete";
        } else {
            incomplete_ignored = Some(class);
        }
    }
    let remote = !inp.remote_host.is_empty() && !parse::is_localhost(inp.remote_host);

    Derived {
        request: Request {
            uid: inp.uid,
            service: inp.service,
            session_type,
            class,
            desktop: inp.desktop,
            seat,
            vtnr,
            tty,
            display,
            remote,
            remote_user: inp.remote_user,
            remote_host: inp.remote_host,
        },
        ignored_vtnr,
        incomplete_ignored,
    }
}

#[cfg(test)]
mod tests;
