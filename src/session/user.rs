//! Step 2 of open: the user name, then the user record — the one an earlier module cached, else
//! looked up as the generation's module does (userdb, else NSS) and cached in turn.

use super::*;

/// The user, as far as the story needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct User {
    /// The record's user name (OSC 3008's `targetuser=`).
    pub(super) name: Vec<u8>,
    pub(super) uid: u32,
    pub(super) disposition: Disposition,
    /// The environment settings of a cached record (NSS records carry none).
    pub(super) settings: RecordSettings,
    /// The umask, nice level and resource limits of a cached record (NSS records carry none).
    pub(super) process: ProcessSettings,
    /// `user_record_is_root()`: uid 0 or name `root` (262's automatic class).
    pub(super) root: bool,
    /// `user_record_home_directory()`: `homeDirectory`, else for a regular user
    /// `get_home_root()/NAME` (`user_record_augment()`), else `/root` for root, else `/` (262's
    /// `HOME`).
    pub(super) home: Vec<u8>,
    /// The record's `defaultArea` (262).
    pub(super) default_area: Option<Vec<u8>>,
    /// `user_record_gid()`: the record's gid, else the uid (262's area runtime directory).
    pub(super) gid: u32,
}

/// Step 2: `pam_get_user`, then the user record: the one cached in PAM data by an earlier
/// module or open (`systemd-user-record-<name>`), else NSS — cached there in turn, as JSON
/// byte-for-byte as systemd formats it.
/// The generation's `userdb_by_name()` (services, drop-ins, NSS; `user::userdb`) where the
/// generation that looks users up (`lookup`: the pinned one, else the installed systemd's) has
/// one, else NSS alone (252); a looked-up record's settings apply as a cached one's. The
/// services are bounded by `timeout` and sd-varlink's 45 s, whichever ends first.
pub(super) fn acquire_user(
    pam: &mut impl PamOps,
    host: &impl Host,
    generation: Generation,
    lookup: Generation,
    timeout: Option<Duration>,
) -> Result<User, Error> {
    let name = pam.user().map_err(|r| pam_fail(pam, r, "Failed to get user name"))?;
    if name.is_empty() {
        return Err(Error::new(PAM_SERVICE_ERR, "User name not valid."));
    }
    let mut key = user_record::DATA_KEY_PREFIX.as_bytes().to_vec();
    key.extend_from_slice(&name);
    // pam_get_user never returns a name with a NUL in it.
    let key = CString::new(key).map_err(|_| Error::new(PAM_SERVICE_ERR, "User name not valid."))?;

    // SAFETY: by the user-record convention (pam_systemd_home, this module), this key holds a
    // NUL-terminated JSON string, owned by libpam until the key is set again or pam_end.
    let cached = unsafe { pam.data_str(&key) }.map_err(|r| pam_fail(pam, r, "Failed to get PAM user record data"))?;
    let (uid, declared, settings, process, json) = if let Some(json) = cached {
        let record = user_record::load_cached(&json).map_err(|e| {
            let (what, errno) = match e {
                RecordError::Parse(errno) => ("Failed to parse JSON user record", errno),
                RecordError::Load(errno) => ("Failed to load user record", errno),
            };
            Error::new(PAM_SERVICE_ERR, format!("{what}: {}", logind::strerror(errno)))
        })?;
        if record.name.as_bytes() != name.as_slice() {
            return Err(Error::new(
                PAM_SERVICE_ERR,
                "Acquired user record does not match user name.",
            ));
        }
        (record.uid, record.disposition, record.settings, record.process, json)
    } else if let Some(flavour) = lookup.rules().userdb {
        let unknown = |errno: i32| {
            Error::new(
                PAM_USER_UNKNOWN,
                format!("Failed to get user record: {}", logind::strerror(errno)),
            )
        };
        let limit = timeout.map_or(user_record::userdb::SERVICE_TIMEOUT, |t| {
            t.min(user_record::userdb::SERVICE_TIMEOUT)
        });
        let deadline = Instant::now().checked_add(limit);
        let found = host.userdb_by_name(&name, flavour, deadline).map_err(unknown)?;
        let record = found.record;
        if flavour.no_uid_unknown && !record.uid.is_some_and(user_record::uid_is_valid) {
            return Err(Error::new(
                PAM_USER_UNKNOWN,
                format!("User record of user '{}' has no UID, refusing.", show(&name)),
            ));
        }
        pam.set_data_string(&key, &found.json)
            .map_err(|r| pam_fail(pam, r, "Failed to set PAM user record data"))?;
        (
            record.uid,
            record.disposition,
            record.settings,
            record.process,
            found.json,
        )
    } else {
        let found = host.lookup_user(&name).map_err(|errno| {
            Error::new(
                PAM_USER_UNKNOWN,
                format!("Failed to get user record: {}", logind::strerror(errno)),
            )
        })?;
        pam.set_data_string(&key, &found.json)
            .map_err(|r| pam_fail(pam, r, "Failed to set PAM user record data"))?;
        (
            Some(found.uid),
            None,
            RecordSettings::default(),
            ProcessSettings::default(),
            found.json,
        )
    };
    match uid {
        Some(uid) if user_record::uid_is_valid(uid) => {
            let root = uid == 0 || name == b"root";
            let disposition = Disposition::of_for(declared, uid, &name, generation);
            let fields = user_record::home_fields(&json);
            let home = fields.home.unwrap_or_else(|| {
                if disposition == Disposition::Regular {
                    // user_record_augment(): a regular user's home defaults to
                    // get_home_root()/NAME.
                    let mut h = home_root(host);
                    h.push(b'/');
                    h.extend_from_slice(&name);
                    h
                } else if root {
                    b"/root".to_vec()
                } else {
                    b"/".to_vec()
                }
            });
            Ok(User {
                uid,
                disposition,
                settings,
                process,
                root,
                home,
                default_area: fields.default_area,
                gid: fields.gid.unwrap_or(uid),
                name,
            })
        }
        _ => Err(Error::new(PAM_SERVICE_ERR, "Acquired user record does not have a UID.")),
    }
}

/// `get_home_root()`: `$SYSTEMD_HOME_ROOT` (read with `secure_getenv`) when it is an absolute,
/// normalized path, else `/home`.
fn home_root(host: &impl Host) -> Vec<u8> {
    host.secure_getenv(c"SYSTEMD_HOME_ROOT")
        .filter(|e| absolute_and_normalized(e))
        .unwrap_or_else(|| b"/home".to_vec())
}
