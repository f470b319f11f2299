//! The background sender: a thread with its own database connection and HTTP client
//! that works through the outbox every few seconds or when asked, and asks the
//! endpoint for a patient's immunizations when the form opens one, so the form never
//! waits for the network.

use super::text;
use crate::clock::ClinicTime;
use crate::clock::Clock;
use crate::delivery::{SyncReport, ask_history, sync};
use crate::store::Store;
use crate::store::endpoint_history::EndpointHistory;
use crate::submit::{Endpoint, Submitter};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;

/// What the form asks of the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Send what is due now.
    Now,
    /// Ask the endpoint for the immunizations of the patient with this MRN.
    History(String),
    Stop,
}

/// The endpoint's answer about a patient's immunizations (kept in the store as well).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryAnswer {
    pub mrn: String,
    /// What it holds, or why it could not be asked.
    pub result: Result<EndpointHistory, String>,
    /// Why not every page was read, when not.
    pub incomplete: Option<String>,
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
    pub answers: Receiver<HistoryAnswer>,
    handle: Option<JoinHandle<()>>,
}

/// Where the sender's answers go.
struct Replies {
    reports: Sender<Report>,
    answers: Sender<HistoryAnswer>,
}

impl Worker {
    /// Starts the sender for the database in `data_dir`; patients are asked for by
    /// their MRN in `mrn_system`.
    pub fn spawn(
        data_dir: PathBuf,
        endpoint: Endpoint,
        clock: Clock,
        mrn_system: String,
    ) -> Worker {
        let (commands, inbox) = channel();
        let (reports_out, reports) = channel();
        let (answers_out, answers) = channel();
        let replies = Replies {
            reports: reports_out,
            answers: answers_out,
        };
        let handle =
            std::thread::spawn(move || run(data_dir, endpoint, clock, &mrn_system, inbox, replies));
        Worker {
            commands,
            reports,
            answers,
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
    mrn_system: &str,
    inbox: Receiver<Command>,
    replies: Replies,
) {
    let outbox = &replies.reports;
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
        loop {
            match inbox.recv_timeout(interval) {
                Ok(Command::Now) | Err(RecvTimeoutError::Timeout) => break,
                Ok(Command::History(mrn)) => {
                    let answer = ask(&mut store, &submitter, mrn_system, mrn);
                    if replies.answers.send(answer).is_err() {
                        return;
                    }
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Asks the endpoint for a patient's immunizations and keeps what it says (a copy
/// that could not be kept is only not there offline).
fn ask(store: &mut Store, submitter: &Submitter, mrn_system: &str, mrn: String) -> HistoryAnswer {
    let asked = ask_history(store, submitter, mrn_system, &mrn);
    HistoryAnswer {
        incomplete: asked.as_ref().ok().and_then(|f| f.incomplete.clone()),
        result: asked.map(|f| f.history),
        mrn,
    }
}
