//! Every runtime in the process, by id, for the rare request that names a
//! runtime only by its id and comes from another thread.
//!
//! A timer key carries its runtime's 32-bit id, not a pointer, so that a
//! `Sleep` stays 32 bytes. On the runtime's own thread the context finds it
//! among the runtimes living there (`context::with_runtime`). A `Sleep`
//! registered in runtime A can also be dropped, or polled again in runtime
//! B, on *another* thread; A's timer queue belongs to A's thread, so the
//! removal must travel there, like any remote request, through A's
//! injector. This registry is how that thread finds A's injector. It is
//! locked only on that rare path, and when a runtime is created or dropped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::shared::{Remote, Shared};

/// Live runtimes' shared parts, by id.
static RUNTIMES: Mutex<BTreeMap<u32, Weak<Shared>>> = Mutex::new(BTreeMap::new());

fn runtimes() -> MutexGuard<'static, BTreeMap<u32, Weak<Shared>>> {
    // Nothing can panic while the lock is held; a poisoned map is still whole.
    RUNTIMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records a new runtime.
pub(crate) fn register(shared: &Arc<Shared>) {
    runtimes().insert(shared.id(), Arc::downgrade(shared));
}

/// Forgets a runtime that is being dropped.
pub(crate) fn unregister(id: u32) {
    runtimes().remove(&id);
}

/// Sends `item` to runtime `id`'s loop, wherever it runs. Does nothing if
/// that runtime is gone: whatever the request was about went with it.
pub(crate) fn push_to(id: u32, item: Remote) {
    let shared = runtimes().get(&id).and_then(Weak::upgrade);
    if let Some(shared) = shared {
        // Refused only if the runtime is shutting down, which drops its
        // timers anyway.
        let _ = shared.push(item);
    }
}
