//! The pure rules that turn PAM items, environment and arguments into the session request
//! (behaviour.md, open steps 7–12; behaviour-262.md section 3–section 5, section 7), for any generation of
//! pam_systemd; where generations differ (the `systemd-user` stack, the early classes, the
//! incomplete flag, 262's light classes, areas and extra device access) their entry in `rules`
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
    /// The foreign uid range (0x7FFE0000 + 0…0xFFFF; 258 on: `Request262::greeter_foreign_ranges`).
    Foreign,
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
            b"foreign" => Disposition::Foreign,
            b"reserved" => Disposition::Reserved,
            _ => return None,
        })
    }

    /// The record's declared disposition if any, else derived from uid and name: root and nobody
    /// (by uid or by name) are intrinsic, then the system, dynamic and container uid ranges,
    /// anything above `INT32_MAX` is reserved, the rest regular.
    pub fn of(declared: Option<Disposition>, uid: u32, name: &[u8]) -> Self {
        Self::of_for(declared, uid, name, Generation::OLDEST)
    }

    /// [`Disposition::of`] as generation `generation` derives it: from 258 on
    /// (`Request262::greeter_foreign_ranges`) the greeter range 60578–60705 is dynamic and the
    /// foreign range 0x7FFE0000–0x7FFEFFFF foreign.
    pub fn of_for(declared: Option<Disposition>, uid: u32, name: &[u8], generation: Generation) -> Self {
        if let Some(d) = declared {
            return d;
        }
        let ranges = generation.rules().request262.greeter_foreign_ranges;
        if uid == 0 || name == b"root" || uid == 65534 || name == b"nobody" {
            Disposition::Intrinsic
        } else if uid <= SYSTEM_UID_MAX {
            Disposition::System
        } else if (61184..=65519).contains(&uid) || (ranges && (60578..=60705).contains(&uid)) {
            Disposition::Dynamic
        } else if (524_288..=1_879_048_191).contains(&uid) {
            Disposition::Container
        } else if ranges && (0x7ffe_0000..=0x7ffe_ffff).contains(&uid) {
            Disposition::Foreign
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

/// `getenv_harder_bool()` for `$XDG_SESSION_INCOMPLETE` as generation `generation` words it: the
/// flag, and the line for an unparsable value (LOG_ERR in 252/257's words, LOG_WARNING in 262's,
/// `Words::incomplete_bad_bool_warning`).
pub fn incomplete_flag_for(value: Option<&[u8]>, generation: Generation) -> (bool, Option<(log::Level, String)>) {
    match incomplete_flag(value) {
        Ok(b) => (b, None),
        Err(_) if generation.rules().words.incomplete_bad_bool_warning => (
            false,
            Some((
                log::Level::Warn,
                format!(
                    "Failed to parse environment variable value '{}' of 'XDG_SESSION_INCOMPLETE', falling back to using 'false'.",
                    String::from_utf8_lossy(value.unwrap_or_default())
                ),
            )),
        ),
        Err(line) => (false, Some((log::Level::Error, line))),
    }
}

/// `getenv_harder_uint32()`'s LOG_WARNING for an unparsable non-empty `$XDG_VTNR`, where the
/// generation logs it (`Words::vtnr_bad_warning`); the value counts as 0 either way.
pub fn vtnr_warning(value: &[u8], generation: Generation) -> Option<String> {
    (generation.rules().words.vtnr_bad_warning && !value.is_empty() && parse::safe_atou32(value).is_none()).then(|| {
        format!(
            "Failed to parse environment variable value '{}' of 'XDG_VTNR' as unsigned integer, falling back to using 0.",
            String::from_utf8_lossy(value)
        )
    })
}

/// `strv_split(value, ":")` of `$XDG_SESSION_EXTRA_DEVICE_ACCESS` (262): split on `:`, empty
/// fields dropped (separators coalesce, leading and trailing ones ignored); `EXTRACT_RETAIN_ESCAPE`
/// keeps backslashes and quotes as they are.
pub fn split_extra_device_access(value: &[u8]) -> Vec<&[u8]> {
    value.split(|&b| b == b':').filter(|w| !w.is_empty()).collect()
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
    // --- 262's inputs (`Request262`; ignored by the generations before) ---
    /// The user record is root's (`user_record_is_root()`: uid 0 or name `root`).
    pub root: bool,
    /// `$XDG_AREA`, else `area=` (which may be empty: it still keeps the record's default out).
    pub area: Option<&'a [u8]>,
    /// The record's `defaultArea`.
    pub default_area: Option<&'a [u8]>,
    /// `$XDG_SESSION_EXTRA_DEVICE_ACCESS` (PAM env, then process env; only non-empty counts).
    pub extra_device_access: &'a [u8],
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
    // --- 262's fields (empty before 262) ---
    /// The area that survived validation (262, `Request262::areas`); `None` also for an empty one.
    pub area: Option<&'a [u8]>,
    /// `$XDG_SESSION_EXTRA_DEVICE_ACCESS` split on `:` (262, `Request262::extra_device_access`).
    pub extra_device_access: Vec<&'a [u8]>,
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
    /// 262's lines from the derivation itself, in C's order, for the caller to log: the
    /// `Automatically chose session type/class '%s'.` debug lines and the invalid-area warning
    /// (empty before 262; the other generations' lines are the two fields above).
    pub lines: Vec<(log::Level, String)>,
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
    let r262 = rules.request262;
    // Where a class asked for stays (262), these rules fill it only when none was.
    let fill = |class: &mut &'a [u8], with: &'static [u8]| {
        if !r262.class_if_unset || class.is_empty() {
            *class = with;
        }
    };
    if rules.systemd_user == SystemdUser::ManagerSession && inp.service == b"systemd-user" {
        // user@.service's own stack registers a manager session (forced before 262).
        session_type = b"unspecified";
        fill(
            &mut class,
            if rules.early_classes && inp.disposition.is_early() {
                b"manager-early"
            } else {
                b"manager"
            },
        );
        tty = b"";
    } else if tty.contains(&b':') {
        // A "tty" with a colon is an X11 display (gdm and xdm have done this).
        if display.is_empty() {
            display = tty;
        }
        tty = b"";
    } else if tty == b"cron" {
        // cron sets PAM_TTY to "cron": a background session.
        session_type = b"unspecified";
        fill(&mut class, b"background");
        tty = b"";
    } else if tty == b"ssh" {
        // Some ssh setups set PAM_TTY to "ssh" for sessions without a pty.
        session_type = b"tty";
        fill(&mut class, b"user");
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
    let mut lines = Vec::new();
    let chose = |lines: &mut Vec<(log::Level, String)>, what: &str, v: &[u8]| {
        if rules.words.automatic_choice_lines {
            lines.push((
                log::Level::Debug,
                format!("Automatically chose session {what} '{}'.", String::from_utf8_lossy(v)),
            ));
        }
    };
    if session_type.is_empty() {
        session_type = if !display.is_empty() {
            b"x11"
        } else if !tty.is_empty() {
            b"tty"
        } else {
            b"unspecified"
        };
        chose(&mut lines, "type", session_type);
    }
    let area = if r262.areas { area(inp, &mut lines) } else { None };
    if class.is_empty() {
        class = if session_type == b"unspecified" {
            b"background"
        } else if !r262.light_classes && rules.early_classes && inp.disposition.is_early() && session_type == b"tty" {
            b"user-early"
        } else {
            b"user"
        };
        if r262.light_classes {
            class = light_class(class, session_type, inp.disposition, inp.root, area.is_some());
        }
        chose(&mut lines, "class", class);
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
            area,
            extra_device_access: if r262.extra_device_access {
                split_extra_device_access(inp.extra_device_access)
            } else {
                Vec::new()
            },
        },
        ignored_vtnr,
        incomplete_ignored,
        lines,
    }
}

/// 262's area (`session_context_mangle()`): `$XDG_AREA` else `area=`; only when neither is given
/// the record's `defaultArea`; a non-empty one that is not a valid file name is dropped with the
/// warning (the default is not consulted again); an empty one means none.
fn area<'a>(inp: &Inputs<'a>, lines: &mut Vec<(log::Level, String)>) -> Option<&'a [u8]> {
    let area = inp.area.or(inp.default_area)?;
    if !area.is_empty() && !crate::user::settings::filename_is_valid(area) {
        lines.push((
            log::Level::Warn,
            format!(
                "Specified area '{}' is not a valid filename, ignoring area request.",
                String::from_utf8_lossy(area)
            ),
        ));
        return None;
    }
    (!area.is_empty()).then_some(area)
}

/// 262's automatic class after the base choice (`user` or `background`): intrinsic, system and
/// dynamic users get `user-early` if root, `user` for a graphical type, else `user-light`, and
/// `background-light`; regular users the light classes only with an area; others as chosen.
fn light_class<'a>(base: &'a [u8], session_type: &[u8], d: Disposition, root: bool, area: bool) -> &'a [u8] {
    let light = match d {
        Disposition::Intrinsic | Disposition::System | Disposition::Dynamic => true,
        Disposition::Regular => area,
        _ => false,
    };
    match base {
        b"user" if light && d != Disposition::Regular && root => b"user-early",
        b"user" if light && d != Disposition::Regular && matches!(session_type, b"x11" | b"wayland" | b"mir") => {
            b"user"
        }
        b"user" if light => b"user-light",
        b"background" if light => b"background-light",
        other => other,
    }
}

#[cfg(test)]
mod tests;
