//! Open as 262 does it (`Request262::late_gate`): items, environment and limits read before the
//! logind gate, registration (or none, for class `none` or no logind), the inhibitor lock, the
//! variables in 262's order, `setup_environment()`, the record's settings, the OSC 3008 context.

use super::*;

/// Open as a generation with the late logind gate (`Request262::late_gate`, 262; behaviour-262.md
/// section 1): items, environment inputs and limits are read and the request derived first; class
/// `none` or no logind registers nothing but the later steps still run; after a created session
/// the variables in 262's order; then the credentials, `setup_environment()` (`XDG_AREA`,
/// `HOME`, `XDG_RUNTIME_DIR`, the bus address) and the record's settings on every path.
/// `generation` is pinned (`compat=`) or, without logind, the installed one.
pub(super) fn open_late_gate<P: PamOps + PamData, L: Logind, H: Host>(
    pam: &mut P,
    logind: &mut L,
    host: &H,
    args: &Args<'_>,
    generation: Generation,
    user: &User,
) -> Result<(), Error> {
    let rules = generation.rules();
    let r262 = rules.request262;
    if args.compat.is_none() {
        // Not pinned: the generation this login follows (its logind's, or the installed one's
        // where logind is not running) is close's hint, also where nothing gets registered;
        // logind's answer, if any, replaces it below.
        let _ = pam.set_data_value(GENERATION_KEY, usize::try_from(generation.number()).unwrap_or_default());
    }
    let items = read_items(pam, Some(generation))?;
    let systemd_user = items.service == b"systemd-user";

    let seat = getenv_harder(pam, host, c"XDG_SEAT", None);
    let vtnr = getenv_harder(pam, host, c"XDG_VTNR", None);
    if let Some(line) = vtnr.as_deref().and_then(|v| context::vtnr_warning(v, generation)) {
        warn!("{line}");
    }
    let session_type = getenv_harder(pam, host, c"XDG_SESSION_TYPE", args.session_type);
    let class = getenv_harder(pam, host, c"XDG_SESSION_CLASS", args.class);
    let desktop = getenv_harder(pam, host, c"XDG_SESSION_DESKTOP", args.desktop);
    let area = if r262.areas {
        getenv_harder(pam, host, c"XDG_AREA", args.area)
    } else {
        None
    };
    let incomplete = if rules.incomplete_flag {
        let v = getenv_harder(pam, host, c"XDG_SESSION_INCOMPLETE", None);
        let (flag, line) = context::incomplete_flag_for(v.as_deref(), generation);
        if let Some((level, line)) = line {
            log::log!(level, "{line}");
        }
        flag
    } else {
        false
    };
    // `XDG_SESSION_INHIBIT` / `XDG_SESSION_INHIBIT_WHY` (else `inhibit=` / `inhibit-why=`) are
    // read here in C's order; the lock itself is taken after registration.
    let (inhibit_what, inhibit_why) = if r262.inhibit {
        inhibit::inputs(pam, |n| host.secure_getenv(n), args.inhibit, args.inhibit_why)
    } else {
        (None, None)
    };
    let extra = if r262.extra_device_access {
        getenv_harder(pam, host, c"XDG_SESSION_EXTRA_DEVICE_ACCESS", None)
    } else {
        None
    };
    let limits = read_limits(pam, generation)?;

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
        root: user.root,
        area: area.as_deref(),
        default_area: user.default_area.as_deref(),
        extra_device_access: extra.as_deref().unwrap_or_default(),
    };
    let derived = Derivations::of(&inputs, systemd_user, |d| host.vt_of_display(d));
    let Some(mine) = derived.by(generation) else {
        // Every generation with the late gate registers a session for every service.
        return Err(Error::new(PAM_SERVICE_ERR, "No request for this generation."));
    };
    if let Some(v) = mine.ignored_vtnr {
        let dot = if rules.words.ignoring_vtnr_period { "." } else { "" };
        debug!(
            "Ignoring vtnr {v} for {} which is not seat0{dot}",
            show(mine.request.seat)
        );
    }
    for (level, line) in &mine.lines {
        log::log!(*level, "{line}");
    }
    log_incomplete_ignored(Some(mine));
    let req = &mine.request;

    // What registration leaves for the later steps: the validated runtime directory, and the
    // seat the capability default sees (the reply's, else the environment's).
    let mut runtime: Option<Vec<u8>> = None;
    let mut seat_for_caps = req.seat.to_vec();
    if r262.class_none && req.class == b"none" {
        debug!("Skipping logind registration for session class none.");
    } else if !host.logind_running() {
        debug!("Skipping logind registration as logind is not running.");
    } else {
        let plan = derived.plan(args.compat, limits.none_set());
        let (props, limit_warnings) = crate::limits::session_properties(&limits.borrowed());
        let ep = Endpoint::new(
            system_bus_address(host),
            args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT)),
        );
        let started = Instant::now();
        log_request(req, host.pid());
        log_limits(&limits);
        let created = logind.create_session(&ep, &plan, &props);
        let told = plan.answered(&created.attempts, &created.result);
        if args.compat.is_none()
            && let Some(g) = told
        {
            // Only a hint for close's transport and words: a failure to store it changes nothing else.
            let _ = pam.set_data_value(GENERATION_KEY, usize::try_from(g.number()).unwrap_or_default());
        }
        // The request logind took: an older generation's where it refused a class only a newer
        // rule chose (a logind older than these rules).
        let req = created
            .attempts
            .last()
            .and_then(|a| plan.request(a.request))
            .unwrap_or(req);
        if let Some(line) = created.fallback_line() {
            debug!("{line}");
        }
        let dbus_attempts = created.attempts.iter().filter(|a| a.via != Via::Varlink).count();
        let over_dbus = dbus_attempts > 0;
        if !matches!(created.result, Err(Failure::Connect { .. })) {
            if rules.words.bus_connection_line && over_dbus {
                debug!("New sd-bus connection (system-bus-pam-systemd-{}) opened.", host.pid());
            }
            // The D-Bus message is built anew for every D-Bus call (the Varlink one carries no
            // limits).
            let builds = if rules.builds_per_attempt {
                dbus_attempts.max(1)
            } else {
                1
            };
            for i in 0..builds {
                if i > 0 {
                    debug!("CreateSessionWithPIDFD() API is not available, retrying with CreateSession().");
                }
                for w in &limit_warnings {
                    warn!("{w}");
                }
            }
            if args.compat.is_none() {
                debug!("{}", generation_line(&plan, &created.attempts, told));
            }
        }
        match created.result {
            Ok(Answer::Session(reply)) => {
                log_reply(
                    &reply,
                    generation,
                    created.attempts.last().is_some_and(|a| a.via == Via::Varlink),
                );
                let g = generation;
                update_environment(pam, "XDG_SESSION_ID", reply.id.as_bytes(), g)?;
                update_environment(pam, "XDG_SESSION_TYPE", req.session_type, g)?;
                update_environment(pam, "XDG_SESSION_CLASS", req.class, g)?;
                update_environment(pam, "XDG_SESSION_DESKTOP", req.desktop, g)?;
                if r262.extra_device_access {
                    let joined = req.extra_device_access.join(&b':');
                    update_environment(pam, "XDG_SESSION_EXTRA_DEVICE_ACCESS", &joined, g)?;
                }
                update_environment(pam, "XDG_SEAT", reply.seat.as_bytes(), g)?;
                if reply.vtnr > 0 {
                    update_environment(pam, "XDG_VTNR", reply.vtnr.to_string().as_bytes(), g)?;
                }
                if reply.uid == user.uid {
                    // Not for another user's session (su, sudo): their runtime dir is not ours.
                    let in_order = runtime_directory_in_order(host, reply.runtime_path.as_bytes(), user.uid);
                    if in_order {
                        runtime = Some(reply.runtime_path.clone().into_bytes());
                    }
                    if let Some(trigger) = diagnose::trigger(Login::Created {
                        runtime_dir_in_order: in_order,
                    }) {
                        why(logind, &ep, user.uid, trigger, ep.deadline(started));
                    }
                }
                if generation.rules().existing_data {
                    pam.set_data_value(c"systemd.existing", usize::from(reply.existing))
                        .map_err(|r| pam_fail(pam, r, "Failed to install existing flag"))?;
                }
                if let Some(fd) = reply.fd {
                    keep_session_fd(pam, fd)?;
                }
                seat_for_caps = reply.seat.into_bytes();
            }
            Ok(Answer::AlreadyInSession { message }) => debug!("Not creating session: {message}"),
            Ok(Answer::NoSession) => {}
            Err(f) => {
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
        }
    }

    // Registration succeeded (created, class none, no logind, already in a session): the
    // inhibitor lock, if asked for; never fatal. D-Bus only, on a connection of its own, inside
    // one `timeout=` deadline of its own (C: sd-bus's per-call default).
    if let Some(what) = inhibit_what.as_deref() {
        let ep = Endpoint::new(
            system_bus_address(host),
            args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT)),
        );
        inhibit::acquire_inhibit_lock(
            pam,
            &mut AskLogind(logind),
            &ep,
            what,
            inhibit_why.as_deref(),
            host.pid(),
            host.euid(),
        );
    }

    if rules.credentials && r262.credentials_every_path {
        propagate_credentials(pam, host, generation)?;
    }
    if r262.setup_environment {
        setup_environment(pam, host, user, runtime.as_deref(), req.area, generation)?;
    }
    at_success(pam, host, args, generation, user, systemd_user, &seat_for_caps)?;
    if r262.osc3008 {
        // The last step: its failure is open's.
        osc::open_osc_context(pam, &mut host.terminal(), req.session_type, &user.name)?;
    }
    Ok(())
}
