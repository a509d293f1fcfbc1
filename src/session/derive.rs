//! Every generation's derivation of the request from one set of inputs, and the plan of calls
//! built from them.

use super::*;

/// Every generation's derivation of the request. The newest generation's is always there: a
/// decided login sends it first. An older one's is `None` where that generation registers no
/// session (`SystemdUser::RuntimeDirOnly` in the `systemd-user` stack).
pub(super) struct Derivations<'a> {
    pub(super) newest: Derived<'a>,
    /// Newest first, as `Generation::ALL`.
    pub(super) older: Vec<(Generation, Option<Derived<'a>>)>,
}

impl<'a> Derivations<'a> {
    /// Derives every generation's request from the same inputs. They all see the same display:
    /// `probe` (the X11 display's VT) runs at most once.
    pub(super) fn of(inputs: &Inputs<'a>, systemd_user: bool, probe: impl Fn(&[u8]) -> Option<u32>) -> Self {
        let mut probed = None;
        let mut probe = |d: &[u8]| *probed.get_or_insert_with(|| probe(d));
        let newest = context::derive_for(inputs, Generation::NEWEST, &mut probe);
        let older = Generation::ALL
            .into_iter()
            .filter(|&g| g != Generation::NEWEST)
            .map(|g| {
                let none = systemd_user && g.rules().systemd_user == SystemdUser::RuntimeDirOnly;
                (g, (!none).then(|| context::derive_for(inputs, g, &mut probe)))
            })
            .collect();
        Derivations { newest, older }
    }

    /// The derivation of generation `g`, if it registers a session.
    pub(super) fn by(&self, g: Generation) -> Option<&Derived<'a>> {
        if g == Generation::NEWEST {
            return Some(&self.newest);
        }
        self.older.iter().find(|(h, _)| *h == g).and_then(|(_, d)| d.as_ref())
    }

    /// The plan: every generation's request, newest first; `varlink`: Varlink may carry it
    /// (no `systemd.*` limit set).
    pub(super) fn plan(&self, pinned: Option<Generation>, varlink: bool) -> Plan<'a> {
        Plan {
            pinned,
            requests: Generation::ALL
                .into_iter()
                .map(|g| (g, self.by(g).map(|d| d.request.clone())))
                .collect(),
            varlink,
        }
    }
}
