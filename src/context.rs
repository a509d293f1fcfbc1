//! The pure rules that turn PAM items, environment and arguments into the session request
//! (behaviour.md, open steps 7–12). No I/O happens here: the one probe that needs I/O (the X11 display's
//! VT, step 10) is passed in as a function.

use crate::parse;

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
}

/// Steps 8–12. `probe_display` is step 10's X11 probe: for a display it returns the VT number
/// of the X server's controlling terminal (which puts the session on seat0), if it can tell.
pub fn derive<'a>(inp: &Inputs<'a>, probe_display: impl FnOnce(&[u8]) -> Option<u32>) -> Derived<'a> {
    let mut display = inp.display;
    let mut tty = inp.tty;
    let mut session_type = inp.session_type;
    let mut class = inp.class;
    let mut seat = inp.seat;

    // Step 8: what the tty really is.
    if tty.contains(&b':') {
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
        } else {
            b"user"
        };
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
    }
}

#[cfg(test)]
mod tests;
