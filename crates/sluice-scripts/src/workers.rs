//! [`Workers`]: the threads invocations run on, and the I/O runtime their host operations use.
//!
//! A container has no thread of its own: idle, it is just its engine's memory in its pool. An
//! invocation borrows a worker thread (a parked one, or a new one when all are busy, so a script
//! stuck in a loop never delays another), runs the container there to its callback and any
//! leftovers, and hands the thread back. At most [`KEEP`] threads wait for work, each for
//! [`LINGER`]. Sockets and timers of every container are driven by one small multi-thread
//! runtime (`sluice-script-io`), so they keep working whichever thread the container runs on.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Worker threads kept waiting for work.
const KEEP: usize = 8;
/// How long a worker waits for work before it ends.
const LINGER: Duration = Duration::from_secs(30);
/// Stack of a worker (QuickJS's own limit is far below: see `Limits::stack_bytes`).
const STACK: usize = 8 * 1024 * 1024;

/// A unit of work for a worker thread; it gets the I/O runtime's handle to `block_on`.
pub type Task = Box<dyn FnOnce(&tokio::runtime::Handle) + Send>;

pub struct Workers {
    inner: Arc<Inner>,
}

struct Inner {
    /// Parked workers, each waiting on its own channel.
    parked: Mutex<Vec<Sender<Task>>>,
    io: tokio::runtime::Handle,
    /// The I/O runtime; shut down in the background when the last user is gone.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Workers {
    pub fn new() -> Result<Workers, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sluice-script-io")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the script I/O runtime: {e}"))?;
        Ok(Workers {
            inner: Arc::new(Inner {
                parked: Mutex::new(Vec::new()),
                io: runtime.handle().clone(),
                runtime: Some(runtime),
            }),
        })
    }

    /// Runs `task` on a parked worker, or on a new one if none is free.
    pub fn run(&self, mut task: Task) -> Result<(), String> {
        loop {
            let parked = self
                .inner
                .parked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            let Some(worker) = parked else { break };
            match worker.send(task) {
                Ok(()) => return Ok(()),
                Err(e) => task = e.0, // that worker just ended: try the next
            }
        }
        let (tx, rx) = channel::<Task>();
        tx.send(task).map_err(|_| "worker channel".to_string())?;
        let inner = self.inner.clone();
        std::thread::Builder::new()
            .name("sluice-script".into())
            .stack_size(STACK)
            .spawn(move || work(inner, tx, rx))
            .map(|_| ())
            .map_err(|e| format!("cannot start a script worker thread: {e}"))
    }
}

fn work(inner: Arc<Inner>, me: Sender<Task>, rx: Receiver<Task>) {
    let io = inner.io.clone();
    while let Ok(task) = rx.recv_timeout(LINGER) {
        task(&io);
        let mut parked = inner.parked.lock().unwrap_or_else(|p| p.into_inner());
        if parked.len() >= KEEP {
            return;
        }
        parked.push(me.clone());
    }
}
