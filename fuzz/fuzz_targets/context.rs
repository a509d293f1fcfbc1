//! Request derivation (behaviour.md, open steps 7–12): items and env values = the input split at NUL
//! bytes (missing fields are empty). Checks the invariants the C module guarantees.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::context::{Inputs, derive, getenv_harder};

fuzz_target!(|data: &[u8]| {
    let (probe, data) = match data.split_first() {
        Some((&p, rest)) => (p, rest),
        None => (0, data),
    };
    let mut f = data.split(|&b| b == 0);
    let mut next = || f.next().unwrap_or(b"");
    let service = next();
    let display = next();
    let tty = next();
    let remote_user = next();
    let remote_host = next();
    let (pam_seat, proc_seat) = (next(), next());
    let vtnr = next();
    let (pam_type, proc_type, arg_type) = (next(), next(), next());
    let (pam_class, arg_class) = (next(), next());
    let desktop = next();
    let opt = |s: &'static [u8]| if s.is_empty() { None } else { Some(s) };
    let _ = opt;
    let g = |a: &[u8], b: &[u8], c: &[u8]| -> Vec<u8> {
        getenv_harder(Some(a), Some(b), if c.is_empty() { None } else { Some(c) })
            .unwrap_or(b"")
            .to_vec()
    };
    let seat = g(pam_seat, proc_seat, b"");
    let session_type = g(pam_type, proc_type, arg_type);
    let class = g(pam_class, b"", arg_class);
    let inp = Inputs {
        uid: u32::from(probe) * 1000,
        service,
        display,
        tty,
        remote_user,
        remote_host,
        seat: &seat,
        vtnr,
        session_type: &session_type,
        class: &class,
        desktop,
        ..Default::default()
    };
    // The probe answers for some inputs, to reach both branches of step 10.
    let d = derive(&inp, |_| {
        if probe & 1 == 1 {
            Some(u32::from(probe >> 1))
        } else {
            None
        }
    });
    let r = &d.request;
    assert_eq!(r.uid, inp.uid);
    assert_eq!(r.service, service);
    assert!(!r.session_type.is_empty(), "type always defaulted");
    assert!(!r.class.is_empty(), "class always defaulted");
    assert!(!r.tty.contains(&b':'), "a tty with ':' becomes the display");
    if !r.seat.is_empty() && r.seat != b"seat0" {
        assert_eq!(r.vtnr, 0, "vtnr only for seat0");
    }
    assert_eq!(r.remote_user, remote_user);
    assert_eq!(r.remote_host, remote_host);
    if remote_host.is_empty() {
        assert!(!r.remote);
    }
});
