//! kettle in a program's own `mio::Poll`, its fd registered edge-triggered:
//! an echo over loopback, a timer chain, a task spawned from a host timer,
//! work from another thread. The glue is `hosts/src/mio_edge.rs`: one turn
//! per edge, which kettle's fd contract makes enough (a turn that leaves
//! work behind gives the fd a new edge).
//!
//! `cargo run -p kettle-hosts --example mio_edge`

use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::mio_edge::MioEdgeHost;

fn main() -> std::io::Result<()> {
    let mut host = MioEdgeHost::new(Runtime::new()?)?;
    kettle_hosts::scenario::run(&mut host);
    // Deregisters kettle's fd from the host's poll, then shuts kettle down.
    host.shutdown();
    Ok(())
}
