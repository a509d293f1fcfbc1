//! `apply_user_record_settings()`'s environment part (the record's environment, `EMAIL`, `TZ`,
//! languages) and the process calls behind `Host`.

use super::*;

/// The host's process calls as the record's process settings need them.
pub(super) struct HostProcess<'h, H: Host>(pub(super) &'h H);

impl<H: Host> ProcessOps for HostProcess<'_, H> {
    fn umask(&mut self, mask: u32) -> u32 {
        self.0.umask(mask)
    }
    fn nice(&mut self, increment: i32) -> (i32, i32) {
        self.0.nice(increment)
    }
    fn getrlimit(&mut self, resource: process::Resource) -> Result<process::Limit, i32> {
        self.0.getrlimit(resource)
    }
    fn setrlimit(&mut self, resource: process::Resource, limit: process::Limit) -> Result<(), i32> {
        self.0.setrlimit(resource, limit)
    }
}

/// The record's `environment`, `EMAIL`, `TZ` and languages into the PAM env, as the generation's
/// rules say: a name already set is left alone or overwritten (`Rules::record_env`); `LANG`, and
/// `LANGUAGE` when there are several languages (`Rules::languages`).
pub(super) fn apply_settings(
    pam: &mut impl PamOps,
    host: &impl Host,
    s: &RecordSettings,
    generation: Generation,
) -> Result<(), Error> {
    if s.is_empty() {
        return Ok(());
    }
    let rules = generation.rules();
    // Left alone: "already set, not changing"; the env entry's line shows the whole assignment.
    let kept = |pam: &mut _, name: &[u8], shown: &[u8], whose: &str| -> bool {
        let set = rules.record_env == RecordEnv::OnlyUnset
            && CString::new(name).is_ok_and(|n| PamOps::getenv(pam, &n).is_some());
        if set {
            debug!(
                "PAM environment variable ${} already set, not changing based on {whose}.",
                show(shown)
            );
        }
        set
    };
    for e in &s.environment {
        // Validated while reading the record: NAME=VALUE.
        let (name, value) = e.split_at(e.iter().position(|&c| c == b'=').unwrap_or(e.len()));
        if !kept(pam, name, e, "record") {
            putenv_and_log(pam, name, value.get(1..).unwrap_or_default())?;
        }
    }
    if let Some(email) = &s.email
        && !kept(pam, b"EMAIL", b"EMAIL", "user record")
    {
        putenv_and_log(pam, b"EMAIL", email)?;
    }
    if let Some(tz) = &s.time_zone
        && !kept(pam, b"TZ", b"TZ", "user record")
    {
        if record_settings::timezone_is_valid(tz, |f| host.is_tzif(f)) {
            putenv_and_log(pam, b"TZ", &[b":".as_slice(), tz].concat())?;
        } else {
            debug!("Time zone specified in user record is not valid locally, not setting $TZ.");
        }
    }
    let langs = s.languages(rules.languages);
    if let Some(first) = langs.first()
        && !kept(pam, b"LANG", b"LANG", "user record")
    {
        if record_settings::locale_is_installed(first, rules.languages, |l| host.locale_installed(l)) {
            putenv_and_log(pam, b"LANG", first)?;
            if langs.len() > 1 {
                putenv_and_log(pam, b"LANGUAGE", &langs.join(&b':'))?;
            }
        } else {
            debug!("{}", rules.words.languages_not_installed);
        }
    }
    Ok(())
}

/// `pam_putenv_and_log()`: one `NAME=VALUE` from the record.
pub(super) fn putenv_and_log(pam: &mut impl PamOps, name: &[u8], value: &[u8]) -> Result<(), Error> {
    let shown = format!("{}={}", show(name), show(value));
    pam.putenv(&String::from_utf8_lossy(name), value)
        .map_err(|r| pam_fail(pam, r, format!("Failed to set PAM environment variable {shown}")))?;
    debug!("PAM environment variable {shown} set based on user record.");
    Ok(())
}
