//! The persister: stores co-signed states in batches (one durable MDBX commit per batch) and only
//! then sends the acknowledgements that depend on them.

use super::{Entry, Metrics, Outbox};
use crate::{
    store::{Store, Write},
    wire::Msg,
};
use parking_lot::Mutex;
use std::sync::{Arc, mpsc};

/// The most writes one commit takes.
const MAX_BATCH: usize = 8192;

/// One write and what to send once it is durable.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) write: Write,
    /// The channel whose `latest` moves when a state is stored.
    pub(crate) entry: Option<Arc<Mutex<Entry>>>,
    pub(crate) then: Vec<(Outbox, Msg)>,
}

#[derive(Debug)]
enum Cmd {
    Job(Job),
    Stop,
}

/// Handle of the persister thread.
#[derive(Debug)]
pub(crate) struct Persister {
    tx: mpsc::Sender<Cmd>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Persister {
    pub(crate) fn start(store: Store, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("hub-persist".into())
            .spawn(move || run(&store, &rx, &metrics))?;
        Ok(Self { tx, thread: Mutex::new(Some(thread)) })
    }

    /// Queues a write; after [`Self::stop`] it is dropped with its replies.
    pub(crate) fn submit(&self, job: Job) {
        let _ = self.tx.send(Cmd::Job(job));
    }

    /// Stores what is queued, then ends the thread and closes the store.
    pub(crate) fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

fn run(store: &Store, rx: &mpsc::Receiver<Cmd>, metrics: &Metrics) {
    let mut jobs = Vec::new();
    let mut writes = Vec::new();
    let mut stop = false;
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Cmd::Job(j) => jobs.push(j),
                Cmd::Stop => {
                    stop = true;
                    break;
                }
            }
            if jobs.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        writes.clear();
        writes.extend(jobs.iter().map(|j| j.write.clone()));
        match store.commit(&writes) {
            Ok(()) => {
                metrics.commits.increment(1);
                for job in jobs.drain(..) {
                    if let (Write::State(s), Some(entry)) = (&job.write, &job.entry) {
                        metrics.states_stored.increment(1);
                        let mut e = entry.lock();
                        if s.state.version > e.latest.state.version {
                            e.latest = s.clone();
                        }
                    }
                    for (out, msg) in job.then {
                        let _ = out.send(msg);
                    }
                }
            }
            Err(err) => {
                tracing::error!(%err, "storing channel states failed; refusing them");
                for job in jobs.drain(..) {
                    for (out, msg) in job.then {
                        let reply = match msg {
                            Msg::Accepted { channel_id, version, .. } => Msg::Reject {
                                channel_id,
                                version,
                                reason: format!("hub storage failed: {err}"),
                            },
                            _ => Msg::Error { message: format!("hub storage failed: {err}") },
                        };
                        let _ = out.send(reply);
                    }
                }
            }
        }
        if stop {
            return;
        }
    }
}
