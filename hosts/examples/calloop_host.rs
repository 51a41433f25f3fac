//! kettle in calloop, its fd a `Generic` source, in `Mode::Level` and
//! `Mode::Edge` (both in turn, or the one given: `level` or `edge`): an
//! echo over loopback, a timer chain, a task spawned from a calloop timer,
//! work from another thread. No timeout source for kettle: its fd fires for
//! its timers. The glue is `hosts/src/calloop.rs`, in short:
//!
//! ```ignore
//! let rt = Rc::new(kettle::Runtime::new()?);
//! event_loop.handle().insert_source(
//!     Generic::new(rt.clone(), Interest::READ, Mode::Edge), // Rc<Runtime> is AsFd
//!     |_, rt, _| {
//!         let _ = rt.try_turn(Some(Duration::ZERO));
//!         Ok(PostAction::Continue)
//!     },
//! )?;
//! ```
//!
//! `cargo run -p kettle-hosts --example calloop_host [level|edge]`

use calloop::Mode;
use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::calloop::CalloopHost;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let modes = match std::env::args().nth(1).as_deref() {
        None => vec![Mode::Level, Mode::Edge],
        Some("level") => vec![Mode::Level],
        Some("edge") => vec![Mode::Edge],
        Some(other) => {
            return Err(format!("unknown mode {other:?}: give `level`, `edge` or nothing (both)").into());
        }
    };
    for mode in modes {
        let mut host = CalloopHost::new(Runtime::new()?, mode)?;
        kettle_hosts::scenario::run(&mut host);
        // Removes kettle's source from calloop, then shuts kettle down.
        host.shutdown();
    }
    Ok(())
}
