//! The workloads: which operations the driver draws, and which steps a spawned task's program
//! is made of, each with its weight. The driver (`driver.rs`) says what an operation does, the
//! worker (`worker.rs`) what a step does.

/// What the driver does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Spawn,
    Cancel,
    AddDoneCallback,
    JoinHere,
    HandToJoiner,
    Detach,
    CallLater,
    CancelTimer,
    CallSoon,
    TryPut,
    TryGet,
    WakeThenCancel,
    SpawnQueueJoin,
    ReplaceQueue,
    RemoteSpawn,
    RemoteCallSoon,
    RemoteSend,
    HandToRemote,
    RemoteCancel,
    RemoteWait,
    Yield,
    Sleep,
}

/// What a spawned task's program is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Yield,
    Sleep,
    SleepUnderTimeout,
    ReadyUnderTimeout,
    Get,
    RaceGets,
    Put,
    TryGet,
    TryPut,
    QueueJoin,
    SpawnChild,
}

/// The weights of a workload.
#[derive(Clone, Copy)]
pub struct Mix {
    pub ops: &'static [(Op, u32)],
    pub steps: &'static [(StepKind, u32)],
}

/// A bit of everything.
pub const GENERAL: Mix = Mix {
    ops: &[
        (Op::Spawn, 160),
        (Op::Cancel, 70),
        (Op::AddDoneCallback, 40),
        (Op::JoinHere, 40),
        (Op::HandToJoiner, 30),
        (Op::Detach, 20),
        (Op::CallLater, 70),
        (Op::CancelTimer, 50),
        (Op::CallSoon, 25),
        (Op::TryPut, 60),
        (Op::TryGet, 60),
        (Op::WakeThenCancel, 40),
        (Op::SpawnQueueJoin, 6),
        (Op::ReplaceQueue, 3),
        (Op::RemoteSpawn, 40),
        (Op::RemoteCallSoon, 30),
        (Op::RemoteSend, 15),
        (Op::HandToRemote, 15),
        (Op::RemoteCancel, 15),
        (Op::RemoteWait, 10),
        (Op::Yield, 130),
        (Op::Sleep, 1),
    ],
    steps: &[
        (StepKind::Yield, 20),
        (StepKind::Sleep, 10),
        (StepKind::SleepUnderTimeout, 10),
        (StepKind::ReadyUnderTimeout, 3),
        (StepKind::Get, 15),
        (StepKind::RaceGets, 4),
        (StepKind::Put, 15),
        (StepKind::TryGet, 5),
        (StepKind::TryPut, 5),
        (StepKind::QueueJoin, 2),
        (StepKind::SpawnChild, 4),
    ],
};

/// Mostly queue traffic, with waiters cancelled right after they were woken.
pub const QUEUES: Mix = Mix {
    ops: &[
        (Op::Spawn, 200),
        (Op::Cancel, 100),
        (Op::WakeThenCancel, 140),
        (Op::TryPut, 100),
        (Op::TryGet, 100),
        (Op::HandToJoiner, 30),
        (Op::JoinHere, 20),
        (Op::Detach, 10),
        (Op::SpawnQueueJoin, 10),
        (Op::ReplaceQueue, 5),
        (Op::CallLater, 20),
        (Op::AddDoneCallback, 10),
        (Op::Yield, 150),
    ],
    steps: &[
        (StepKind::Get, 30),
        (StepKind::RaceGets, 10),
        (StepKind::Put, 30),
        (StepKind::TryGet, 5),
        (StepKind::TryPut, 5),
        (StepKind::QueueJoin, 3),
        (StepKind::Yield, 10),
    ],
};
