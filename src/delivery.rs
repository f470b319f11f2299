//! The outbox pass: claims what is due in the store, sends each bundle through
//! `submit`, and records every attempt's outcome; and asking the endpoint for a
//! patient's immunizations, keeping its answer. The one module that uses both the
//! store and the network.

use crate::store::endpoint_history::EndpointHistory;
use crate::store::outbox::{After, Due, Recorded};
use crate::store::{AttemptOutcome, Store};
use crate::submit::{Outcome, Parcel, Submitter, next_try};
use anyhow::Result;

/// What one pass through the outbox did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncReport {
    pub sent: usize,
    /// Failed for good in this pass (rejected, credentials refused, too many tries).
    pub failed: usize,
    /// Tried and will be tried again.
    pub deferred: usize,
    /// Still waiting after the pass.
    pub waiting: u32,
    /// A problem worth showing (the last one).
    pub problem: Option<String>,
}

/// Visits claimed at a time: small enough that another process can share the work.
const BATCH: usize = 50;

/// Sends what is due, a batch at a time. A connection-level problem (or the server
/// asking to slow down) ends the pass early: the rest waits for the next pass rather
/// than timing out one by one.
pub fn sync(
    store: &mut Store,
    submitter: &mut Submitter,
    ignore_backoff: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport> {
    // Outcomes are synced to the disk once a batch, not once each (see
    // `Store::with_deferred_syncs` for what a crash costs).
    Ok(store.with_deferred_syncs(|store| pass(store, submitter, ignore_backoff, progress))?)
}

fn pass(
    store: &mut Store,
    submitter: &mut Submitter,
    ignore_backoff: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport> {
    // A claim covers one send (a token request and the message, each within the
    // request timeout) and is renewed before each: a killed sender's claims lapse
    // within a minute or two, not a batch's worth.
    let lease = submitter.endpoint.request_timeout * 2 + std::time::Duration::from_secs(5);
    let claimer = submitter.claimer.clone();
    let mut report = SyncReport::default();
    let total = store.queue_counts()?.0 as usize;
    let mut done = 0;
    // Each visit is tried at most once a pass, even when its retry is due at once.
    let mut tried = std::collections::HashSet::new();
    'pass: loop {
        let (due, again): (Vec<_>, Vec<_>) = store
            .claim_due(
                submitter.clock.now(),
                lease,
                BATCH,
                ignore_backoff,
                &claimer,
            )?
            .into_iter()
            .partition(|d| tried.insert(d.id));
        store.release(&again.iter().map(|d| d.id).collect::<Vec<_>>(), &claimer)?;
        if due.is_empty() {
            break;
        }
        // `connections` messages at a time, each over its own connection. Each claim
        // is renewed right before its POST, once the token is at hand, so a sender
        // that waited too long (for a token, say) sends nothing another one took; the
        // store is written here, between them.
        for (c, chunk) in due.chunks(submitter.endpoint.connections).enumerate() {
            progress(done, total.max(done));
            done += chunk.len();
            let outcomes = send_all(store, submitter, chunk, lease);
            let mut stop = false;
            for (item, outcome) in chunk.iter().zip(&outcomes) {
                let Some(after) = record(store, submitter, item, outcome, &mut report)? else {
                    continue;
                };
                // A dropped connection, or the server asking to slow down, stops all.
                stop |= matches!(after, After::RetryAt(_))
                    && matches!(
                        outcome,
                        Outcome::TryLater { status: None, .. }
                            | Outcome::TryLater {
                                status: Some(429 | 503),
                                ..
                            }
                    );
            }
            if stop {
                let sent_to = (c + 1) * submitter.endpoint.connections;
                let rest: Vec<_> = due.iter().skip(sent_to).map(|d| d.id).collect();
                store.release(&rest, &claimer)?;
                break 'pass;
            }
        }
        store.sync_to_disk()?;
    }
    progress(done, total.max(done));
    report.waiting = store.queue_counts()?.0;
    Ok(report)
}

/// Sends each bundle, all at once, one connection each; the outcomes in their order.
/// Right before each POST, the sender's claim on the visit is renewed for `lease`; a
/// claim no longer its own sends nothing ([`Outcome::ClaimLost`]).
fn send_all(
    store: &mut Store,
    submitter: &Submitter,
    items: &[Due],
    lease: std::time::Duration,
) -> Vec<Outcome> {
    let store = std::sync::Mutex::new(store);
    let still_ours = |item: &Due| {
        let mut store = store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store
            .renew_claim(item.id, &submitter.claimer, submitter.clock.now(), lease)
            .unwrap_or(false)
    };
    let send = |item: &Due| submitter.send(&parcel(item), &|| still_ours(item));
    if let [item] = items {
        return vec![send(item)];
    }
    std::thread::scope(|scope| {
        let sending: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || send(item)))
            .collect();
        sending
            .into_iter()
            .map(|sender| {
                sender.join().unwrap_or_else(|_| Outcome::TryLater {
                    status: None,
                    reason: "the sending thread stopped unexpectedly".into(),
                    retry_after: None,
                })
            })
            .collect()
    })
}

/// Records one attempt's outcome and says where the visit went; `None` when the
/// claim was lost meanwhile (the sender that took it records its own outcome; the
/// receiver sees the same Bundle.id twice at most, and keeps one).
fn record(
    store: &mut Store,
    submitter: &Submitter,
    item: &Due,
    outcome: &Outcome,
    report: &mut SyncReport,
) -> Result<Option<After>> {
    let now = submitter.clock.now();
    let tried = item.attempts + 1;
    let (after, http, kind, body) = match outcome {
        // Another sender has it: it records its own outcome.
        Outcome::ClaimLost => return Ok(None),
        Outcome::Submitted { status, body } => (
            After::Submitted,
            Some(*status),
            AttemptOutcome::Submitted,
            Some(body.as_str()),
        ),
        Outcome::Rejected { status, body, .. } => (
            After::Failed,
            Some(*status),
            AttemptOutcome::Rejected,
            Some(body.as_str()),
        ),
        Outcome::Redirected { status, .. } => {
            (After::Failed, Some(*status), AttemptOutcome::Rejected, None)
        }
        Outcome::NotSent(_) => (After::Failed, None, AttemptOutcome::Rejected, None),
        Outcome::CredentialsRefused { status, body } => (
            After::Failed,
            (*status > 0).then_some(*status),
            AttemptOutcome::Credentials,
            Some(body.as_str()),
        ),
        Outcome::TryLater {
            status,
            retry_after,
            ..
        } if tried < submitter.endpoint.max_attempts => {
            let wait = chrono::Duration::from_std(next_try(item.attempts, *retry_after))
                .unwrap_or(chrono::Duration::minutes(15));
            let at = now.checked_add_signed(wait).unwrap_or(now);
            (After::RetryAt(at), *status, AttemptOutcome::Retry, None)
        }
        Outcome::TryLater { status, .. } => (After::Failed, *status, AttemptOutcome::Retry, None),
    };
    let mut detail = outcome.reason();
    if after == After::Failed && kind == AttemptOutcome::Retry {
        detail = format!("gave up after {tried} tries: {detail}");
    }
    let attempt = Recorded {
        id: item.id,
        claimer: &submitter.claimer,
        bundle_id: &item.bundle_id,
        now,
        http_status: http,
        outcome: kind,
        detail: &detail,
        response_body: body,
    };
    if !store.record_attempt(&attempt, after)? {
        return Ok(None);
    }
    match after {
        After::Submitted => report.sent += 1,
        After::Failed => {
            report.failed += 1;
            report.problem = Some(detail);
        }
        After::RetryAt(_) => {
            report.deferred += 1;
            report.problem = Some(detail);
        }
    }
    Ok(Some(after))
}

/// The stored message of a due visit, to send.
fn parcel(item: &Due) -> Parcel<'_> {
    Parcel {
        visit: item.id,
        bundle_id: &item.bundle_id,
        message: &item.bundle_json,
    }
}

/// What the endpoint said about a patient's immunizations.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub history: EndpointHistory,
    /// Why not every page was read, when not.
    pub incomplete: Option<String>,
    /// Why the answer could not be kept for offline use (it is still shown), when not.
    pub not_kept: Option<String>,
}

/// Asks the endpoint for the immunizations of the patient with identifier
/// `mrn_system|mrn`, and keeps the answer in the store; or says why it could not be
/// asked.
pub fn ask_history(
    store: &mut Store,
    submitter: &Submitter,
    mrn_system: &str,
    mrn: &str,
) -> Result<Fetched, String> {
    let mrn = crate::submit::search::check_mrn(mrn)?;
    let found = submitter.immunizations_of(mrn_system, mrn)?;
    let now = submitter.clock.now();
    let not_kept = store
        .save_endpoint_history(mrn, &found.immunizations, now)
        .err()
        .map(|e| format!("{e:#}"));
    Ok(Fetched {
        history: EndpointHistory {
            fetched_at: now.to_utc(),
            immunizations: found.immunizations,
        },
        incomplete: found.incomplete,
        not_kept,
    })
}
