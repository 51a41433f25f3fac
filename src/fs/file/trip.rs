//! One trip of a [`File`](super::File): its state moves to the pool, one
//! operation runs there, and the state comes back.
//!
//! What moves is [`Inner`]: the `std::fs::File` and the [`Buf`]. Whatever
//! happens to the trip, the `Inner` is never silently lost:
//!
//! - it runs: the state and the result are sent back;
//! - it is never run (the pool refused a thread, or shut down with the job
//!   queued): [`TripJob`]'s `Drop` sends the state back with an error, the
//!   pending writes still in it;
//! - it panics (it calls only std, so it should not): the same `Drop` sends
//!   the state back with an error;
//! - nobody waits any more (the `File` was dropped): the state is settled
//!   (pending writes written) where the send failed, then closed.

use std::fs::Metadata;
use std::future::Future;
use std::io::{self, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::buf::Buf;
use crate::blocking::hold_paused_clock;
use crate::contain;
use crate::fs::trip;
use crate::runtime::context;
use crate::sync::oneshot;

/// What travels: the file and its buffer.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) std: std::fs::File,
    pub(crate) buf: Buf,
}

/// The operation a trip carries, after the settle every trip starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// Nothing more: the settle is the point (a flush, `into_std`).
    Settle,
    /// The same, started by a `write` that filled the buffer.
    WriteBehind,
    /// Read up to this many bytes as read-ahead.
    Read(usize),
    /// Read the rest of the file as read-ahead.
    ReadToEnd,
    Seek(SeekFrom),
    SyncAll,
    SyncData,
    SetLen(u64),
    Metadata,
}

/// What a trip's operation gave, besides its effect on the buffer.
#[derive(Debug)]
pub(crate) enum Done {
    Settled,
    /// Read-ahead arrived; `eof` if the read reached the end of the file
    /// (read nothing, or read to the end).
    Read {
        eof: bool,
    },
    Seek(u64),
    Metadata(Box<Metadata>),
}

impl Inner {
    /// On the pool: settle, then `op`.
    fn run(&mut self, op: Op) -> io::Result<Done> {
        self.buf.settle(&mut self.std)?;
        Ok(match op {
            Op::Settle | Op::WriteBehind => Done::Settled,
            Op::Read(max) => Done::Read { eof: self.buf.fill(&mut self.std, max)? == 0 },
            Op::ReadToEnd => {
                self.buf.fill_to_end(&mut self.std)?;
                Done::Read { eof: true }
            }
            Op::Seek(pos) => Done::Seek(self.std.seek(pos)?),
            Op::SyncAll => self.std.sync_all().map(|()| Done::Settled)?,
            Op::SyncData => self.std.sync_data().map(|()| Done::Settled)?,
            Op::SetLen(len) => self.std.set_len(len).map(|()| Done::Settled)?,
            Op::Metadata => Done::Metadata(Box::new(self.std.metadata()?)),
        })
    }

    /// Settles where it is dropped (a thread that may block): the last
    /// chance for pending writes. Their error has nowhere to go.
    fn settle_and_close(&mut self) {
        let _ = self.buf.settle(&mut self.std);
    }
}

/// The state and the result, on the way back.
pub(crate) type Back = (Box<Inner>, io::Result<Done>);

/// The job on the pool. Its `Drop` is what makes the list in the module
/// docs hold: if the state is still here, the job did not finish.
struct TripJob {
    inner: Option<Box<Inner>>,
    op: Op,
    tx: Option<oneshot::Sender<Back>>,
    /// Set when the operation starts: a job dropped with its state still
    /// here then panicked, rather than never ran.
    started: bool,
}

impl TripJob {
    fn run(mut self) {
        self.started = true;
        let inner = self.inner.as_mut().expect("a job runs once");
        let result = inner.run(self.op);
        let inner = self.inner.take().expect("a job runs once");
        self.send(inner, result);
    }

    fn send(&mut self, inner: Box<Inner>, result: io::Result<Done>) {
        let tx = self.tx.take().expect("a job sends once");
        if let Err((mut inner, _)) = tx.send((inner, result)) {
            // The `File` is gone: nobody will settle it but us.
            contain::call(|| inner.settle_and_close());
        }
    }
}

impl Drop for TripJob {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let why = if self.started {
                io::Error::other("a kettle::fs::File operation panicked on the blocking pool")
            } else {
                trip::not_run(
                    "a kettle::fs::File operation",
                    io::Error::other("the runtime's blocking pool refused a thread or shut down"),
                )
            };
            self.send(inner, Err(why));
        }
    }
}

/// A trip in flight: resolves to the state and the result.
#[derive(Debug)]
pub(crate) struct Trip {
    rx: oneshot::Receiver<Back>,
}

/// Sends `inner` to the pool to run `op`.
///
/// # Panics
/// Outside a runtime (checked by the caller before it gives up `inner`).
pub(crate) fn start(inner: Box<Inner>, op: Op) -> Trip {
    let (tx, rx) = oneshot::channel();
    let job = TripJob { inner: Some(inner), op, tx: Some(tx), started: false };
    // Refused, the job is dropped, and its `Drop` sends the state back.
    let _ = trip::submit("kettle::fs::File", Box::new(move || job.run()));
    Trip { rx }
}

impl Trip {
    /// The state and the result once back; `None` only if the job vanished
    /// without its `Drop` running.
    pub(crate) fn poll_back(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Back>> {
        Pin::new(&mut self.get_mut().rx).poll(cx).map(Result::ok)
    }
}

/// A dropped `File`'s pending writes: written on the pool in the
/// background, or, outside a runtime or with the pool refusing, right here.
pub(crate) fn write_behind(inner: Box<Inner>) {
    /// Settles when dropped: after running on the pool, or dropped unrun.
    struct WriteBehind(Option<Box<Inner>>);
    impl Drop for WriteBehind {
        fn drop(&mut self) {
            if let Some(mut inner) = self.0.take() {
                inner.settle_and_close();
            }
        }
    }
    let job = WriteBehind(Some(inner));
    context::with_current(move |core| match core {
        Some(core) => {
            // Refused, the job is dropped here, and writes in its `Drop`.
            let _ = core.submit_blocking(hold_paused_clock(core, Box::new(move || drop(job))));
        }
        None => drop(job),
    });
}
