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
    // Here too: it closes a descriptor a glib source still watches, and no
    // other test may open one in between.
    the_wrong_order_with_a_glib_fd_source_ends_on_nval_instead_of_spinning();
}

/// The misuse kettle's docs warn about: the runtime shut down while a glib
/// fd source still watches its fd. glib then reports `G_IO_NVAL` on every
/// iteration; a source that stops on it (as `kettle_hosts::glib`'s does) is
/// called once, not for ever.
fn the_wrong_order_with_a_glib_fd_source_ends_on_nval_instead_of_spinning() {
    use std::os::fd::{AsFd, AsRawFd};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let context = glib::MainContext::new();
    let rt = Runtime::new().unwrap();
    let (calls, nval) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counted, saw_nval) = (calls.clone(), nval.clone());
    let source = glib::unix_fd_source_new(
        rt.as_fd().as_raw_fd(),
        glib::IOCondition::IN,
        None,
        glib::Priority::DEFAULT,
        move |_, condition| {
            counted.fetch_add(1, Ordering::SeqCst);
            if condition.contains(glib::IOCondition::NVAL) {
                saw_nval.fetch_add(1, Ordering::SeqCst);
                return glib::ControlFlow::Break;
            }
            glib::ControlFlow::Continue
        },
    );
    source.attach(Some(&context));
    rt.shutdown(); // before destroying the source: the wrong order
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_millis(50) {
        context.iteration(false);
    }
    assert_eq!(nval.load(Ordering::SeqCst), 1, "glib reported the closed fd once");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "and the source, stopping on NVAL, was not called again");
    assert!(source.is_destroyed());
}
