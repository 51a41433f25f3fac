//! kettle as a custom `GSource`: the way glib's own sources are written.
//!
//! A `GSource` is a C struct that glib allocates (`g_source_new`) with room
//! for the source's own fields after glib's header, and four functions glib
//! calls each iteration: `prepare` (before polling: ready already? how long
//! may the poll block?), `check` (after polling: did my fd fire?),
//! `dispatch` (run), `finalize` (the last reference went). kettle's source:
//!
//! - adds kettle's fd with `g_source_add_unix_fd` for `G_IO_IN`, so glib
//!   polls it with its own descriptors (level-triggered);
//! - `prepare` says "not ready, no timeout of mine": kettle's timers make
//!   its fd readable, so glib needs no timeout from kettle (a host that
//!   wanted one would set `*timeout` from `next_timeout_ms`, rounded up);
//! - `check` is the fd's `G_IO_IN`; `dispatch` is one `try_turn`;
//! - `finalize` drops the source's `Rc<Runtime>`.
//!
//! The source *owns* a reference to the runtime, so the wrong ending —
//! runtime shut down, source still polling its closed fd (`G_IO_NVAL` for
//! ever) — cannot happen: the runtime cannot be taken out of its `Rc` for
//! `shutdown` until the source is destroyed.
//!
//! # Safety
//!
//! The fields after glib's header are written once, right after
//! `g_source_new` and before glib can call anything, and dropped once, in
//! `finalize`. They hold `Rc`s, which are not `Send`: each callback checks
//! that it runs on the thread that made the source and does nothing
//! otherwise (a `finalize` on another thread leaks the state rather than
//! drop an `Rc` there). The host keeps the source and its context private
//! to its thread, so that never happens in practice.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::thread::ThreadId;
use std::time::Duration;

use glib::ffi;
use glib::translate::from_glib_full;
use kettle::Runtime;

/// glib's header, then kettle's fields.
#[repr(C)]
struct KettleSource {
    base: ffi::GSource,
    state: ManuallyDrop<State>,
}

/// What the source keeps.
struct State {
    rt: Rc<Runtime>,
    /// The tag of kettle's fd in the source (`g_source_query_unix_fd`).
    tag: ffi::gpointer,
    owner: ThreadId,
    turns: Rc<Cell<usize>>,
    refused: Rc<Cell<usize>>,
}

static FUNCS: ffi::GSourceFuncs = ffi::GSourceFuncs {
    prepare: Some(prepare),
    check: Some(check),
    dispatch: Some(dispatch),
    finalize: Some(finalize),
    closure_callback: None,
    closure_marshal: None,
};

/// A new kettle source for `rt` (not yet attached): counts its turns in
/// `turns`, and the turns `try_turn` refused in `refused`.
pub fn new(rt: Rc<Runtime>, turns: Rc<Cell<usize>>, refused: Rc<Cell<usize>>) -> glib::Source {
    let size = u32::try_from(size_of::<KettleSource>()).expect("a small struct");
    let fd = rt.as_fd().as_raw_fd();
    // SAFETY: `FUNCS` is a valid, static `GSourceFuncs` that glib only reads
    // (the `*mut` is C's missing const); `size` covers glib's header, which
    // `KettleSource` starts with (`repr(C)`). glib zeroes the rest; `state`
    // is written before the source is returned, so before any callback can
    // run, and `from_glib_full` takes over the one reference `g_source_new`
    // returned.
    unsafe {
        let raw = ffi::g_source_new(std::ptr::addr_of!(FUNCS).cast_mut(), size);
        let tag = ffi::g_source_add_unix_fd(raw, fd, ffi::G_IO_IN);
        let owner = std::thread::current().id();
        let state = State { rt, tag, owner, turns, refused };
        std::ptr::addr_of_mut!((*raw.cast::<KettleSource>()).state).write(ManuallyDrop::new(state));
        ffi::g_source_set_name(raw, c"kettle".as_ptr());
        from_glib_full(raw)
    }
}

/// The source's state, if called on its owner thread.
///
/// # Safety
/// `source` is a kettle source made by [`new`], not yet finalized.
unsafe fn state<'a>(source: *mut ffi::GSource) -> Option<&'a State> {
    // SAFETY: the caller's contract: `source` points at a live
    // `KettleSource` whose `state` was written by `new`.
    let state: &State = unsafe { &(*source.cast::<KettleSource>()).state };
    (state.owner == std::thread::current().id()).then_some(state)
}

unsafe extern "C" fn prepare(_source: *mut ffi::GSource, timeout: *mut libc::c_int) -> ffi::gboolean {
    // SAFETY: glib passes a valid pointer to the poll timeout.
    unsafe { *timeout = -1 };
    ffi::GFALSE
}

unsafe extern "C" fn check(source: *mut ffi::GSource) -> ffi::gboolean {
    // SAFETY: glib calls `check` on a live source of ours.
    let Some(state) = (unsafe { state(source) }) else { return ffi::GFALSE };
    // SAFETY: `tag` came from `g_source_add_unix_fd` on this source.
    let condition = unsafe { ffi::g_source_query_unix_fd(source, state.tag) };
    ffi::gboolean::from(condition & ffi::G_IO_IN != 0)
}

unsafe extern "C" fn dispatch(
    source: *mut ffi::GSource,
    _: ffi::GSourceFunc,
    _: ffi::gpointer,
) -> ffi::gboolean {
    // SAFETY: glib calls `dispatch` on a live source of ours.
    if let Some(state) = unsafe { state(source) } {
        // `try_turn`, never `turn`: a panic here would abort the process.
        match state.rt.try_turn(Some(Duration::ZERO)) {
            Ok(_) => state.turns.set(state.turns.get() + 1),
            Err(_) => state.refused.set(state.refused.get() + 1),
        }
    }
    ffi::G_SOURCE_CONTINUE
}

unsafe extern "C" fn finalize(source: *mut ffi::GSource) {
    // SAFETY: glib calls `finalize` once, when the last reference goes;
    // nothing reads `state` afterwards.
    unsafe {
        let state = &mut (*source.cast::<KettleSource>()).state;
        if state.owner == std::thread::current().id() {
            ManuallyDrop::drop(state);
        }
    }
}
