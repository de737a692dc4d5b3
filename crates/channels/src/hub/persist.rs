//! The persister: stores co-signed states in batches (one durable MDBX commit per batch) and only
//! then sends the acknowledgements that depend on them.

use super::{Entry, Metrics, Outbox};
use crate::{
    store::{Store, Write},
    wire::Msg,
};
use parking_lot::Mutex;
use std::sync::{Arc, atomic::Ordering, mpsc};

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
    Flush(mpsc::SyncSender<()>),
}

/// Handle of the persister thread.
#[derive(Debug)]
pub(crate) struct Persister {
    tx: mpsc::Sender<Cmd>,
}

impl Persister {
    pub(crate) fn start(store: Store, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("hub-persist".into())
            .spawn(move || run(&store, &rx, &metrics))?;
        Ok(Self { tx })
    }

    pub(crate) fn submit(&self, job: Job) {
        // The thread only ends when every sender is gone.
        let _ = self.tx.send(Cmd::Job(job));
    }

    /// Waits until everything submitted so far is stored.
    pub(crate) fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        if self.tx.send(Cmd::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }
}

fn run(store: &Store, rx: &mpsc::Receiver<Cmd>, metrics: &Metrics) {
    let mut jobs = Vec::new();
    let mut flushes = Vec::new();
    let mut writes = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                Cmd::Job(j) => jobs.push(j),
                Cmd::Flush(f) => flushes.push(f),
            }
            if jobs.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        writes.clear();
        writes.extend(jobs.iter().map(|j| j.write.clone()));
        match store.commit(&writes) {
            Ok(()) => {
                metrics.commits.fetch_add(1, Ordering::Relaxed);
                for job in jobs.drain(..) {
                    if let (Write::State(s), Some(entry)) = (&job.write, &job.entry) {
                        metrics.states_stored.fetch_add(1, Ordering::Relaxed);
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
        for f in flushes.drain(..) {
            let _ = f.send(());
        }
    }
}
