//! Reply decoding (behaviour.md, open step 18): the module's own decoder over any message logind (or
//! anything on the bus) could send back.
//!
//! First byte: bit 7 set = structured mode (a well-formed method return whose body is built
//! from the rest: a signature chosen by the low bits and fields split at NUL bytes, so the
//! fuzzer reaches the "soshusub" path and its neighbours); otherwise raw mode (the rest is a
//! whole wire message, parsed as zbus parses bytes read from the socket). The low two bits
//! give how many fds (FIFO read ends) come with it. Every message is also re-read from its own
//! wire bytes and fds, and must decode the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::decode_reply;
use std::os::fd::{FromRawFd, OwnedFd};
use zbus::Message;
use zbus::wire::serialized::{Context, Data};
use zbus::wire::{Endian, Fd};

fn fifos(n: usize) -> Vec<OwnedFd> {
    (0..n)
        .map(|_| {
            let mut p = [0i32; 2];
            // SAFETY: pipe2 writes two fds into the array.
            assert_eq!(unsafe { libc_pipe2(p.as_mut_ptr()) }, 0);
            // SAFETY: fresh fds we own; the write end is closed at once.
            unsafe {
                drop(OwnedFd::from_raw_fd(p[1]));
                OwnedFd::from_raw_fd(p[0])
            }
        })
        .collect()
}

unsafe extern "C" {
    #[link_name = "pipe2"]
    fn pipe2_c(fds: *mut i32, flags: i32) -> i32;
}
unsafe fn libc_pipe2(p: *mut i32) -> i32 {
    // O_CLOEXEC
    unsafe { pipe2_c(p, 0o2000000) }
}

fn structured(sel: u8, rest: &[u8]) -> Option<Message> {
    let call = Message::method_call("/org/freedesktop/login1", "CreateSession")
        .destination("org.freedesktop.login1")
        .interface("org.freedesktop.login1.Manager")
        .build(&())
        .ok()?;
    let hdr = call.header();
    let mut f = rest.split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned());
    let mut s = || f.next().unwrap_or_default();
    let (id, path, rt, seat) = (s(), s(), s(), s());
    let num = |t: &str| {
        t.bytes()
            .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
    };
    let (uid, vtnr) = (num(&s()), num(&s()));
    let existing = sel & 0x10 != 0;
    let path = zbus::ObjectPath::try_from(path).unwrap_or_else(|_| zbus::ObjectPath::from_static_str_unchecked("/x"));
    let fd = fifos(1).pop()?;
    let b = Message::method_return(&hdr);
    let m = match sel & 0x0c {
        // The right signature, with a real fd.
        0x00 => b.build(&(id, path, rt, Fd::from(fd), uid, seat, vtnr, existing)),
        // Right shape, fd index but no fd attached: built as 'h' of a borrowed fd we then drop.
        0x04 => b.build(&(id, path, rt, uid, seat, vtnr, existing)),
        // A close neighbour: uid and vtnr swapped for strings.
        0x08 => b.build(&(id, path, rt, Fd::from(fd), seat.clone(), seat, vtnr, existing)),
        _ => b.build(&(id,)),
    };
    m.ok()
}

fn raw(nfds: usize, bytes: &[u8]) -> Option<Message> {
    let endian = if bytes.first() == Some(&b'B') {
        Endian::Big
    } else {
        Endian::Little
    };
    let fds: Vec<zbus::wire::OwnedFd> = fifos(nfds).into_iter().map(Into::into).collect();
    let data = Data::new_fds(bytes.to_vec(), Context::new(endian, 0), fds);
    // SAFETY: zbus's own receive path parses socket bytes the same way (the body is validated
    // again when deserialized).
    unsafe { Message::from_bytes(data) }.ok()
}

/// The same message re-read from its wire bytes and fds, as the receive path would.
fn reparse(m: &Message) -> Option<Message> {
    let d = m.data();
    let fds: Vec<zbus::wire::OwnedFd> = d
        .fds()
        .iter()
        .map(|f| std::os::fd::AsFd::as_fd(f).try_clone_to_owned().ok().map(Into::into))
        .collect::<Option<_>>()?;
    let data = Data::new_fds(d.bytes().to_vec(), d.context(), fds);
    // SAFETY: as in raw().
    unsafe { Message::from_bytes(data) }.ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let msg = if sel & 0x80 != 0 {
        structured(sel, rest)
    } else {
        raw(usize::from(sel & 3), rest)
    };
    if let Some(m) = msg {
        let first = decode_reply(&m);
        // Decoding is a function of the message: the wire round trip decodes the same.
        if let Some(again) = reparse(&m) {
            let second = decode_reply(&again);
            assert_eq!(first.is_ok(), second.is_ok());
            if let (Ok(a), Ok(b)) = (&first, &second) {
                assert_eq!(
                    (
                        &a.id,
                        &a.object_path,
                        &a.runtime_path,
                        a.uid,
                        &a.seat,
                        a.vtnr,
                        a.existing
                    ),
                    (
                        &b.id,
                        &b.object_path,
                        &b.runtime_path,
                        b.uid,
                        &b.seat,
                        b.vtnr,
                        b.existing
                    )
                );
            }
        }
        if let Ok(r) = first {
            // A successful decode always hands back our own CLOEXEC duplicate (>= 3).
            if let Some(fd) = &r.fd {
                use std::os::fd::AsRawFd;
                assert!(fd.as_raw_fd() >= 3);
            }
        }
    }
});
