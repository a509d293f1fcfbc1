//! Reply decoding (behaviour.md, open step 18): the module's own D-Bus reader over any message
//! logind (or anything on the bus) could send back, as bytes read from the socket plus the fds
//! that came with them.
//!
//! First byte: bit 7 set = structured mode (a well-formed method return that zbus builds, its
//! body from the rest: a signature chosen by bits 2-3 and fields split at NUL bytes, so the
//! fuzzer reaches the "soshusub" path and its neighbours); otherwise raw mode (the rest is a
//! whole wire message). The low two bits give how many fds (FIFO read ends) come with it.
//! Whenever the module's reader accepts a message and zbus (an independent reader) reads the
//! same bytes as `soshusub` too, both must read the same values; an accepted reply always
//! hands back our own CLOEXEC duplicate (>= 3) of the session fd.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::decode_reply;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use zbus::Message;
use zbus::wire::serialized::{Context, Data};
use zbus::wire::{Endian, Fd};

fn fifos(n: usize) -> Vec<OwnedFd> {
    (0..n)
        .map(|_| {
            let mut p = [0i32; 2];
            // SAFETY: pipe2 writes two fds into the array.
            assert_eq!(unsafe { pipe2(p.as_mut_ptr(), O_CLOEXEC) }, 0);
            // SAFETY: fresh fds we own; the write end is closed at once.
            unsafe {
                drop(OwnedFd::from_raw_fd(p[1]));
                OwnedFd::from_raw_fd(p[0])
            }
        })
        .collect()
}

const O_CLOEXEC: i32 = 0o2000000;
const F_GETFD: i32 = 1;
const FD_CLOEXEC: i32 = 1;

unsafe extern "C" {
    fn pipe2(fds: *mut i32, flags: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}

/// A method return zbus builds (a reply to a CreateSession call), and its fds.
fn structured(sel: u8, rest: &[u8]) -> Option<(Vec<u8>, Vec<OwnedFd>)> {
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
        0x00 => b.build(&(id, path, rt, Fd::from(&fd), uid, seat, vtnr, existing)),
        // Right fields, no fd.
        0x04 => b.build(&(id, path, rt, uid, seat, vtnr, existing)),
        // A close neighbour: uid swapped for a string.
        0x08 => b.build(&(id, path, rt, Fd::from(&fd), seat.clone(), seat, vtnr, existing)),
        _ => b.build(&(id,)),
    }
    .ok()?;
    let fds = m.data().fds().iter().map(|f| std::os::fd::AsFd::as_fd(f).try_clone_to_owned().ok()).collect::<Option<Vec<_>>>()?;
    Some((m.data().bytes().to_vec(), fds))
}

type Fields = (String, String, String, u32, String, u32, bool);

/// What zbus reads from the same bytes as `soshusub`, when it reads them at all.
fn zbus_reads(bytes: &[u8], nfds: usize) -> Option<Fields> {
    let endian = if bytes.first() == Some(&b'B') { Endian::Big } else { Endian::Little };
    let fds: Vec<zbus::wire::OwnedFd> = fifos(nfds).into_iter().map(Into::into).collect();
    // SAFETY: zbus's own receive path parses socket bytes the same way.
    let msg = unsafe { Message::from_bytes(Data::new_fds(bytes.to_vec(), Context::new(endian, 0), fds)) }.ok()?;
    let body = msg.body();
    let (id, path, rt, _fd, uid, seat, vtnr, existing): (
        &str,
        zbus::ObjectPath<'_>,
        &str,
        Fd<'_>,
        u32,
        &str,
        u32,
        bool,
    ) = body.deserialize().ok()?;
    Some((id.into(), path.to_string(), rt.into(), uid, seat.into(), vtnr, existing))
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let (bytes, fds) = if sel & 0x80 != 0 {
        match structured(sel, rest) {
            Some(m) => m,
            None => return,
        }
    } else {
        (rest.to_vec(), fifos(usize::from(sel & 3)))
    };
    let nfds = fds.len();
    let decoded = decode_reply(&bytes, fds);
    // In structured mode the right signature with its fd always decodes.
    if sel & 0x8c == 0x80 {
        assert!(decoded.is_ok(), "{decoded:?}");
    }
    let Ok(r) = decoded else { return };
    // An accepted reply hands back our own CLOEXEC duplicate (>= 3).
    if let Some(fd) = &r.fd {
        assert!(fd.as_raw_fd() >= 3);
        // SAFETY: fcntl on an fd we own.
        assert_eq!(unsafe { fcntl(fd.as_raw_fd(), F_GETFD) } & FD_CLOEXEC, FD_CLOEXEC);
    }
    if let Some(z) = zbus_reads(&bytes, nfds) {
        let ours = (r.id, r.object_path, r.runtime_path, r.uid, r.seat, r.vtnr, r.existing);
        assert_eq!(ours, z);
    }
});
