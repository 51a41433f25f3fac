//! `Handle::spawn_with`'s future: built on the loop's thread from a `Send`
//! recipe, so the future itself need not be `Send`.
//!
//! A task created on another thread must cross to the loop's thread. With
//! `Handle::spawn` the future itself crosses, so it must be `Send`.
//! `spawn_with` sends only the recipe, a `Send` closure: the task's future is
//! a `Lazy` in its `Make` state, which holds nothing but the closure, and at
//! its first poll — on the loop's thread — it calls the closure and becomes
//! the future it made (`TaskRef::spawn_remote_with`, in `cell.rs`, states why
//! that is sound).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// A future built on the loop thread from a `Send` recipe (`spawn_with`).
    #[project = LazyProj]
    pub(crate) enum Lazy<M, Fut> {
        Make { make: Option<M> },
        Running { #[pin] future: Fut },
    }
}

impl<M: FnOnce() -> Fut, Fut: Future> Future for Lazy<M, Fut> {
    type Output = Fut::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        if let LazyProj::Make { make } = self.as_mut().project() {
            let make = make.take().expect("a Lazy leaves its Make state once");
            self.set(Lazy::Running { future: make() });
        }
        match self.project() {
            LazyProj::Running { future } => future.poll(cx),
            LazyProj::Make { .. } => unreachable!("just replaced"),
        }
    }
}
