//! The story's log lines in each generation's words: the request, the conversation with logind,
//! which generation answered, the reply.

use super::*;

/// `Reply from logind: …`, in the generation's words (`Rules::reply_line_fd`); `varlink`: the
/// reply came over Varlink.
pub(super) fn log_reply(reply: &logind::plan::Reply, generation: Generation, varlink: bool) {
    if generation.rules().reply_line_fd {
        debug!(
            "Reply from logind: id={} object_path={} runtime_path={} session_fd={} seat={} vtnr={} original_uid={}",
            reply.id,
            reply.object_path,
            reply.runtime_path,
            reply.fd.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd),
            reply.seat,
            reply.vtnr,
            reply.uid,
        );
    } else {
        // After Varlink, C has no object path ("n/a") and a NULL seat where the reply has none.
        let object_path = if varlink { "n/a" } else { reply.object_path.as_str() };
        let seat = if varlink && reply.seat.is_empty() {
            "(null)"
        } else {
            reply.seat.as_str()
        };
        debug!(
            "Reply from logind: id={} object_path={object_path} runtime_path={} seat={seat} vtnr={} original_uid={}",
            reply.id, reply.runtime_path, reply.vtnr, reply.uid,
        );
    }
}

/// The warning for an incomplete session of a class other than `user` (`Rules::incomplete_flag`).
pub(super) fn log_incomplete_ignored(derived: Option<&Derived<'_>>) {
    if let Some(class) = derived.and_then(|d| d.incomplete_ignored) {
        warn!(
            "PAM session of class '{}' is incomplete, which is not supported, ignoring.",
            show(class)
        );
    }
}

/// The debug and warning lines of the conversation with logind, in the C module's order, in the
/// words of the generation that answered (the oldest's when its answers do not tell): the
/// incomplete-flag warning and the bus-connection line, where that generation has them; the
/// request (when not pinned: the one logind took) and the limits; the limits' warnings for every
/// message built; the PIDFD fallback line where the pinned generation logs it; and, when logind
/// decided, which generation it was.
pub(super) fn log_conversation(
    plan: &Plan<'_>,
    derived: &Derivations<'_>,
    created: &logind::Created,
    told: Option<Generation>,
    limits: &Limits,
    limit_warnings: &[String],
    pid: u32,
) {
    let attempts = &created.attempts[..];
    let generation = told.unwrap_or(Generation::OLDEST);
    // Only a generation that goes to Varlink first says it fell back (after a fallback a decided
    // login follows the older logind's C module, which never tried).
    let fell_back = created.fallback_line().filter(|_| generation.rules().varlink_first);
    log_incomplete_ignored(derived.by(generation));
    let rules = generation.rules();
    // The bus connection line: before the request where the generation connects first (257);
    // after the request and the limits, and only when D-Bus was used, where it asks Varlink
    // first (262).
    let bus_line =
        rules.words.bus_connection_line && (!rules.varlink_first || attempts.iter().any(|a| a.via != Via::Varlink));
    if bus_line && !rules.varlink_first {
        debug!("New sd-bus connection (system-bus-pam-systemd-{pid}) opened.");
    }
    if let Some(req) = shown_request(plan, attempts, told) {
        log_request(req, pid);
    }
    log_limits(limits);
    if let Some(line) = fell_back {
        debug!("{line}");
    }
    if bus_line && rules.varlink_first {
        debug!("New sd-bus connection (system-bus-pam-systemd-{pid}) opened.");
    }
    // Pinned to a generation that builds (and so warns about the limits) once per attempt: once
    // per attempt; otherwise, and always when decided by logind, once.
    let builds = if plan.pinned.is_some_and(|g| g.rules().builds_per_attempt) {
        attempts.len().max(1)
    } else {
        1
    };
    for i in 0..builds {
        if i > 0 {
            debug!("CreateSessionWithPIDFD() API is not available, retrying with CreateSession().");
        }
        for w in limit_warnings {
            warn!("{w}");
        }
    }
    if plan.pinned.is_none() {
        debug!("{}", generation_line(plan, attempts, told));
    }
}

/// The request the log shows: the pinned generation's; when logind's answers tell, the one it
/// took (the last sent); else the oldest generation's there is.
pub(super) fn shown_request<'p, 'r>(
    plan: &'p Plan<'r>,
    attempts: &[Attempt],
    told: Option<Generation>,
) -> Option<&'p Request<'r>> {
    match (plan.pinned, told, attempts.last()) {
        (Some(g), _, _) => plan.request(g),
        (None, Some(_), Some(last)) => plan.request(last.request),
        _ => Generation::ALL.into_iter().rev().find_map(|g| plan.request(g)),
    }
}

/// The debug line that says which generation of logind answered, and why we think so: it took
/// the first request; or it refused it and took an older generation's, or that generation
/// registers no session.
pub(super) fn generation_line(plan: &Plan<'_>, attempts: &[Attempt], told: Option<Generation>) -> String {
    let (Some(g), Some(first), Some(last)) = (told, attempts.first(), attempts.last()) else {
        return "logind generation not known (no answer of logind's to tell).".into();
    };
    let n = g.number();
    let why = if g == first.request {
        match first.via {
            Via::DbusPidfd => "CreateSessionWithPIDFD answered".to_owned(),
            Via::Dbus => "no pidfd, CreateSession answered".to_owned(),
            Via::Varlink => "io.systemd.Login answered".to_owned(),
        }
    } else if plan.request(g).is_none() {
        format!("it refused the systemd-user session; {n} registers none and sets the runtime directory only")
    } else if last.via == first.via {
        format!("it refused the session class, sent the {n} request")
    } else {
        format!("CreateSessionWithPIDFD is unknown, sent the {n} request")
    };
    format!("logind generation {n} ({why}).")
}

/// `Asking logind to create session: …`
pub(super) fn log_request(req: &Request<'_>, pid: u32) {
    debug!(
        "Asking logind to create session: uid={} pid={} service={} type={} class={} desktop={} seat={} vtnr={} tty={} display={} remote={} remote_user={} remote_host={}",
        req.uid,
        pid,
        show(req.service),
        show(req.session_type),
        show(req.class),
        show(req.desktop),
        show(req.seat),
        req.vtnr,
        show(req.tty),
        show(req.display),
        if req.remote { "yes" } else { "no" },
        show(req.remote_user),
        show(req.remote_host),
    );
}

/// `Session limits: …`: the `systemd.*` PAM data as read (`n/a` where unset).
pub(super) fn log_limits(limits: &Limits) {
    debug!(
        "Session limits: memory_max={} tasks_max={} cpu_weight={} io_weight={} runtime_max_sec={}",
        na(limits.memory_max.as_deref()),
        na(limits.tasks_max.as_deref()),
        na(limits.cpu_weight.as_deref()),
        na(limits.io_weight.as_deref()),
        na(limits.runtime_max_sec.as_deref()),
    );
}
