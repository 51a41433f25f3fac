//! The poll-level operations of [`File`]: the two edges of its state
//! machine (`poll_idle` and `start`), and the reads, writes, flushes and
//! seeks built on them. The async methods (`methods.rs`) and the futures-io
//! and tokio trait impls all call these.
//!
//! Each operation is a loop of the same shape: reach idle (returning any
//! error a trip came back with), then either finish from the buffer or
//! start a trip and go round again to wait for it.

use std::future::poll_fn;
use std::io::{self, SeekFrom};
use std::task::{Context, Poll, ready};

use super::buf::MAX_TRIP;
use super::trip::{self, Done, Inner, Op};
use super::{File, State};
use crate::runtime::context;

impl File {
    /// Edge (2): waits for a trip in flight, keeps its result (`last`) or
    /// its error; then returns the kept error, once, if there is one.
    pub(crate) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Busy(trip) = &mut self.state {
            match ready!(std::pin::Pin::new(trip).poll_back(cx)) {
                Some((inner, result)) => {
                    self.state = State::Idle(inner);
                    match result {
                        Ok(done) => self.last = Some(done),
                        Err(e) => self.error = Some(e),
                    }
                }
                None => self.state = State::Lost,
            }
        }
        if let Some(e) = self.error.take() {
            return Poll::Ready(Err(e));
        }
        match self.state {
            State::Idle(_) => Poll::Ready(Ok(())),
            State::Lost => Poll::Ready(Err(io::Error::other(
                "this kettle::fs::File was lost: an operation on it never came back from the blocking pool",
            ))),
            State::Busy(_) => unreachable!("collected above"),
        }
    }

    /// The state, when idle.
    pub(crate) fn idle(&mut self) -> &mut Inner {
        match &mut self.state {
            State::Idle(inner) => inner,
            _ => unreachable!("File::idle called while not idle"),
        }
    }

    /// Edge (1): sends the state to the pool with `op`. Call when idle.
    ///
    /// # Panics
    /// Outside a runtime, before anything is moved.
    pub(crate) fn start(&mut self, op: Op) {
        context::expect_current("kettle::fs::File", |_| ());
        let State::Idle(mut inner) = std::mem::replace(&mut self.state, State::Lost) else {
            unreachable!("File::start called while not idle");
        };
        inner.buf.discard_read_ahead();
        self.streak.on_start(op);
        self.last = None;
        self.seek_in_flight = None;
        self.state = State::Busy(trip::start(inner, op));
    }

    /// Starts `op` after any trip in flight and returns what it gave.
    pub(crate) async fn run(&mut self, op: Op) -> io::Result<Done> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.start(op);
        poll_fn(|cx| self.poll_idle(cx)).await?;
        Ok(self.last.take().expect("a trip that succeeded left its result"))
    }

    /// Reads into `dst` from read-ahead, or starts a read trip of at least
    /// 16 KiB (more in a streak of reads, or for a larger `dst`; at most 2
    /// MiB) and hands out from it.
    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_read_ahead(cx, dst.len()))?;
        Poll::Ready(Ok(self.idle().buf.take_into(dst)))
    }

    /// Waits until there is read-ahead to hand out, fetching it if there is
    /// none (a trip reading `want` bytes, at least 16 KiB, at most 2 MiB).
    /// Ready with no read-ahead: the end of the file, or `want` is 0.
    pub(crate) fn poll_read_ahead(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if !self.idle().buf.unread().is_empty() || want == 0 {
                return Poll::Ready(Ok(()));
            }
            if let Some(Done::Read { eof: true }) = self.last {
                // The trip just back reached the end: report it once; the
                // next read asks the file again (it may have grown).
                self.last = None;
                return Poll::Ready(Ok(()));
            }
            self.start(Op::Read(want.max(self.streak.read_ahead()).min(MAX_TRIP)));
        }
    }

    /// Accepts bytes from `src` into the buffer; once it holds 16 KiB or
    /// more (up to 1 MiB in a streak of writes), sends it to the pool
    /// (without waiting) and returns.
    pub(crate) fn poll_write(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_idle(cx))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // What an earlier trip said (an end of file, say) is out of date
        // once bytes are accepted.
        self.last = None;
        let write_at = self.streak.write_at();
        let buf = &mut self.idle().buf;
        let pending = buf.pending_writes();
        if pending + src.len() < write_at {
            buf.push_write(src);
            return Poll::Ready(Ok(src.len()));
        }
        debug_assert!(pending < write_at, "a buffer that reached the threshold was sent at once");
        let n = src.len().min(MAX_TRIP - pending);
        buf.push_write(&src[..n]);
        self.start(Op::WriteBehind);
        Poll::Ready(Ok(n))
    }

    /// Waits until every accepted byte is written (one trip if any are
    /// pending), returning the error of any write since the last report.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if self.idle().buf.pending_writes() == 0 {
                return Poll::Ready(Ok(()));
            }
            self.start(Op::Settle);
        }
    }

    /// futures-io's one-step seek: starts a seek to `pos` and returns its
    /// position when it is back. Polled again with the same `pos` while
    /// pending, as futures-io asks, it waits for the same trip.
    #[cfg_attr(not(feature = "futures-io"), allow(dead_code))]
    pub(crate) fn poll_seek(&mut self, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if self.seek_in_flight == Some(pos)
                && let Some(Done::Seek(at)) = self.last
            {
                self.seek_in_flight = None;
                self.last = None;
                return Poll::Ready(Ok(at));
            }
            self.start(Op::Seek(pos));
            self.seek_in_flight = Some(pos);
        }
    }

    /// tokio's first step: a seek to start at the next `poll_complete`.
    #[cfg_attr(not(feature = "tokio-io"), allow(dead_code))]
    pub(crate) fn start_seek(&mut self, pos: SeekFrom) {
        self.queued_seek = Some(pos);
    }

    /// tokio's second step: starts the queued seek (after any trip in
    /// flight) and returns its position. With no seek queued or in flight,
    /// the current position (a seek by 0: one trip).
    #[cfg_attr(not(feature = "tokio-io"), allow(dead_code))]
    pub(crate) fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if let Some(pos) = self.queued_seek.take() {
                self.start(Op::Seek(pos));
                self.seek_in_flight = Some(pos);
                continue;
            }
            if self.seek_in_flight.take().is_some()
                && let Some(Done::Seek(at)) = self.last.take()
            {
                return Poll::Ready(Ok(at));
            }
            self.queued_seek = Some(SeekFrom::Current(0));
        }
    }
}
