//! Shutdown with a task holding the host's state, in every host: after the
//! host removes kettle's source and shuts the runtime down, the task's `Rc`
//! of the host's state is gone and no descriptor is left open.
//!
//! One test, the hosts one after the other: it counts `/proc/self/fd`, and
//! a test running beside it would open descriptors of its own. Keep this
//! binary to this one test.

use std::rc::Rc;
use std::time::Duration;

use calloop::Mode;
use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::calloop::CalloopHost;
use kettle_hosts::checks::open_fds;
use kettle_hosts::glib::{GlibHost, Way};
use kettle_hosts::mio_edge::MioEdgeHost;
use kettle_hosts::poll::PollHost;

/// The host's state (a window, a document), held by a kettle task.
struct HostState {
    _name: &'static str,
}

/// Runs a host with a task holding `state`, a listening socket, a pending
/// timer and a pending host callback; ends it; checks what is left.
fn ends_cleanly(make: impl FnOnce() -> Box<dyn FnOnce() -> String>) {
    let before = open_fds();
    let report = make();
    let running = open_fds();
    assert!(running >= before + 3, "the count sees the runtime's descriptors: {before} -> {running}");
    let leaked = report();
    assert_eq!(open_fds(), before, "{leaked}: descriptors left open after the shutdown");
}

fn run(mut host: impl HostLoop) -> String {
    let name = host.name();
    let state = Rc::new(HostState { _name: name });
    let held = state.clone();
    let rt = host.runtime();
    let task = rt.spawn(async move {
        let _state = held;
        let listener = kettle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        kettle::sleep(Duration::from_secs(60)).await;
        drop(listener);
    });
    host.call_from_host(Duration::from_secs(60), Box::new(|_| unreachable!("never due")));
    for _ in 0..3 {
        host.iterate(Duration::from_millis(5));
    }
    assert_eq!(Rc::strong_count(&state), 2, "{name}: the task holds the host's state");
    assert!(!task.is_finished());
    host.shutdown();
    assert_eq!(Rc::strong_count(&state), 1, "{name}: the task's future was dropped by the shutdown");
    assert!(task.is_finished(), "{name}: the task ended (cancelled)");
    name.to_string()
}

#[test]
fn shutdown_with_a_task_holding_host_state_frees_it_and_leaks_no_descriptor() {
    // Warm-ups outside the counts: glib's global wake-up fd and the
    // blocking pool's and std's lazily opened descriptors, if any.
    glib::MainContext::default().iteration(false);
    run(PollHost::new(Runtime::new().unwrap()));

    ends_cleanly(|| {
        let host = PollHost::new(Runtime::new().unwrap());
        Box::new(move || run(host))
    });
    ends_cleanly(|| {
        let host = MioEdgeHost::new(Runtime::new().unwrap()).unwrap();
        Box::new(move || run(host))
    });
    for mode in [Mode::Level, Mode::Edge] {
        ends_cleanly(|| {
            let host = CalloopHost::new(Runtime::new().unwrap(), mode).unwrap();
            Box::new(move || run(host))
        });
    }
    for way in [Way::CustomSource, Way::FdSource] {
        ends_cleanly(|| {
            let host = GlibHost::new(Runtime::new().unwrap(), way);
            Box::new(move || run(host))
        });
    }
}
