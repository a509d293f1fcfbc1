//! A userdb service's reply to io.systemd.UserDatabase.GetUserRecord, from the Varlink bytes to
//! the settings applied to the process (`user::userdb`, `user::process`): another process's
//! input (any service in /run/systemd/userdb/).
//!
//! Arbitrary bytes → `varlink_read_reply` → `userdb_record_of_reply` (257's and 262's rules) →
//! the record's umask, nice level and resource limits applied to a recording process. Never
//! panics; a record it keeps has a valid user name, the cached form is sd-json's (formatting it
//! again changes nothing, unless it holds a raw DEL, which sd-json writes and refuses to read),
//! and the process calls stay in range.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{
    Limit, ProcessOps, ProcessRules, Resource, UserdbFlavour, apply_nice_and_limits, apply_umask,
    json_format_canonical, userdb_record_of_reply, valid_user_name_relaxed, varlink_read_reply,
};

struct Recorder(Vec<String>);

impl ProcessOps for Recorder {
    fn umask(&mut self, mask: u32) -> u32 {
        assert!(mask <= 0o7777, "umask {mask:o}");
        self.0.push(format!("umask {mask:o}"));
        0o022
    }
    fn nice(&mut self, increment: i32) -> (i32, i32) {
        assert!((-20..=19).contains(&increment), "nice {increment}");
        self.0.push(format!("nice {increment}"));
        (increment, 0)
    }
    fn getrlimit(&mut self, _: Resource) -> Result<Limit, i32> {
        Ok(Limit { cur: 1024, max: 4096 })
    }
    fn setrlimit(&mut self, resource: Resource, limit: Limit) -> Result<(), i32> {
        self.0.push(format!("setrlimit {resource} {}:{}", limit.cur, limit.max));
        // EPERM above the hard limit, as the kernel refuses an unprivileged raise.
        if limit.max > 4096 { Err(1) } else { Ok(()) }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = varlink_read_reply(data) else { return };
    for (flavour, rules) in [
        (
            UserdbFlavour { xattr_filter: false, non_matching: false, unknown_is_esrch: false, no_uid_unknown: false },
            ProcessRules { umask_access_mode: false, nice_failure_warns: false },
        ),
        (
            UserdbFlavour { xattr_filter: true, non_matching: true, unknown_is_esrch: true, no_uid_unknown: true },
            ProcessRules { umask_access_mode: true, nice_failure_warns: true },
        ),
    ] {
        let Ok((json, record)) = userdb_record_of_reply("io.systemd.Multiplexer", flavour, &reply) else {
            continue;
        };
        assert!(valid_user_name_relaxed(record.name.as_bytes()), "kept name {:?}", record.name);
        if !json.contains(&0x7f) {
            assert_eq!(json_format_canonical(&json).as_deref(), Some(json.as_slice()), "not canonical");
        }
        let mut p = Recorder(Vec::new());
        apply_umask(&record.process, rules, &mut p);
        apply_nice_and_limits(&record.process, rules, &mut p);
        assert!(p.0.len() <= 2 + 2 * 16, "{:?}", p.0);
    }
});
