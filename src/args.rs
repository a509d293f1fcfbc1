//! Module arguments (`parse_argv()`, behaviour.md "Module arguments": 252's, the two capability
//! sets of 257, 262's `area=`, `inhibit=` and `inhibit-why=` (behaviour-262.md section 2), plus our
//! `timeout=` and `compat=`).
//!
//! Parsing never fails: an unknown word or an unparsable value only produces a warning, and a
//! later argument overrides an earlier one. Matching is by prefix, in the C module's order:
//! `class=`, `type=`, `desktop=`, `area=`, `inhibit=`, `inhibit-why=`, the exact word `debug`, `debug=`,
//! `default-capability-bounding-set=`, `default-capability-ambient-set=`, then ours: `timeout=`,
//! `compat=`.

use std::time::Duration;

use crate::caps;
use crate::context::Generation;
use crate::parse;

/// How long open may take at most when no `timeout=` is given: upstream's
/// `LOGIN_SLOW_BUS_CALL_TIMEOUT_USEC`, two minutes, for CreateSession.
pub const DEFAULT_OPEN_TIMEOUT: Duration = Duration::from_secs(120);

/// The parsed module arguments. Byte strings borrow from libpam's argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args<'a> {
    /// `class=`: default session class when `$XDG_SESSION_CLASS` is empty.
    pub class: Option<&'a [u8]>,
    /// `type=`: default session type when `$XDG_SESSION_TYPE` is empty.
    pub session_type: Option<&'a [u8]>,
    /// `desktop=`: default desktop when `$XDG_SESSION_DESKTOP` is empty.
    pub desktop: Option<&'a [u8]>,
    /// `area=` (262): default area when `$XDG_AREA` is empty; may be empty (no area, and no
    /// record default either). A non-empty value that is not a file name is ignored (with
    /// [`Warning::BadArea`]); a generation without areas ignores it all ([`Warning::NewArgument`]).
    pub area: Option<&'a [u8]>,
    /// `inhibit=` (262): default for `$XDG_SESSION_INHIBIT`, verbatim.
    pub inhibit: Option<&'a [u8]>,
    /// `inhibit-why=` (262): default for `$XDG_SESSION_INHIBIT_WHY`, verbatim.
    pub inhibit_why: Option<&'a [u8]>,
    /// `debug` / `debug=BOOL`.
    pub debug: bool,
    /// `timeout=SPAN`: one deadline over connect, authentication, Hello and the call.
    /// `None`: not given (each hook has its default); `Some(None)`: `timeout=infinity`.
    pub timeout: Option<Option<Duration>>,
    /// `default-capability-bounding-set=` (257), `UNSET` (all ones) when not given.
    pub bounding_set: u64,
    /// `default-capability-ambient-set=` (257), `UNSET` (all ones) when not given.
    pub ambient_set: u64,
    /// `compat=<number>` (252, 257, 262): behave as that generation only. `None`: decided by logind's
    /// answer.
    pub compat: Option<Generation>,
}

impl Default for Args<'_> {
    fn default() -> Self {
        Args {
            class: None,
            session_type: None,
            desktop: None,
            area: None,
            inhibit: None,
            inhibit_why: None,
            debug: false,
            timeout: None,
            bounding_set: caps::UNSET,
            ambient_set: caps::UNSET,
            compat: None,
        }
    }
}

/// Which of 262's argument families a [`Warning::NewArgument`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewArg {
    /// `area=` (`Request262::areas`)
    Area,
    /// `inhibit=`, `inhibit-why=` (`Request262::inhibit`)
    Inhibit,
}

impl NewArg {
    /// Whether generation `g` knows the argument.
    pub fn known(self, g: Generation) -> bool {
        let r = g.rules().request262;
        match self {
            NewArg::Area => r.areas,
            NewArg::Inhibit => r.inhibit,
        }
    }
}

/// A warning produced while parsing; the caller logs it at LOG_WARNING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning<'a> {
    /// `Failed to parse debug= argument, ignoring: %s`
    BadDebug(&'a [u8]),
    /// `Failed to parse timeout= argument, ignoring: %s`
    BadTimeout(&'a [u8]),
    /// `Unknown parameter '%s', ignoring` (with a period where the generation's words have one)
    Unknown(&'a [u8]),
    /// `Unknown capability, ignoring: %s`
    UnknownCapability(Vec<u8>),
    /// `Failed to parse default-capability-bounding-set= argument, ignoring: %s`
    BadBoundingSet(&'a [u8]),
    /// `Failed to parse default-capability-ambient-set= argument, ignoring: %s`
    BadAmbientSet(&'a [u8]),
    /// `Failed to parse compat= argument, ignoring: %s`
    BadCompat(&'a [u8]),
    /// An argument only some generations know (`area=`, `inhibit=`, `inhibit-why=`, 262): no
    /// warning where it is known, `Unknown parameter '%s', ignoring…` (the whole argument) where
    /// it is not. `known` is whether a generation knows it.
    NewArgument { arg: &'a [u8], known: NewArg },
    /// `area=` with a non-empty value that is not a valid file name (262): `Area name specified
    /// among PAM module parameters is not valid, ignoring: %s`; unknown where areas are.
    BadArea { arg: &'a [u8], value: &'a [u8] },
}

impl Warning<'_> {
    /// The LOG_WARNING line as generation `generation` words it; `None` where that generation
    /// logs nothing (an argument it knows).
    pub fn text(&self, generation: Generation) -> Option<String> {
        let unknown = |v: &[u8]| {
            let dot = if generation.rules().words.unknown_parameter_period {
                "."
            } else {
                ""
            };
            format!("Unknown parameter '{}', ignoring{dot}", String::from_utf8_lossy(v))
        };
        match self {
            Warning::Unknown(v) => Some(unknown(v)),
            Warning::NewArgument { arg, known } => (!known.known(generation)).then(|| unknown(arg)),
            Warning::BadArea { arg, value } => Some(if generation.rules().request262.areas {
                format!(
                    "Area name specified among PAM module parameters is not valid, ignoring: {}",
                    String::from_utf8_lossy(value)
                )
            } else {
                unknown(arg)
            }),
            _ => Some(self.to_string()),
        }
    }
}

impl std::fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match self {
            Warning::UnknownCapability(v) => write!(f, "Unknown capability, ignoring: {}", show(v)),
            Warning::BadBoundingSet(v) => write!(
                f,
                "Failed to parse default-capability-bounding-set= argument, ignoring: {}",
                show(v)
            ),
            Warning::BadAmbientSet(v) => write!(
                f,
                "Failed to parse default-capability-ambient-set= argument, ignoring: {}",
                show(v)
            ),
            Warning::BadCompat(v) => write!(f, "Failed to parse compat= argument, ignoring: {}", show(v)),
            Warning::BadDebug(v) => write!(
                f,
                "Failed to parse debug= argument, ignoring: {}",
                String::from_utf8_lossy(v)
            ),
            Warning::BadTimeout(v) => write!(
                f,
                "Failed to parse timeout= argument, ignoring: {}",
                String::from_utf8_lossy(v)
            ),
            Warning::Unknown(v) | Warning::NewArgument { arg: v, .. } | Warning::BadArea { arg: v, .. } => {
                write!(f, "Unknown parameter '{}', ignoring", String::from_utf8_lossy(v))
            }
        }
    }
}

/// Parses `argv`, calling `warn` for every ignored argument, in order; `~` in a capability set
/// starts from the capabilities up to CAP_CHECKPOINT_RESTORE.
pub fn parse<'a>(argv: &[&'a [u8]], warn: impl FnMut(Warning<'a>)) -> Args<'a> {
    parse_with(argv, caps::all_up_to(40), warn)
}

/// [`parse()`], with `all` the kernel's capabilities (`all_capabilities()`).
pub fn parse_with<'a>(argv: &[&'a [u8]], all: u64, mut warn: impl FnMut(Warning<'a>)) -> Args<'a> {
    let mut args = Args::default();
    for &arg in argv {
        if let Some(v) = arg.strip_prefix(b"class=") {
            args.class = Some(v);
        } else if let Some(v) = arg.strip_prefix(b"type=") {
            args.session_type = Some(v);
        } else if let Some(v) = arg.strip_prefix(b"desktop=") {
            args.desktop = Some(v);
        } else if let Some(v) = arg.strip_prefix(b"area=") {
            if !v.is_empty() && !crate::user::settings::filename_is_valid(v) {
                warn(Warning::BadArea { arg, value: v });
            } else {
                args.area = Some(v);
                warn(Warning::NewArgument {
                    arg,
                    known: NewArg::Area,
                });
            }
        } else if let Some(v) = arg.strip_prefix(b"inhibit=") {
            args.inhibit = Some(v);
            warn(Warning::NewArgument {
                arg,
                known: NewArg::Inhibit,
            });
        } else if let Some(v) = arg.strip_prefix(b"inhibit-why=") {
            args.inhibit_why = Some(v);
            warn(Warning::NewArgument {
                arg,
                known: NewArg::Inhibit,
            });
        } else if arg == b"debug" {
            args.debug = true;
        } else if let Some(v) = arg.strip_prefix(b"debug=") {
            match std::str::from_utf8(v).ok().and_then(parse::parse_boolean) {
                Some(b) => args.debug = b,
                None => warn(Warning::BadDebug(v)),
            }
        } else if let Some(v) = arg.strip_prefix(b"default-capability-bounding-set=") {
            parse_set(v, &mut args.bounding_set, all, &mut warn, Warning::BadBoundingSet);
        } else if let Some(v) = arg.strip_prefix(b"default-capability-ambient-set=") {
            parse_set(v, &mut args.ambient_set, all, &mut warn, Warning::BadAmbientSet);
        } else if let Some(v) = arg.strip_prefix(b"timeout=") {
            match parse_timeout(v) {
                Some(t) => args.timeout = Some(t),
                None => warn(Warning::BadTimeout(v)),
            }
        } else if let Some(v) = arg.strip_prefix(b"compat=") {
            match Generation::from_compat(v) {
                Some(g) => args.compat = Some(g),
                None => warn(Warning::BadCompat(v)),
            }
        } else {
            warn(Warning::Unknown(arg));
        }
    }
    args
}

/// A `default-capability-*-set=` value applied to `set`: a warning for every unknown name, in
/// order, then `bad(v)` if the value cannot be split.
fn parse_set<'a>(
    v: &'a [u8],
    set: &mut u64,
    all: u64,
    warn: &mut impl FnMut(Warning<'a>),
    bad: fn(&'a [u8]) -> Warning<'a>,
) {
    let r = caps::parse_into(v, set, all, |w| warn(Warning::UnknownCapability(w.to_vec())));
    if r.is_err() {
        warn(bad(v));
    }
}

/// `timeout=` takes a systemd time span (a bare number is seconds). `infinity` means no
/// deadline; zero is refused, since it would fail every login.
fn parse_timeout(v: &[u8]) -> Option<Option<Duration>> {
    match parse::parse_sec(v)? {
        0 => None,
        u64::MAX => Some(None),
        usec => Some(Some(Duration::from_micros(usec))),
    }
}

#[cfg(test)]
mod tests;
