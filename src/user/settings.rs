//! The settings a user record carries for the session's environment, and the rules that decide
//! which of them reach the PAM environment (`apply_user_record_settings()` in pam_systemd.c):
//! `environment`, `emailAddress` (`EMAIL`), `timeZone` (`TZ=:<zone>`), `preferredLanguage` and,
//! from 257 on, `additionalLanguages` (`LANG`, `LANGUAGE`).
//!
//! Reading: `user_record_load()` dispatches each field from the record's regular section, then
//! from every matching `perMachine` entry (not `emailAddress`); the first member of the right
//! JSON type in an object is the one dispatched (later ones are duplicates), and a value its
//! dispatcher refuses leaves the field as it was (permissive loading). The dispatchers differ by
//! generation only for the languages, so every reading a generation uses (`rules::Languages`)
//! is kept.
//!
//! 257 also reads the record's capability sets (`capabilityAmbientSet`, `capabilityBoundingSet`),
//! which take the place of the `default-capability-*` arguments. The record's `umask`,
//! `niceLevel` and resource limits are read and applied by [`super::process`].

use super::utf8::utf8_is_valid;
use crate::rules::Languages;

/// The record's environment settings, as each generation's loader leaves them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSettings {
    /// `KEY=VALUE` entries, one per name (`strv_env_replace_strdup()`: the first position, the
    /// last value).
    pub environment: Vec<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub time_zone: Option<Vec<u8>>,
    /// `preferredLanguage` as [`Languages::Preferred`] reads it: a safe string.
    pub preferred_language: Option<Vec<u8>>,
    /// `preferredLanguage` as [`Languages::PreferredAndAdditional`] reads it: a locale name.
    pub preferred_locale: Option<Vec<u8>>,
    /// `additionalLanguages` (locale names; [`Languages::PreferredAndAdditional`]).
    pub additional_languages: Vec<Vec<u8>>,
    /// 257: `capabilityAmbientSet`, `capabilityBoundingSet` (safe strings; names resolved when
    /// applied).
    pub capability_ambient: Option<Vec<Vec<u8>>>,
    pub capability_bounding: Option<Vec<Vec<u8>>>,
}

impl RecordSettings {
    /// Nothing to apply.
    pub fn is_empty(&self) -> bool {
        *self == RecordSettings::default()
    }

    /// The languages as `languages` reads them, preferred first: the preferred one alone, or
    /// (`user_record_languages()`) the preferred one, then the additional ones not listed yet.
    pub fn languages(&self, languages: Languages) -> Vec<Vec<u8>> {
        match languages {
            Languages::Preferred => self.preferred_language.iter().cloned().collect(),
            Languages::PreferredAndAdditional => {
                let mut out: Vec<Vec<u8>> = self.preferred_locale.iter().cloned().collect();
                for l in &self.additional_languages {
                    if !out.contains(l) {
                        out.push(l.clone());
                    }
                }
                out
            }
        }
    }
}

/// `sysconf(_SC_ARG_MAX)` as `sc_arg_max()` uses it (never below `_POSIX_ARG_MAX`).
fn arg_max() -> usize {
    #[cfg(miri)]
    {
        // Miri has no sysconf(_SC_ARG_MAX): Linux's usual value (a quarter of an 8 MiB stack).
        2 * 1024 * 1024
    }
    #[cfg(not(miri))]
    {
        // SAFETY: sysconf only reads a limit.
        let v = unsafe { libc::sysconf(libc::_SC_ARG_MAX) };
        usize::try_from(v).unwrap_or(4096).max(4096)
    }
}

/// `env_assignment_is_valid()`: `NAME=VALUE` with a shell-style name (not starting with a digit)
/// and a UTF-8 value, within ARG_MAX.
pub fn env_assignment_is_valid(e: &[u8]) -> bool {
    let Some(eq) = e.iter().position(|&c| c == b'=') else {
        return false;
    };
    let (name, rest) = e.split_at(eq);
    let value = rest.get(1..).unwrap_or_default();
    let max = arg_max();
    let name_ok = !name.is_empty()
        && !name.first().is_some_and(u8::is_ascii_digit)
        && name.len() <= max.saturating_sub(2)
        && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_');
    let value_ok = utf8_is_valid(value) && value.len() <= max.saturating_sub(3);
    name_ok && value_ok && e.len() <= max.saturating_sub(1)
}

/// `string_is_safe()`: no control characters, quotes, backslash or DEL (`JSON_SAFE`,
/// `SD_JSON_STRICT`).
pub fn string_is_safe(s: &[u8]) -> bool {
    !s.iter().any(|&c| c < b' ' || matches!(c, b'"' | b'\'' | b'\\' | 0x7f))
}

/// `filename_is_valid()`: not empty, not `.` or `..`, no `/`, at most 255 bytes.
pub fn filename_is_valid(s: &[u8]) -> bool {
    !s.is_empty() && s != b"." && s != b".." && !s.contains(&b'/') && s.len() <= 255
}

/// `locale_is_valid()` as the generation reading `languages` has it.
pub fn locale_is_valid(s: &[u8], languages: Languages) -> bool {
    match languages {
        Languages::Preferred => locale_is_safe_name(s),
        Languages::PreferredAndAdditional => locale_is_name(s),
    }
}

/// [`Languages::Preferred`]'s `locale_is_valid()`: short, UTF-8, a file name, a safe string.
fn locale_is_safe_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() < 128 && utf8_is_valid(s) && filename_is_valid(s) && string_is_safe(s)
}

/// [`Languages::PreferredAndAdditional`]'s `locale_is_valid()` (also its reading's check): short,
/// UTF-8, a file name, only `[A-Za-z0-9_.@-]`.
pub fn locale_is_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() < 128
        && utf8_is_valid(s)
        && filename_is_valid(s)
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'@'))
}

/// What `verify_timezone()` checks before it opens the file: `Some(path)` of the zone file to
/// check for the `TZif` magic, `None` for an invalid name; `UTC` is always valid (`Some` of
/// nothing to check is `Some(vec![])`).
fn timezone_file(name: &[u8]) -> Option<Vec<u8>> {
    if name.is_empty() || name.first() == Some(&b'/') {
        return None;
    }
    if name == b"UTC" {
        return Some(Vec::new());
    }
    let mut slash = false;
    for &c in name {
        if !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'/')) {
            return None;
        }
        if c == b'/' {
            if slash {
                return None;
            }
            slash = true;
        } else {
            slash = false;
        }
    }
    if slash || name.len() >= libc::PATH_MAX as usize {
        return None;
    }
    let mut p = b"/usr/share/zoneinfo/".to_vec();
    p.extend_from_slice(name);
    Some(p)
}

/// 257's `parse_caps_strv()`: the capabilities named (by name or number); unknown names are
/// skipped.
pub fn caps_of(names: &[Vec<u8>]) -> u64 {
    names
        .iter()
        .filter_map(|n| crate::caps::from_name(n))
        .fold(0, |acc, c| acc | (1u64 << c))
}

/// 257's `user_record_capability_{ambient,bounding}_set()`: `(ambient, bounding)`, each
/// `caps::UNSET` when the record has none; the ambient set is masked by the record's bounding set.
pub fn record_caps(s: &RecordSettings) -> (u64, u64) {
    let bounding = s.capability_bounding.as_deref().map_or(crate::caps::UNSET, caps_of);
    let ambient = s
        .capability_ambient
        .as_deref()
        .map_or(crate::caps::UNSET, |a| caps_of(a) & bounding);
    (ambient, bounding)
}

/// `locale_is_installed()`: a valid name as the generation reading `languages` has it, and
/// `C`/`POSIX` or one `newlocale` loads.
pub fn locale_is_installed(name: &[u8], languages: Languages, newlocale: impl FnOnce(&[u8]) -> bool) -> bool {
    locale_is_valid(name, languages) && (name == b"C" || name == b"POSIX" || newlocale(name))
}

/// `timezone_is_valid()`: a valid zone name whose file is a `TZif` file (`is_tzif`), or `UTC`.
pub fn timezone_is_valid(name: &[u8], is_tzif: impl FnOnce(&[u8]) -> bool) -> bool {
    timezone_file(name).is_some_and(|f| f.is_empty() || is_tzif(&f))
}

#[cfg(test)]
mod tests;
