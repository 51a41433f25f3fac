//! What runs outside a task's body: `call_soon` and `call_later` callbacks (which may try a get,
//! spawn, cancel a timer or schedule another callback), done callbacks, and the destructors
//! carried by task futures and callbacks, which spawn, schedule and cancel while the loop runs
//! them or drops them — also while the runtime itself is being dropped.

use std::time::{Duration, Instant};

use kettle::JoinHandle;

use crate::MAX_TIMERS;
use crate::env::Env;
use crate::ledger::{CallbackKind, Outcome, Output};
use crate::rng::index;
use crate::worker::{Step, spawn_worker};

/// Something a task's future or a callback does when it is dropped — when it finishes, is
/// cancelled, or goes with the runtime: destructors that spawn, schedule and cancel while the
/// loop drops things.
pub enum DropAction {
    /// Spawn a task per program, each with a done callback or not.
    Spawn(Vec<Vec<Step>>, bool),
    CallSoon,
    Cancel(usize, JoinHandle<Output>),
    CancelTimer(u64),
}

/// Carries a `DropAction`, and does it when dropped.
pub struct OnDrop(pub Env, pub Option<DropAction>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let OnDrop(env, action) = self;
        match action.take() {
            Some(DropAction::Spawn(programs, done_callbacks)) => {
                for program in programs {
                    let (id, handle) = spawn_worker(env, program, None);
                    if done_callbacks {
                        add_done_callback(env, id, &handle, None);
                    }
                }
            }
            Some(DropAction::CallSoon) => schedule(env, None, CallbackAction::Nothing, None),
            Some(DropAction::Cancel(task, handle)) => env.ledger.cancel(task, &handle),
            Some(DropAction::CancelTimer(pick)) => cancel_timer(env, pick, false),
            None => {}
        }
    }
}

/// What a `call_soon` or `call_later` callback does besides reporting that it ran.
pub enum CallbackAction {
    Nothing,
    TryGet,
    Spawn(Vec<Step>),
    CancelTimer(u64),
    /// Schedule another callback (with `call_later`).
    Chain(Duration),
}

impl CallbackAction {
    fn run(self, env: &Env) {
        match self {
            CallbackAction::Nothing => {}
            CallbackAction::TryGet => env.try_get("a callback's try_get"),
            CallbackAction::Spawn(program) => drop(spawn_worker(env, program, None)),
            CallbackAction::CancelTimer(pick) => cancel_timer(env, pick, false),
            CallbackAction::Chain(delay) => schedule(env, Some(delay), CallbackAction::Nothing, None),
        }
    }
}

/// `call_soon` (no `delay`) or `call_later` of a callback doing `action`; a `call_later`'s handle
/// joins `env.timers`.
pub fn schedule(env: &Env, delay: Option<Duration>, action: CallbackAction, on_drop: Option<DropAction>) {
    let (kind, due) = match delay {
        None => (CallbackKind::Soon, None),
        Some(delay) => (CallbackKind::Later, Some(Instant::now() + delay)),
    };
    let (callback, token) = env.ledger.new_callback(kind, due);
    let guards = (token, OnDrop(env.clone(), on_drop));
    let inner = env.clone();
    let run = move || {
        let _guards = guards;
        inner.ledger.callback_ran(callback);
        action.run(&inner);
    };
    match delay {
        None => kettle::call_soon(run),
        Some(delay) => {
            let timer = kettle::call_later(delay, run);
            let mut timers = env.timers.borrow_mut();
            timers.push((callback, timer));
            if timers.len() > MAX_TIMERS {
                drop(timers.swap_remove(0)); // does not cancel
            }
        }
    }
}

/// Cancels one of `env.timers` (chosen by `pick`), checking what `cancel` says against
/// `is_pending`; `forget` drops its handle afterwards.
pub fn cancel_timer(env: &Env, pick: u64, forget: bool) {
    let entry = {
        let mut timers = env.timers.borrow_mut();
        if timers.is_empty() {
            return;
        }
        let i = index(pick, timers.len());
        timers.swap_remove(i)
    };
    let (callback, timer) = &entry;
    let pending = timer.is_pending();
    let was_pending = timer.cancel(); // runs the callback's destructors, which may cancel timers
    env.ledger.timer_cancelled(*callback, was_pending, pending);
    if !forget {
        env.timers.borrow_mut().push(entry);
    }
}

/// A done callback for task `task`: runs once, and sees what the join handle will see.
pub fn add_done_callback(env: &Env, task: usize, handle: &JoinHandle<Output>, on_drop: Option<DropAction>) {
    let (callback, token) = env.ledger.new_callback(CallbackKind::Done { task }, None);
    let guards = (token, OnDrop(env.clone(), on_drop));
    let ledger = env.ledger.clone();
    handle.add_done_callback(move |result| {
        let _guards = guards;
        ledger.callback_ran(callback);
        ledger.observe(task, Outcome::of(result), "a done callback");
    });
}
