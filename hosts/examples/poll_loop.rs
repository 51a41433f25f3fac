//! kettle in a plain `poll(2)` loop (level-triggered): an echo over
//! loopback, a timer chain, a task spawned from a host timer, work from
//! another thread. The glue is `hosts/src/poll.rs`: poll kettle's fd with
//! the host's own timeout, `try_turn` when it is readable.
//!
//! `cargo run -p kettle-hosts --example poll_loop`

use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::poll::PollHost;

fn main() -> std::io::Result<()> {
    let mut host = PollHost::new(Runtime::new()?);
    kettle_hosts::scenario::run(&mut host);
    host.shutdown();
    Ok(())
}
