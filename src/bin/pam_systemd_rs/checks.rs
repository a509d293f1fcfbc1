//! The doctor's checks, in order: PAM stacks, logind, the system bus, the user in logind, the
//! user's units in PID 1, logind.conf, recent logins. Read-only: files, `/proc`, D-Bus property
//! reads, one Varlink `GetInfo` and `journalctl`. One file per source: [`procs`] (`/proc`),
//! [`varlink`] (logind's Varlink socket, systemd 258+), [`bus`] (D-Bus), [`logind_conf`]
//! (logind's settings), [`journal`] (`journalctl`); the PAM stacks are [`crate::pamd`]'s.

use std::path::PathBuf;

use pam_systemd_rs::diagnose;

use crate::conf;
use crate::pamd;
use crate::report::Finding;

mod bus;
mod journal;
mod logind_conf;
mod procs;
#[cfg(test)]
mod tests;
mod varlink;

pub struct Ctx {
    /// `/` on a live system; `--root DIR` for files only.
    pub root: PathBuf,
    pub user: String,
    pub uid: u32,
    pub bus_address: String,
    /// What PID 1 and logind said about the user's units (set by the units check).
    pub facts: std::cell::RefCell<Option<diagnose::Facts>>,
}

impl Ctx {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }
}

pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    let pamd = ctx.path("/etc/pam.d");
    let moddir = pamd::module_dir(&ctx.root);
    for (service, wants) in pamd::SERVICES {
        let stack = pamd::read_stack(&pamd, &moddir, service);
        out.extend(pamd::findings(service, wants, &stack, &pamd));
    }
    let logind = procs::find_process(&["systemd-logind", "elogind", "elogind-daemon"]);
    let elogind = procs::is_elogind(ctx, logind.as_ref().map(|(_, name)| name.as_str()));
    let logind_runs = logind.is_some();
    out.push(procs::logind_process(ctx, logind));
    out.push(varlink::finding(
        varlink::LOGIN_SOCKET,
        varlink::ask(varlink::LOGIN_SOCKET, logind_runs),
    ));
    let conf = conf::read(&ctx.root, elogind);
    let bus = bus::bus_checks(ctx, &conf);
    out.extend(bus);
    out.push(journal::recent_logins(ctx));
    out.extend(journal::recent_refusals(ctx));
    out
}
