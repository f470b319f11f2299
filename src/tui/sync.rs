//! The background sender: a thread with its own database connection and HTTP client
//! that works through the outbox every few seconds or when asked, so the form never
//! waits for the network.

use super::text;
use crate::clock::ClinicTime;
use crate::clock::Clock;
use crate::delivery::{SyncReport, sync};
use crate::store::Store;
use crate::submit::{Endpoint, Submitter};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;

/// What the form asks of the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Send what is due now.
    Now,
    Stop,
}

/// What the sender reports after each pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub at: ClinicTime,
    pub result: Result<SyncReport, String>,
    /// (waiting, failed) after the pass; `None` when they could not be read.
    pub counts: Option<(u32, u32)>,
}

pub struct Worker {
    pub commands: Sender<Command>,
    pub reports: Receiver<Report>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the sender for the database in `data_dir`.
    pub fn spawn(data_dir: PathBuf, endpoint: Endpoint, clock: Clock) -> Worker {
        let (commands, inbox) = channel();
        let (outbox, reports) = channel();
        let handle = std::thread::spawn(move || run(data_dir, endpoint, clock, inbox, outbox));
        Worker {
            commands,
            reports,
            handle: Some(handle),
        }
    }

    pub fn stop(mut self) {
        let _ = self.commands.send(Command::Stop);
        // A request in flight finishes within its timeout; the form does not wait.
        drop(self.handle.take());
    }
}

fn run(
    data_dir: PathBuf,
    endpoint: Endpoint,
    clock: Clock,
    inbox: Receiver<Command>,
    outbox: Sender<Report>,
) {
    let interval = endpoint.sync_interval;
    let mut store = match Store::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            let _ = outbox.send(Report {
                at: clock.now(),
                result: Err(format!("the sender cannot open the database: {e}")),
                counts: None,
            });
            return;
        }
    };
    let mut submitter = Submitter::new(endpoint, clock);
    loop {
        // A panic in a pass must not take the form down, nor leave visits claimed.
        let pass = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sync(&mut store, &mut submitter, false, &mut |_, _| {})
        }));
        let result = match pass {
            Ok(result) => result.map_err(|e| format!("{e:#}")),
            Err(_) => {
                let _ = store.release_all(&submitter.claimer);
                Err(text::SENDER_FAILED.into())
            }
        };
        let counts = store.queue_counts().ok();
        if outbox
            .send(Report {
                at: clock.now(),
                result,
                counts,
            })
            .is_err()
        {
            return;
        }
        match inbox.recv_timeout(interval) {
            Ok(Command::Now) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
