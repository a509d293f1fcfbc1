//! Each generation of pam_systemd as one table entry: what its C module does differently, as
//! named values that the rest of the crate reads (`generation.rules().x`) instead of comparing
//! generations. This file is the only one that names a generation (`Generation::V252`,
//! `Generation::V257`, `Generation::V262`; `logind::plan` names the requests it sends by theirs); a new generation is a new variant, its entry in [`Generation::ALL`] and
//! [`Generation::rules`], and code only where it does something no generation did before.
//!
//! The entries say what differs between generations; what all of them do lives where it is done
//! (`context`, `session`, `user::settings`).

/// Which pam_systemd a rule or a text follows: 252 (Debian 12), 257 (Debian 13) or 262
/// (Debian 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    V252,
    V257,
    V262,
}

impl Generation {
    /// Every generation, newest first: the order in which a login decided by logind's answers
    /// tries their requests (the newest first; an older one when logind refuses it as too new).
    pub const ALL: [Generation; 3] = [Generation::V262, Generation::V257, Generation::V252];

    /// The newest generation: its request is the first a decided login sends.
    pub const NEWEST: Generation = Generation::V262;

    /// The oldest generation: whose words are used where nothing tells the generation yet, and
    /// whose rules a host without systemd (elogind) follows.
    pub const OLDEST: Generation = Generation::V252;

    /// This generation's entry of the table.
    pub fn rules(self) -> &'static Rules {
        match self {
            Generation::V252 => &V252,
            Generation::V257 => &V257,
            Generation::V262 => &V262,
        }
    }

    /// The number, for log lines, `compat=` and our PAM data.
    pub fn number(self) -> u32 {
        self.rules().number
    }

    /// The generation with this number.
    pub fn from_number(n: u32) -> Option<Generation> {
        Generation::ALL.into_iter().find(|g| g.number() == n)
    }

    /// The generation a `compat=` value names: exactly its number, in decimal.
    pub fn from_compat(value: &[u8]) -> Option<Generation> {
        Generation::ALL
            .into_iter()
            .find(|g| value == g.number().to_string().as_bytes())
    }

    /// The generation tried after this one in a decided login (the next in [`Generation::ALL`]):
    /// the one whose request goes when logind refuses this one's as too new.
    pub fn older(self) -> Option<Generation> {
        Generation::ALL.into_iter().skip_while(|&g| g != self).nth(1)
    }

    /// The generation whose C module an installed systemd of `version` ships: the newest one
    /// the version has reached ([`Rules::since`]); no systemd (elogind): the oldest.
    pub fn installed(version: Option<u32>) -> Generation {
        version
            .and_then(|v| Generation::ALL.into_iter().find(|g| v >= g.rules().since))
            .unwrap_or(Generation::OLDEST)
    }
}

/// What the `systemd-user` service (the PAM stack of user@.service) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemdUser {
    /// No session, only the runtime directory variables; of the PAM items only the service is
    /// read (252).
    RuntimeDirOnly,
    /// A session of class `manager` (`manager-early` for early users), type `unspecified`, no
    /// tty; whether a class asked for is kept is [`Request262::class_if_unset`] (257: forced).
    ManagerSession,
}

/// How the record's environment settings meet a name the PAM environment already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEnv {
    /// Left alone, with a debug line (252).
    OnlyUnset,
    /// Overwritten (257).
    Overwrite,
}

/// Which of the record's languages a generation reads, how it checks them, and what it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Languages {
    /// `preferredLanguage` only, read as any safe string and checked as 252's
    /// `locale_is_valid()` (a short, safe file name) when applied; sets `LANG` (252).
    Preferred,
    /// `preferredLanguage` and then `additionalLanguages`, read as locale names
    /// (`[A-Za-z0-9_.@-]`); sets `LANG` to the first and, for several, `LANGUAGE` to all (257).
    PreferredAndAdditional,
}

/// The words a generation's C module logs differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// `Unknown parameter '%s', ignoring` ends with a period.
    pub unknown_parameter_period: bool,
    /// sd-bus's debug line `New sd-bus connection (system-bus-pam-systemd-<pid>) opened.` once
    /// the bus connection is made.
    pub bus_connection_line: bool,
    /// The debug line when the record's (first) language is not installed.
    pub languages_not_installed: &'static str,
    // --- 262's words (branch r262) ---
    /// The first debug line of open.
    pub initializing: &'static str,
    /// The first debug line of close.
    pub shutting_down: &'static str,
    /// `Ignoring vtnr %u for %s which is not seat0` ends with a period.
    pub ignoring_vtnr_period: bool,
    /// The limits PAM data are read with one error text (`Failed to get PAM data`); otherwise
    /// one per key (`Failed to get PAM systemd.<key> data`).
    pub limits_data_one_text: bool,
    /// An unparsable `$XDG_SESSION_INCOMPLETE` is a LOG_WARNING `Failed to parse environment
    /// variable value …, falling back to using 'false'.`; otherwise the LOG_ERR `Boolean
    /// environment variable value of … is not valid`.
    pub incomplete_bad_bool_warning: bool,
    /// An unparsable `$XDG_VTNR` logs a LOG_WARNING (`… as unsigned integer, falling back to
    /// using 0.`); otherwise it silently counts as 0.
    pub vtnr_bad_warning: bool,
    /// The `Automatically chose session type/class '%s'.` debug lines.
    pub automatic_choice_lines: bool,
}

/// 262's request rules and the story's 262-only steps (branch r262; behaviour-262.md section 1–section 10,
/// section 13): false/absent in 252 and 257.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request262 {
    /// The items, the environment inputs and the limits PAM data are read, and the request is
    /// derived, before the logind gate; without logind (or for class `none`) the later steps
    /// (credentials, `HOME`, the record's settings) still run.
    pub late_gate: bool,
    /// The pseudo class `none`: never sent, nothing registered, open succeeds.
    pub class_none: bool,
    /// The `systemd-user`, `cron` and `ssh` rules fill the class only if none was asked for.
    pub class_if_unset: bool,
    /// The automatic class: root `user-early` (any type), other early users `user-light` (but
    /// `user` for x11/wayland/mir) and `background-light`; regular users with an area
    /// `user-light`/`background-light`.
    pub light_classes: bool,
    /// The greeter uid range is dynamic, the foreign range (0x7FFE0000…) its own disposition.
    pub greeter_foreign_ranges: bool,
    /// `area=`, `$XDG_AREA`, the record's `defaultArea`: `HOME` under `~/Areas/<area>`,
    /// the runtime directory under `<rt>/Areas/<area>`.
    pub areas: bool,
    /// `inhibit=`, `inhibit-why=` (and their environment variables) are known arguments, and
    /// open takes the inhibitor lock after a successful registration; close drops it.
    pub inhibit: bool,
    /// The OSC 3008 context: open writes its start to a `tty` session's terminal as the last
    /// step, close its end as the first.
    pub osc3008: bool,
    /// `$XDG_SESSION_EXTRA_DEVICE_ACCESS` is read (split on `:`), sent and exported.
    pub extra_device_access: bool,
    /// `update_environment()` with an empty value unsets the variable (if set); otherwise it
    /// does nothing.
    pub unset_empty: bool,
    /// `setup_environment()`: `XDG_AREA`, `HOME` (always), `XDG_RUNTIME_DIR` and the bus address
    /// after the credentials, on every path that reaches it; otherwise the runtime directory
    /// variables come right after `XDG_SESSION_ID` and `HOME` is never set.
    pub setup_environment: bool,
    /// The shell credentials are imported on every path that reaches them (class none, logind
    /// absent, already in a session); otherwise only after a created session.
    pub credentials_every_path: bool,
}

/// 252's and 257's: none of 262's request rules.
const REQUEST_BEFORE_262: Request262 = Request262 {
    late_gate: false,
    class_none: false,
    class_if_unset: false,
    light_classes: false,
    greeter_foreign_ranges: false,
    areas: false,
    inhibit: false,
    osc3008: false,
    extra_device_access: false,
    unset_empty: false,
    setup_environment: false,
    credentials_every_path: false,
};

/// One generation's rules: everything its C module does differently from another generation's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The generation's number (systemd's version of that C module).
    pub number: u32,
    /// The first systemd version whose installed C module follows these rules ("since"): what
    /// decides the generation before, or without, an answer from logind.
    pub since: u32,
    /// What the `systemd-user` stack gets.
    pub systemd_user: SystemdUser,
    /// The early classes: `user-early` for early users (intrinsic, system, dynamic) on a tty
    /// without a class asked for, `manager-early` for them in the `systemd-user` stack.
    pub early_classes: bool,
    /// `$XDG_SESSION_INCOMPLETE` is read; it makes a `user` session `user-incomplete` (any other
    /// class: a warning, and the class as it is).
    pub incomplete_flag: bool,
    /// The PAM items are read all at once, one error text for all (`Failed to get PAM items`);
    /// otherwise one by one, each failure naming its item.
    pub items_at_once: bool,
    /// After a created session, `shell.prompt.prefix`, `shell.prompt.suffix` and
    /// `shell.welcome` from `$CREDENTIALS_DIRECTORY` become `SHELL_PROMPT_PREFIX`,
    /// `SHELL_PROMPT_SUFFIX` and `SHELL_WELCOME`.
    pub credentials: bool,
    /// At "success" the process's ambient and bounding capability sets are set (from the
    /// record, else the `default-capability-*` arguments, else `CAP_WAKE_ALARM` for regular
    /// users on a seat or in the `systemd-user` stack).
    pub capabilities: bool,
    /// A `pidfd_open()` failure other than "not supported" fails the login (`Failed to create
    /// bus message`); otherwise the call goes without a pidfd.
    pub pidfd_failure_fatal: bool,
    /// How the record's environment settings meet names already set.
    pub record_env: RecordEnv,
    /// The record's languages.
    pub languages: Languages,
    /// The CreateSession message is built anew for every call (so the limits' warnings repeat),
    /// and the PIDFD fallback is logged (`CreateSessionWithPIDFD() API is not available,
    /// retrying with CreateSession().`).
    pub builds_per_attempt: bool,
    /// How the record's process settings are read and logged (`user::process`).
    pub process: ProcessRules,
    /// How a user no earlier module cached a record of is looked up: `None`, NSS alone (252 as
    /// this module always did it, Debian 12's and elogind's behaviour kept); else
    /// `userdb_by_name()` with this generation's differences (`user::userdb`).
    pub userdb: Option<crate::user::userdb::Flavour>,
    /// What it logs in other words.
    pub words: Words,
    /// 262's request rules and story steps.
    pub request262: Request262,
    // --- The transport rules (branch `wire`): how the module reaches logind. ---
    /// `io.systemd.Login.CreateSession` over Varlink is tried first (when no `systemd.*` limit
    /// is set), D-Bus only when the Varlink connect fails; `ReleaseSession` likewise.
    pub varlink_first: bool,
    /// D-Bus `CreateSessionWithPIDFD` is the first D-Bus call; logind < 255 answers it
    /// `UnknownMethod`, after which the newest generation without it sends `CreateSession`.
    pub pidfd_method: bool,
    /// `pidfd_open()` failing for lack of support (ENOSYS, EPERM, …) sends `CreateSession`
    /// without a pidfd instead of failing (257); without it, any errno fails the message (262).
    /// Only read where [`Rules::pidfd_failure_fatal`] is set.
    pub pidfd_unsupported_fallback: bool,
    /// Open stores `systemd.existing` from the reply and close releases only a session that was
    /// not existing; without it (262) nothing is stored and close releases whenever
    /// `XDG_SESSION_ID` is set.
    pub existing_data: bool,
    /// The debug line `Reply from logind: …` names the session fd (`session_fd=%d`); without it
    /// (262) it does not, and after a Varlink reply says `object_path=n/a` and, for a reply
    /// without a seat, `seat=(null)`.
    pub reply_line_fd: bool,
}

/// The generation's part in `user::process`: how `umask` is read and how loud a failed `nice()`
/// is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRules {
    /// `umask` read as an access mode (262: `null` clears, an octal string counts); else only an
    /// unsigned number counts.
    pub umask_access_mode: bool,
    /// The failed `nice()` line is a WARNING (262); else an ERR.
    pub nice_failure_warns: bool,
}

/// Debian 12's pam_systemd (systemd 252), and elogind's.
const V252: Rules = Rules {
    number: 252,
    since: 0,
    systemd_user: SystemdUser::RuntimeDirOnly,
    early_classes: false,
    incomplete_flag: false,
    items_at_once: false,
    credentials: false,
    capabilities: false,
    pidfd_failure_fatal: false,
    record_env: RecordEnv::OnlyUnset,
    languages: Languages::Preferred,
    builds_per_attempt: false,
    process: ProcessRules {
        umask_access_mode: false,
        nice_failure_warns: false,
    },
    userdb: None,
    words: Words {
        unknown_parameter_period: false,
        bus_connection_line: false,
        languages_not_installed: "Preferred language specified in user record is not valid or not installed, not setting $LANG.",
        initializing: "pam-systemd initializing",
        shutting_down: "pam-systemd shutting down",
        ignoring_vtnr_period: false,
        limits_data_one_text: false,
        incomplete_bad_bool_warning: false,
        vtnr_bad_warning: false,
        automatic_choice_lines: false,
    },
    request262: REQUEST_BEFORE_262,
    varlink_first: false,
    pidfd_method: false,
    pidfd_unsupported_fallback: true,
    existing_data: true,
    reply_line_fd: true,
};

/// Debian 13's pam_systemd (systemd 257); a systemd from 256 on ships these rules.
const V257: Rules = Rules {
    number: 257,
    since: 256,
    systemd_user: SystemdUser::ManagerSession,
    early_classes: true,
    incomplete_flag: true,
    items_at_once: true,
    credentials: true,
    capabilities: true,
    pidfd_failure_fatal: true,
    record_env: RecordEnv::Overwrite,
    languages: Languages::PreferredAndAdditional,
    builds_per_attempt: true,
    process: ProcessRules {
        umask_access_mode: false,
        nice_failure_warns: false,
    },
    userdb: Some(crate::user::userdb::Flavour {
        xattr_filter: false,
        non_matching: false,
        unknown_is_esrch: false,
        no_uid_unknown: false,
    }),
    words: Words {
        unknown_parameter_period: true,
        bus_connection_line: true,
        languages_not_installed: "Preferred languages specified in user record are not installed locally, not setting $LANG or $LANGUAGE.",
        initializing: "pam-systemd initializing",
        shutting_down: "pam-systemd shutting down",
        ignoring_vtnr_period: false,
        limits_data_one_text: false,
        incomplete_bad_bool_warning: false,
        vtnr_bad_warning: false,
        automatic_choice_lines: false,
    },
    request262: REQUEST_BEFORE_262,
    varlink_first: false,
    pidfd_method: true,
    pidfd_unsupported_fallback: true,
    existing_data: true,
    reply_line_fd: true,
};

/// Debian 14's pam_systemd (systemd 262); a systemd from 258 on ships these rules.
const V262: Rules = Rules {
    number: 262,
    since: 258,
    systemd_user: SystemdUser::ManagerSession,
    early_classes: true,
    incomplete_flag: true,
    items_at_once: true,
    credentials: true,
    capabilities: true,
    pidfd_failure_fatal: true,
    record_env: RecordEnv::Overwrite,
    languages: Languages::PreferredAndAdditional,
    builds_per_attempt: true,
    userdb: Some(crate::user::userdb::Flavour {
        xattr_filter: true,
        non_matching: true,
        unknown_is_esrch: true,
        no_uid_unknown: true,
    }),
    process: ProcessRules {
        umask_access_mode: true,
        nice_failure_warns: true,
    },
    words: Words {
        unknown_parameter_period: true,
        bus_connection_line: true,
        languages_not_installed: "Preferred languages specified in user record are not installed locally, not setting $LANG or $LANGUAGE.",
        initializing: "pam-systemd: initializing...",
        shutting_down: "pam-systemd: shutting down...",
        ignoring_vtnr_period: true,
        limits_data_one_text: true,
        incomplete_bad_bool_warning: true,
        vtnr_bad_warning: true,
        automatic_choice_lines: true,
    },
    request262: Request262 {
        late_gate: true,
        class_none: true,
        class_if_unset: true,
        light_classes: true,
        greeter_foreign_ranges: true,
        areas: true,
        inhibit: true,
        osc3008: true,
        extra_device_access: true,
        unset_empty: true,
        setup_environment: true,
        credentials_every_path: true,
    },
    varlink_first: true,
    pidfd_method: true,
    pidfd_unsupported_fallback: false,
    existing_data: false,
    reply_line_fd: false,
};

#[cfg(test)]
mod tests;
