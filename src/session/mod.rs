//! `pam_sm_open_session` and `pam_sm_close_session`, step by step as pam_systemd does them (behaviour.md:
//! "Open, step by step" and "Close"), for every generation (`rules`: 252, Debian 12; 257,
//! Debian 13). The decisions live in `args`, `context`, `caps`, `parse`, `rules` and
//! `logind::Plan`; this file does the steps in the C module's order and says what happened.
//!
//! The story is generic over libpam ([`PamOps`]), logind ([`Logind`]) and the host ([`Host`]),
//! so that every rule of it is unit-tested against scripted fakes (`session/tests.rs`); the
//! hooks run it with the real implementations.
//!
//! Which generation's rules apply is decided by `compat=` or, without it, by logind's answer
//! (README "Beyond upstream"). Lines logged while talking to logind are written after the
//! conversation, in the C module's order, so that they can name the request logind took.

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::fmt::Display;
use std::os::fd::IntoRawFd;
use std::time::{Duration, Instant};

use log::{debug, error, warn};

use crate::args::{self, Args};
use crate::caps;
use crate::context::{self, Derived, Disposition, Generation, Inputs, Request};
use crate::diagnose::{self, Login, ask::Ask};
use crate::error::Error;
use crate::ffi::{PAM_BUF_ERR, PAM_SERVICE_ERR, PAM_USER_UNKNOWN};
use crate::host::{AreaDirError, Host, System};
use crate::inhibit::{self, InhibitCall};
use crate::logging::Scope;
use crate::logind::{
    self, Answer, Attempt, Dbus, Endpoint, Failure, Logind, LogindClient, Op, Plan, Varlink, Via, bus_error,
};
use crate::osc;
use crate::pam::{Code, Pam, PamData, PamOps, StringItem};
use crate::parse;
use crate::rules::{RecordEnv, SystemdUser};
use crate::user::process::{self, ProcessOps, ProcessSettings};
use crate::user::settings::{self as record_settings, RecordSettings};
use crate::user::{self as user_record, RecordError};

mod derive;
mod env;
mod inputs;
mod open262;
mod settings;
mod user;
mod words;
use derive::*;
use env::*;
use inputs::*;
use open262::*;
use settings::*;
use user::*;
use words::*;

/// ReleaseSession's timeout when no `timeout=` is given: sd-bus's default method timeout.
const DEFAULT_RELEASE_TIMEOUT: Duration = Duration::from_secs(25);

/// Our PAM data: the generation logind's answers told at open (its number, no cleanup), so
/// that close speaks the same words.
const GENERATION_KEY: &CStr = c"pam_systemd_rs.generation";

/// The credentials copied into the environment (`Rules::credentials`), in the C module's order.
const CREDENTIALS: [(&str, &str); 3] = [
    ("shell.prompt.prefix", "SHELL_PROMPT_PREFIX"),
    ("shell.prompt.suffix", "SHELL_PROMPT_SUFFIX"),
    ("shell.welcome", "SHELL_WELCOME"),
];

fn show(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `strna()`: an unset value prints as `n/a`.
fn na(v: Option<&[u8]>) -> Cow<'_, str> {
    v.map_or(Cow::Borrowed("n/a"), show)
}

/// systemd's `pam_syslog_pam_error(…, "Failed to X: @PAMERR@")`: the code, and the line with
/// libpam's text for it.
fn pam_fail(pam: &impl PamOps, code: Code, what: impl Display) -> Error {
    Error::new(code, format!("{what}: {}", pam.strerror(code)))
}

/// The hook libpam calls for `pam_open_session`.
pub fn open_hook(pam: &mut Pam, argv: &[&[u8]], scope: &Scope) -> Result<(), Error> {
    open(
        pam,
        &mut LogindClient::new(Varlink::default(), Dbus::new(Ask)),
        &System,
        argv,
        scope,
    )
}

/// The hook libpam calls for `pam_close_session`.
pub fn close_hook(pam: &mut Pam, argv: &[&[u8]], scope: &Scope) -> Result<(), Error> {
    close(
        pam,
        &mut LogindClient::new(Varlink::default(), Dbus::new(Ask)),
        &System,
        argv,
        scope,
    )
}

/// Parses the arguments and logs their warnings, worded as the generation that is known at this
/// point (`compat=`, else `told`, else the installed systemd's, else the oldest's words).
fn parse_args<'a>(argv: &[&'a [u8]], host: &impl Host, scope: &Scope, told: Option<Generation>) -> Args<'a> {
    let mut warnings = Vec::new();
    let args = args::parse_with(argv, caps::all_up_to(host.last_cap()), |w| warnings.push(w));
    let words = args
        .compat
        .or(told)
        .or_else(|| (!warnings.is_empty()).then(|| installed_generation(host)))
        .unwrap_or(Generation::OLDEST);
    for w in &warnings {
        if let Some(line) = w.text(words) {
            warn!("{line}");
        }
    }
    scope.set_debug(args.debug);
    args
}

/// The generation of the installed systemd, for what happens before (or without) an answer
/// from logind: its C module is the one this host would run. No systemd (elogind): the oldest.
fn installed_generation(host: &impl Host) -> Generation {
    Generation::installed(host.systemd_version())
}

/// `pam_sm_open_session`.
pub fn open<P: PamOps + PamData, L: Logind, H: Host>(
    pam: &mut P,
    logind: &mut L,
    host: &H,
    argv: &[&[u8]],
    scope: &Scope,
) -> Result<(), Error> {
    let args = parse_args(argv, host, scope, None);
    // The generation known before logind answers: `compat=`, else, without logind, the installed
    // systemd's; a decided login speaks the oldest generation's words until logind answers.
    let early = args.compat.or_else(|| {
        if !host.logind_running() {
            Some(installed_generation(host))
        } else {
            // A logind that answers on io.systemd.Login (≥ 258): the story of the generation
            // that speaks Varlink first, its request still refused-and-retried as too new where
            // logind is older than its rules (258–261).
            let ep = Endpoint::new(
                system_bus_address(host),
                args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT)),
            );
            Generation::ALL
                .into_iter()
                .find(|g| g.rules().varlink_first)
                .filter(|_| logind.speaks_varlink(&ep))
        }
    });
    let early_words = early.unwrap_or(Generation::OLDEST);
    debug!("{}", early_words.rules().words.initializing);

    // Users are looked up as the pinned generation's module, else the installed one's, does.
    let lookup = args.compat.unwrap_or_else(|| installed_generation(host));
    let lookup_timeout = args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT));
    let user = acquire_user(pam, host, early_words, lookup, lookup_timeout)?;
    if let Some(g) = early.filter(|g| g.rules().request262.late_gate) {
        return open_late_gate(pam, logind, host, &args, g, &user);
    }
    if !host.logind_running() {
        // No logind to ask: the pinned generation, else the installed systemd's.
        let installed = installed_generation(host);
        return at_success(pam, host, &args, args.compat.unwrap_or(installed), &user, false, b"");
    }

    let items = read_items(pam, args.compat)?;
    let systemd_user = items.service == b"systemd-user";
    if let Some(pinned) = args.compat
        && systemd_user
        && pinned.rules().systemd_user == SystemdUser::RuntimeDirOnly
    {
        // user@.service's stack registers no session, only the runtime directory.
        let rt = format!("/run/user/{}", user.uid);
        configure_runtime_directory(pam, host, user.uid, rt.as_bytes(), pinned)?;
        return at_success(pam, host, &args, pinned, &user, true, b"");
    }

    let seat = getenv_harder(pam, host, c"XDG_SEAT", None);
    let vtnr = getenv_harder(pam, host, c"XDG_VTNR", None);
    let session_type = getenv_harder(pam, host, c"XDG_SESSION_TYPE", args.session_type);
    let class = getenv_harder(pam, host, c"XDG_SESSION_CLASS", args.class);
    let desktop = getenv_harder(pam, host, c"XDG_SESSION_DESKTOP", args.desktop);
    let incomplete = if args.compat.is_some_and(|g| !g.rules().incomplete_flag) {
        false
    } else {
        let v = getenv_harder(pam, host, c"XDG_SESSION_INCOMPLETE", None);
        context::incomplete_flag(v.as_deref()).unwrap_or_else(|line| {
            error!("{line}");
            false
        })
    };

    let inputs = Inputs {
        uid: user.uid,
        service: &items.service,
        display: &items.display,
        tty: &items.tty,
        remote_user: &items.remote_user,
        remote_host: &items.remote_host,
        seat: seat.as_deref().unwrap_or_default(),
        vtnr: vtnr.as_deref().unwrap_or_default(),
        session_type: session_type.as_deref().unwrap_or_default(),
        class: class.as_deref().unwrap_or_default(),
        desktop: desktop.as_deref().unwrap_or_default(),
        disposition: user.disposition,
        incomplete,
        ..Inputs::default()
    };
    let derived = Derivations::of(&inputs, systemd_user, |d| host.vt_of_display(d));
    if let Some(v) = derived.newest.ignored_vtnr {
        debug!(
            "Ignoring vtnr {v} for {} which is not seat0",
            show(derived.newest.request.seat)
        );
    }
    let limits = read_limits(pam, Generation::OLDEST)?;
    let plan = derived.plan(args.compat, limits.none_set());
    let (props, limit_warnings) = crate::limits::session_properties(&limits.borrowed());
    let ep = Endpoint::new(
        system_bus_address(host),
        args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT)),
    );
    let started = Instant::now();
    let created = logind.create_session(&ep, &plan, &props);
    let told = plan.answered(&created.attempts, &created.result);
    if let Some(g) = told.filter(|_| args.compat.is_none()) {
        // Only a hint for close's words: a failure to store it changes nothing else.
        let _ = pam.set_data_value(GENERATION_KEY, usize::try_from(g.number()).unwrap_or_default());
    }
    // Until logind's answers tell, the oldest generation's rules (as for the argument warnings).
    let generation = told.unwrap_or(Generation::OLDEST);
    if matches!(created.result, Ok(Answer::NoSession)) {
        // A generation that registers no session for user@.service's stack talks to nobody:
        // nothing of the conversation to tell.
        debug!("{}", generation_line(&plan, &created.attempts, told));
    } else if !matches!(created.result, Err(Failure::Connect { .. })) {
        // (The C module logs none of this when the socket cannot be connected.)
        log_conversation(&plan, &derived, &created, told, &limits, &limit_warnings, host.pid());
    } else {
        log_incomplete_ignored(derived.by(generation));
        if let Some(line) = created.fallback_line().filter(|_| generation.rules().varlink_first) {
            debug!("{line}");
        }
    }

    let last = created.attempts.last().map_or(plan.first().request, |a| a.request);
    let req = plan.request(last).unwrap_or(&derived.newest.request);
    let reply = match created.result {
        Ok(Answer::Session(r)) => r,
        Ok(Answer::NoSession) => {
            let rt = format!("/run/user/{}", user.uid);
            configure_runtime_directory(pam, host, user.uid, rt.as_bytes(), generation)?;
            return at_success(pam, host, &args, generation, &user, systemd_user, b"");
        }
        Ok(Answer::AlreadyInSession { message }) => {
            debug!("Not creating session: {message}");
            return at_success(pam, host, &args, generation, &user, systemd_user, req.seat);
        }
        Err(f) => {
            // The line naming the cause (src/diagnose/), before the error line.
            if let Some((name, message)) = f.call_error()
                && let Some(trigger) = diagnose::trigger(Login::Failed {
                    name,
                    message: &message,
                })
            {
                why(logind, &ep, user.uid, trigger, ep.deadline(started));
            }
            return Err(bus_error(Op::Create, &f, &ep, host.euid()));
        }
    };

    log_reply(
        &reply,
        generation,
        created.attempts.last().is_some_and(|a| a.via == Via::Varlink),
    );

    let g = generation;
    update_environment(pam, "XDG_SESSION_ID", reply.id.as_bytes(), g)?;
    if reply.uid == user.uid {
        // Not for another user's session (su, sudo): their runtime dir is not ours to announce.
        let in_order = configure_runtime_directory(pam, host, user.uid, reply.runtime_path.as_bytes(), g)?;
        if let Some(trigger) = diagnose::trigger(Login::Created {
            runtime_dir_in_order: in_order,
        }) {
            why(logind, &ep, user.uid, trigger, ep.deadline(started));
        }
    }
    update_environment(pam, "XDG_SESSION_TYPE", req.session_type, g)?;
    update_environment(pam, "XDG_SESSION_CLASS", req.class, g)?;
    update_environment(pam, "XDG_SESSION_DESKTOP", req.desktop, g)?;
    update_environment(pam, "XDG_SEAT", reply.seat.as_bytes(), g)?;
    if generation.rules().credentials {
        propagate_credentials(pam, host, generation)?;
    }
    if reply.vtnr > 0 {
        update_environment(pam, "XDG_VTNR", reply.vtnr.to_string().as_bytes(), g)?;
    }

    if generation.rules().existing_data {
        pam.set_data_value(c"systemd.existing", usize::from(reply.existing))
            .map_err(|r| pam_fail(pam, r, "Failed to install existing flag"))?;
    }

    if let Some(fd) = reply.fd {
        // Stored as fd+1 with no cleanup: deliberately never closed, so that logind sees the
        // session end when this process exits (the C module does the same).
        let raw = fd.into_raw_fd();
        debug_assert!(raw >= 3, "dup'ed with F_DUPFD_CLOEXEC, 3");
        let value = usize::try_from(raw).unwrap_or_default().saturating_add(1);
        if let Err(r) = pam.set_data_value(c"systemd.session-fd", value) {
            // SAFETY: libpam did not take the fd; we still own it and close it once.
            drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
            return Err(pam_fail(pam, r, "Failed to install session fd"));
        }
    }
    at_success(pam, host, &args, generation, &user, systemd_user, reply.seat.as_bytes())
}

/// The inhibitor lock's one call, asked of logind through the story's seam.
struct AskLogind<'l, L: Logind>(&'l mut L);

impl<L: Logind> InhibitCall for AskLogind<'_, L> {
    fn inhibit(&mut self, ep: &Endpoint, req: &inhibit::Request<'_>) -> Result<std::os::fd::OwnedFd, Failure> {
        self.0.inhibit(ep, req)
    }
}

/// Asks logind's side why the login failed, and logs the answer, if any (LOG_WARNING).
fn why(logind: &mut impl Logind, ep: &Endpoint, uid: u32, trigger: diagnose::Trigger, deadline: Option<Instant>) {
    if let Some(line) = logind.why(ep, uid, trigger, deadline) {
        warn!("{line}");
    }
}

/// The C module's `success:` label (`apply_user_record_settings()`): the record's environment
/// settings, then the process's capabilities where the generation sets them
/// (`Rules::capabilities`).
fn at_success(
    pam: &mut impl PamOps,
    host: &impl Host,
    args: &Args<'_>,
    generation: Generation,
    user: &User,
    systemd_user: bool,
    seat: &[u8],
) -> Result<(), Error> {
    // apply_user_record_settings(): the umask first, the environment (a putenv failure returns
    // here, as in C), then nice and the limits, then (257) the capabilities.
    let rules = generation.rules().process;
    let mut ops = HostProcess(host);
    process::apply_umask(&user.process, rules, &mut ops);
    apply_settings(pam, host, &user.settings, generation)?;
    process::apply_nice_and_limits(&user.process, rules, &mut ops);
    if !generation.rules().capabilities {
        return Ok(());
    }
    let all = caps::all_up_to(host.last_cap());
    let regular = user.disposition == Disposition::Regular;
    // The record's own sets take the place of the arguments'.
    let (rec_ambient, rec_bounding) = record_settings::record_caps(&user.settings);
    let pick = |rec: u64, arg: u64| if rec == caps::UNSET { arg } else { rec };
    let change = caps::change(
        pick(rec_ambient, args.ambient_set),
        pick(rec_bounding, args.bounding_set),
        regular,
        systemd_user,
        seat,
        all,
    );
    if let Some(a) = change.ambient
        && let Err(e) = host.apply_ambient(a)
    {
        error!("Failed to set ambient capabilities, ignoring: {}", logind::strerror(e));
    }
    if let Some(b) = change.bounding
        && let Err(e) = host.drop_bounding(b)
    {
        error!("Failed to set bounding capabilities, ignoring: {}", logind::strerror(e));
    }
    Ok(())
}

/// `pam_sm_close_session`.
pub fn close<P: PamOps + PamData, L: Logind, H: Host>(
    pam: &mut P,
    logind: &mut L,
    host: &H,
    argv: &[&[u8]],
    scope: &Scope,
) -> Result<(), Error> {
    // What open learnt about logind, if this handle opened (read quietly: it is ours).
    let told = pam
        .data_value(GENERATION_KEY)
        .ok()
        .flatten()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(Generation::from_number);
    let args = parse_args(argv, host, scope, told);
    let words = args.compat.or(told).unwrap_or(Generation::OLDEST);
    debug!("{}", words.rules().words.shutting_down);

    let known = args.compat.or(told);
    // 262: the OSC 3008 end, then the inhibitor lock dropped, before anything about the session
    // (their results are ignored, as in C).
    let r262 = known.map(|g| g.rules().request262);
    if r262.is_some_and(|r| r.osc3008) {
        osc::close_osc_context(pam, &mut host.terminal());
    }
    if r262.is_some_and(|r| r.inhibit) {
        inhibit::release_inhibit_lock(pam);
    }
    // Only release a session that was not pre-existing when we asked for it (where the
    // generation stores that; 262 releases whenever XDG_SESSION_ID is set).
    let existing = if known.is_none_or(|g| g.rules().existing_data) {
        pam.data_is_set(c"systemd.existing")
            .map_err(|r| pam_fail(pam, r, "Failed to get PAM systemd.existing data"))?
    } else {
        false
    };
    let Some(id) = pam.getenv(c"XDG_SESSION_ID") else {
        return Ok(());
    };
    if existing {
        return Ok(());
    }
    let ep = Endpoint::new(
        system_bus_address(host),
        args.timeout.unwrap_or_else(|| Some(release_timeout_default(host))),
    );
    // The session fd stays open on purpose (see `open`).
    let varlink = known.is_some_and(|g| g.rules().varlink_first);
    let r = logind.release_session(&ep, &id, varlink);
    let words = known.map(|g| g.rules().words);
    let over_dbus = matches!(r, Ok(Via::Dbus) | Ok(Via::DbusPidfd))
        || matches!(
            r,
            Err(Failure::Call { .. } | Failure::BuildMessage { .. } | Failure::BadReply { .. } | Failure::DupFd { .. })
        );
    if words.is_some_and(|w| w.bus_connection_line) && over_dbus {
        debug!("New sd-bus connection (system-bus-pam-systemd-{}) opened.", host.pid());
    }
    r.map(drop).map_err(|f| bus_error(Op::Release, &f, &ep, host.euid()))
}

/// `validate_runtime_directory()`: absolute, `lstat` succeeds (no symlinks), a directory,
/// owned by `uid`. The error is the LOG_ERR line.
pub(crate) fn validate_runtime_directory(host: &impl Host, path: &[u8], uid: u32) -> Result<(), String> {
    let shown = show(path);
    if !path.starts_with(b"/") {
        return Err(format!("Provided runtime directory '{shown}' is not absolute."));
    }
    let st = host
        .lstat(path)
        .map_err(|e| format!("Failed to stat() runtime directory '{shown}': {}", logind::strerror(e)))?;
    if !st.is_dir {
        return Err(format!("Runtime directory '{shown}' is not actually a directory."));
    }
    if st.uid != uid {
        return Err(format!(
            "Runtime directory '{shown}' is not owned by UID {uid}, as it should."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
