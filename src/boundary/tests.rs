use super::*;

fn fails(_: &mut Pam, args: &[&[u8]], _: &Scope) -> Result<(), Error> {
    Err(Error::new(17, format!("argc={}", args.len())))
}

/// A NULL handle is refused before anything touches it.
#[test]
fn null_handle() {
    // SAFETY: a NULL handle and no arguments is a contract-conforming input.
    let r = unsafe { guard(std::ptr::null_mut(), 0, std::ptr::null(), fails) };
    assert_eq!(r, ffi::PAM_SYSTEM_ERR);
}

#[test]
fn bad_argv() {
    assert!(unsafe { collect_args(-1, std::ptr::null()) }.is_none());
    assert!(unsafe { collect_args(2, std::ptr::null()) }.is_none());
    let a = c"debug";
    let ptrs = [a.as_ptr(), std::ptr::null()];
    assert!(unsafe { collect_args(2, ptrs.as_ptr()) }.is_none());
    let ok = unsafe { collect_args(1, ptrs.as_ptr()) }.unwrap();
    assert_eq!(ok, vec![&b"debug"[..]]);
}

/// A panic becomes PAM_SESSION_ERR; nothing unwinds.
#[test]
fn panic_is_contained() {
    assert_eq!(contain(|| panic!("boom")), ffi::PAM_SESSION_ERR);
    assert_eq!(
        contain(|| std::panic::panic_any(String::from("payload"))),
        ffi::PAM_SESSION_ERR
    );
    assert_eq!(contain(|| 7), 7);
}

/// The panic hook chains (review T3): once `contain` has installed it, a panic outside a hook
/// call still reaches the hook that was there before (libtest's, so failing tests print their
/// message), while a panic inside `contain` does not.
#[test]
fn panic_outside_contain_reaches_previous_hook() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // Make sure the production hook is installed before this test stacks its own.
    assert_eq!(contain(|| 0), 0);

    type HookFn = dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync;
    let original: Arc<HookFn> = Arc::from(std::panic::take_hook());
    let outside = Arc::new(AtomicUsize::new(0));
    let inside = Arc::new(AtomicUsize::new(0));
    let me = std::thread::current().id();
    {
        let (original, outside, inside) = (original.clone(), outside.clone(), inside.clone());
        // The "previous hook": counts this thread's marked panics, forwards everything.
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or_default();
            if std::thread::current().id() == me {
                match msg {
                    "T3 outside" => outside.fetch_add(1, Ordering::SeqCst),
                    "T3 inside" => inside.fetch_add(1, Ordering::SeqCst),
                    _ => 0,
                };
            }
            if msg != "T3 outside" {
                original(info);
            }
        }));
    }
    chain_panic_hook();

    let r = std::panic::catch_unwind(|| panic!("T3 outside"));
    let contained = contain(|| panic!("T3 inside"));

    // Restore the process hook before asserting, so a failure below prints normally.
    let _ours = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| original(info)));

    assert!(r.is_err());
    assert_eq!(contained, ffi::PAM_SESSION_ERR);
    assert_eq!(
        outside.load(Ordering::SeqCst),
        1,
        "a panic outside contain must reach the previous hook"
    );
    assert_eq!(
        inside.load(Ordering::SeqCst),
        0,
        "a panic inside contain goes to syslog only"
    );
}
