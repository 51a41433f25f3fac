//! kettle in glib's main loop, through a custom `GSource` and through a
//! unix-fd source: an echo over loopback, a timer chain, a task spawned
//! from a glib timeout, work from another thread; then a kettle task that
//! runs a nested main loop (a modal dialog) whose callback tries to turn
//! kettle — refused, no abort — and the outer loop going on; then the
//! explicit ending: the source destroyed, then `rt.shutdown()`.
//!
//! The glue is `hosts/src/glib_source.rs` (the custom source) and
//! `hosts/src/glib.rs` (the fd source, the host).
//!
//! `cargo run -p kettle-hosts --example glib_host`

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glib::ControlFlow;
use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::glib::{GlibHost, Way, timeout_on};

fn main() -> std::io::Result<()> {
    for way in [Way::CustomSource, Way::FdSource] {
        let mut host = GlibHost::new(Runtime::new()?, way);
        kettle_hosts::scenario::run(&mut host);
        nested_dialog(&mut host);
        // The source first (it holds the runtime), then the runtime.
        host.shutdown();
        println!("           source destroyed, runtime shut down");
    }
    Ok(())
}

/// A kettle task runs a nested main loop for 20 ms; a callback in it tries
/// to turn kettle every millisecond.
fn nested_dialog(host: &mut GlibHost) {
    let refused = Rc::new(Cell::new(0));
    let rt = host.shared_runtime();
    let (inner, counted) = (rt.clone(), refused.clone());
    let context = host.context().clone();
    let dialog = rt.spawn(async move {
        let nested = glib::MainLoop::new(Some(&context), false);
        let pump = timeout_on(&context, Duration::from_millis(1), move || {
            if let Err(refusal) = inner.try_turn(Some(Duration::ZERO)) {
                if counted.get() == 0 {
                    println!("           nested loop: try_turn refused: {refusal}");
                }
                counted.set(counted.get() + 1);
            }
            ControlFlow::Continue
        });
        let closer = nested.clone();
        timeout_on(&context, Duration::from_millis(20), move || {
            closer.quit();
            ControlFlow::Break
        });
        let opened = Instant::now();
        nested.run();
        pump.destroy();
        let modal = opened.elapsed();
        kettle::sleep(Duration::from_millis(2)).await;
        modal
    });
    drop(rt);
    while !dialog.is_finished() {
        host.iterate(Duration::from_secs(1));
    }
    let modal = host.runtime().block_on(dialog).expect("the dialog task");
    println!(
        "           nested loop ran {:.1} ms, {} turns refused, no abort; the outer loop went on",
        modal.as_secs_f64() * 1e3,
        refused.get()
    );
}
