//! `bus-black-hole NAME [--address ADDR]`: owns NAME on the bus at ADDR (default:
//! `$DBUS_SYSTEM_BUS_ADDRESS`, else the system bus socket) and never answers a method call: a
//! PID 1 (`org.freedesktop.systemd1`) that hangs, for the module's bounded inquiry. Prints
//! `ready` once the name is owned; every call is appended to stderr as `call <member>`.
use std::io::Write;
use std::pin::Pin;

use futures_core::Stream;
use zbus::MessageStream;

fn usage() -> ! {
    eprintln!("usage: bus-black-hole NAME [--address ADDR]");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| usage());
    let address = match (args.next().as_deref(), args.next()) {
        (Some("--address"), Some(a)) => a,
        (None, _) => std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_string()),
        _ => usage(),
    };
    let r: zbus::Result<()> = zbus::block_on(async move {
        let conn = zbus::connection::Builder::address(address.as_str())
            .name(name.as_str())
            .build()
            .await?;
        let mut stream = MessageStream::from(&conn);
        println!("ready");
        let _ = std::io::stdout().flush();
        // Read (so the bus does not stall on us) and drop: no call ever gets an answer.
        while let Some(m) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            if let Ok(m) = m
                && m.message_type() == zbus::message::Type::MethodCall
            {
                let member = m.header().member().map(|x| x.to_string()).unwrap_or_default();
                eprintln!("call {member}");
            }
        }
        Ok(())
    });
    if let Err(e) = r {
        eprintln!("bus-black-hole: {e}");
        std::process::exit(1);
    }
}
