//! The outbox: queueing saved visits, handing due ones to one sender at a time,
//! recording every attempt, retrying and resending.
//!
//! A visit is claimed for a short lease before it is sent, so two processes (the form
//! and `vaxentry sync`) never send the same visit at once. A retry sends the stored
//! bundle byte for byte, so the receiver can de-duplicate by Bundle.id.

use super::error::{Asked, Error, Refusal, Result};
use super::rows::{AttemptOutcome, StoredTime};
use super::versions::Reason;
use super::{LISTED, Store, VisitRow, VisitState, id_column, row_of, stamp, write_export};
use crate::clock::ClinicTime;
use crate::fhir::Message;
use crate::record::Visit;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::time::Duration;
use uuid::Uuid;

/// A visit ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Due {
    pub id: Uuid,
    pub bundle_id: String,
    pub bundle_json: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// One attempt, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub bundle_id: String,
    pub http_status: Option<u16>,
    pub outcome: AttemptOutcome,
    pub detail: String,
}

/// One attempt to record: which visit, by which sender, and what happened.
#[derive(Clone, Copy, Debug)]
pub struct Recorded<'a> {
    pub id: Uuid,
    pub claimer: &'a str,
    pub bundle_id: &'a str,
    pub now: ClinicTime,
    pub http_status: Option<u16>,
    pub outcome: AttemptOutcome,
    pub detail: &'a str,
    pub response_body: Option<&'a str>,
}

/// Where a visit goes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum After {
    Submitted,
    Failed,
    RetryAt(ClinicTime),
}

/// A row of the outbox screen.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRow {
    pub row: VisitRow,
    pub attempts: u32,
    pub last_outcome: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub has_response: bool,
}

impl Store {
    /// Puts a saved (or failed) visit in the outbox, to be sent as soon as possible.
    pub fn queue(&mut self, id: Uuid, now: ClinicTime) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE visits SET state = ?4, next_attempt_at = ?2, updated_at = ?3, claimed_until = NULL,
                 claimed_by = NULL, attempt_count = 0
             WHERE id = ?1 AND state IN rarray(?5)",
            params![
                id.to_string(),
                stamp(now),
                stamp(now),
                VisitState::Queued,
                VisitState::all_where(VisitState::may_be_queued)
            ],
        );
        if self.checked(changed.map_err(anyhow::Error::from))? == 0 {
            return Err(self.refusal(id, Asked::Queue));
        }
        Ok(())
    }

    /// Why a visit could not be `asked`: it is not there, or its state.
    fn refusal(&self, id: Uuid, asked: Asked) -> Error {
        match self.checked(super::state_of(&self.conn, id)) {
            Ok(None) => Error::NotFound,
            Ok(Some(state)) => Error::Refused(Refusal { state, asked }),
            Err(e) => e,
        }
    }

    /// Claims up to `limit` queued visits whose time has come (all queued ones with
    /// `ignore_backoff`) for `claimer`, until `lease` from now, oldest first.
    pub fn claim_due(
        &mut self,
        now: ClinicTime,
        lease: Duration,
        limit: usize,
        ignore_backoff: bool,
        claimer: &str,
    ) -> Result<Vec<Due>> {
        let result = (|| -> anyhow::Result<Vec<Due>> {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now_utc = stamp(now);
            let until = stamp(lease_end(now, lease));
            let due: Vec<Due> = {
                let mut stmt = tx.prepare(
                    "SELECT id, bundle_id, bundle_json, attempt_count FROM visits
                     WHERE state = ?4 AND (?3 OR next_attempt_at IS NULL OR next_attempt_at <= ?1)
                       AND (claimed_until IS NULL OR claimed_until <= ?1)
                     ORDER BY next_attempt_at, rowid LIMIT ?2",
                )?;
                stmt.query_map(
                    params![now_utc, limit as i64, ignore_backoff, VisitState::Queued],
                    |r| {
                        Ok(Due {
                            id: id_column(r, "id")?,
                            bundle_id: r.get::<_, Option<String>>("bundle_id")?.unwrap_or_default(),
                            bundle_json: super::packed::optional(r, "bundle_json")?
                                .unwrap_or_default(),
                            attempts: r.get("attempt_count")?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<_>>()?
            };
            for d in &due {
                tx.execute(
                    "UPDATE visits SET claimed_until = ?2, claimed_by = ?3 WHERE id = ?1",
                    params![d.id.to_string(), until, claimer],
                )?;
            }
            tx.commit()?;
            Ok(due)
        })();
        self.checked(result)
    }

    /// Extends `claimer`'s claim on a visit to `lease` from now, right before it is
    /// sent. False when the claim is no longer its own (it expired and another
    /// sender took the visit, or the visit moved on): then it must not be sent.
    pub fn renew_claim(
        &mut self,
        id: Uuid,
        claimer: &str,
        now: ClinicTime,
        lease: Duration,
    ) -> Result<bool> {
        let renewed = self.conn.execute(
            "UPDATE visits SET claimed_until = ?3 WHERE id = ?1 AND claimed_by = ?2 AND state = ?4",
            params![
                id.to_string(),
                claimer,
                stamp(lease_end(now, lease)),
                VisitState::Queued
            ],
        );
        self.checked(renewed.map(|n| n > 0).map_err(anyhow::Error::from))
    }

    /// Gives back every visit `claimer` holds (after its pass broke off).
    pub fn release_all(&mut self, claimer: &str) -> Result<usize> {
        let released = self.conn.execute(
            "UPDATE visits SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by = ?1",
            [claimer],
        );
        self.checked(released.map_err(anyhow::Error::from))
    }

    /// Gives back visits `claimer` claimed and did not try.
    pub fn release(&mut self, ids: &[Uuid], claimer: &str) -> Result<()> {
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            for id in ids {
                tx.execute(
                    "UPDATE visits SET claimed_until = NULL, claimed_by = NULL WHERE id = ?1 AND claimed_by = ?2",
                    params![id.to_string(), claimer],
                )?;
            }
            tx.commit()
        })();
        self.checked(result.map_err(anyhow::Error::from))
    }

    /// Records one attempt and moves the visit on, in one transaction, only while
    /// `attempt.claimer` still holds the visit's claim and the visit still holds the
    /// message the attempt sent. False when not: another sender has the visit, and
    /// records its own outcome, or the visit was corrected meanwhile, and its new
    /// message is still to be sent.
    pub fn record_attempt(&mut self, attempt: &Recorded, after: After) -> Result<bool> {
        let Recorded {
            id,
            claimer,
            bundle_id,
            now,
            http_status,
            outcome,
            detail,
            response_body,
        } = *attempt;
        let result = (|| -> rusqlite::Result<bool> {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held: bool = tx.query_row(
                "SELECT count(*) > 0 FROM visits WHERE id = ?1 AND claimed_by = ?2 AND state = ?4 AND bundle_id = ?3",
                params![id.to_string(), claimer, bundle_id, VisitState::Queued],
                |r| r.get(0),
            )?;
            if !held {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO attempts (visit_id, bundle_id, at, http_status, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id.to_string(), bundle_id, stamp(now), http_status, outcome, detail],
            )?;
            let (state, next) = match after {
                After::Submitted => (VisitState::Submitted, None),
                After::Failed => (VisitState::Failed, None),
                After::RetryAt(t) => (VisitState::Queued, Some(stamp(t))),
            };
            tx.execute(
                "UPDATE visits SET state = ?2, next_attempt_at = ?3, attempt_count = attempt_count + 1, last_outcome = ?4,
                     response_body = COALESCE(?5, response_body), claimed_until = NULL, claimed_by = NULL, updated_at = ?6
                 WHERE id = ?1",
                params![id.to_string(), state, next, detail, response_body, stamp(now)],
            )?;
            tx.commit()?;
            Ok(true)
        })();
        self.checked(result.map_err(anyhow::Error::from))
    }

    /// Waiting, failed and submitted visits: failed first, then waiting, then the
    /// newest submitted.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxRow>> {
        let result = (|| -> rusqlite::Result<Vec<OutboxRow>> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {LISTED}, attempt_count, last_outcome, next_attempt_at, response_body IS NOT NULL AS has_response
                 FROM visits WHERE state IN (?2, ?3, ?4)
                 ORDER BY CASE state WHEN ?3 THEN 0 WHEN ?2 THEN 1 ELSE 2 END, updated_at DESC LIMIT ?1"
            ))?;
            stmt.query_map(
                params![
                    limit as i64,
                    VisitState::Queued,
                    VisitState::Failed,
                    VisitState::Submitted
                ],
                |r| {
                    Ok(OutboxRow {
                        row: row_of(r)?,
                        attempts: r.get("attempt_count")?,
                        last_outcome: r.get("last_outcome")?,
                        next_attempt_at: r
                            .get::<_, Option<StoredTime>>("next_attempt_at")?
                            .map(|t| t.0),
                        has_response: r.get("has_response")?,
                    })
                },
            )?
            .collect()
        })();
        self.checked(result.map_err(anyhow::Error::from))
    }

    /// (waiting, failed) counts for the status line.
    pub fn queue_counts(&self) -> Result<(u32, u32)> {
        let counts = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE state = ?1), count(*) FILTER (WHERE state = ?2) FROM visits WHERE state IN (?1, ?2)",
            params![VisitState::Queued, VisitState::Failed],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        self.checked(counts.map_err(anyhow::Error::from))
    }

    /// Every attempt for a visit, oldest first.
    pub fn attempts(&self, id: Uuid) -> Result<Vec<Attempt>> {
        let result = (|| -> rusqlite::Result<Vec<Attempt>> {
            let mut stmt = self.conn.prepare(
                "SELECT at, bundle_id, http_status, outcome, detail FROM attempts WHERE visit_id = ?1 ORDER BY id",
            )?;
            stmt.query_map([id.to_string()], |r| {
                Ok(Attempt {
                    at: r.get::<_, StoredTime>("at")?.0,
                    bundle_id: r.get("bundle_id")?,
                    http_status: r.get("http_status")?,
                    outcome: r.get("outcome")?,
                    detail: r.get("detail")?,
                })
            })?
            .collect()
        })();
        self.checked(result.map_err(anyhow::Error::from))
    }

    /// The last answer the endpoint gave for a visit.
    pub fn response_body(&self, id: Uuid) -> Result<Option<String>> {
        let body = self
            .conn
            .query_row(
                "SELECT response_body FROM visits WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional();
        self.checked(body.map(Option::flatten).map_err(anyhow::Error::from))
    }

    /// Sends now: a waiting or failed visit (or all of them with `None`) is due at once.
    pub fn retry_now(&mut self, id: Option<Uuid>, now: ClinicTime) -> Result<usize> {
        let retried = self.conn.execute(
            "UPDATE visits SET state = ?2, next_attempt_at = ?1, claimed_until = NULL
             WHERE state IN rarray(?3) AND (?4 IS NULL OR id = ?4)",
            params![
                stamp(now),
                VisitState::Queued,
                VisitState::all_where(VisitState::may_be_retried),
                id.map(|id| id.to_string())
            ],
        );
        self.checked(retried.map_err(anyhow::Error::from))
    }

    /// How many times the visit was sent again as a new message.
    pub fn message_seq(&self, id: Uuid) -> Result<u32> {
        let seq = self
            .conn
            .query_row(
                "SELECT message_seq FROM visits WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional();
        self.checked(seq.map_err(anyhow::Error::from))?
            .ok_or(Error::NotFound)
    }

    /// Sends a submitted (or failed) visit again as its `sending`th new message, with
    /// new ids.
    pub fn resubmit(
        &mut self,
        id: Uuid,
        message: &Message,
        sending: u32,
        now: ClinicTime,
    ) -> Result<()> {
        self.correct(id, None, message, sending, now, Reason::SentAgain)
    }

    /// Sends a correction of a submitted (or failed) visit: `corrected` is its record
    /// now (e.g. doses marked entered-in-error) and `message` its `sending`th new
    /// message, which says so.
    pub fn send_correction(
        &mut self,
        id: Uuid,
        corrected: &Visit,
        message: &Message,
        sending: u32,
        now: ClinicTime,
        why: Reason,
    ) -> Result<()> {
        self.correct(id, Some(corrected), message, sending, now, why)
    }

    /// Puts the visit's `sending`th new message in the outbox. The visit is checked and
    /// changed in one write transaction, on the condition that it is still sent
    /// (submitted or failed) and its last message is the one before this: of two
    /// corrections made at once from the same version, one is queued and the other
    /// refused, never both under one Bundle.id. The bundle file is written inside
    /// that transaction, so the refused one writes none.
    fn correct(
        &mut self,
        id: Uuid,
        corrected: Option<&Visit>,
        message: &Message,
        sending: u32,
        now: ClinicTime,
        why: Reason,
    ) -> Result<()> {
        let author = self.author.clone();
        let dir = self.dir.clone();
        let result = (|| -> anyhow::Result<()> {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            correct_rows(&tx, id, corrected, message, sending, now, why, &author)?;
            let file = write_export(&dir, message, now)?;
            tx.commit().inspect_err(|_| {
                let _ = std::fs::remove_file(&file);
            })?;
            Ok(())
        })();
        self.checked(result)
    }

    /// Moves a sent visit's doses to another patient, in one write transaction: the
    /// visit's `sending`th message voids them (`voided`, on the same conditions as any
    /// correction), and `anew` is saved as visit `to` and queued. Both happen, or
    /// neither: of two moves made at once, one goes and the other leaves nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn move_doses(
        &mut self,
        from: Uuid,
        voided: &Visit,
        void_message: &Message,
        sending: u32,
        to: Uuid,
        anew: &Visit,
        new_message: &Message,
        now: ClinicTime,
    ) -> Result<()> {
        let author = self.author.clone();
        let dir = self.dir.clone();
        let result = (|| -> anyhow::Result<()> {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            correct_rows(
                &tx,
                from,
                Some(voided),
                void_message,
                sending,
                now,
                Reason::Voided,
                &author,
            )?;
            super::visits::write_saved(
                &tx,
                to,
                anew,
                new_message,
                now,
                &author,
                VisitState::Queued,
            )?;
            let files = [
                write_export(&dir, void_message, now)?,
                write_export(&dir, new_message, now)?,
            ];
            tx.commit().inspect_err(|_| {
                for file in &files {
                    let _ = std::fs::remove_file(file);
                }
            })?;
            Ok(())
        })();
        self.checked(result)
    }
}

/// A correction's rows within `tx`: the visit's `sending`th message queued, on the
/// condition that it is still sent (submitted or failed) and its last message is the
/// one before this; its record (when `corrected`), doses and a new version.
#[allow(clippy::too_many_arguments)]
fn correct_rows(
    tx: &rusqlite::Connection,
    id: Uuid,
    corrected: Option<&Visit>,
    message: &Message,
    sending: u32,
    now: ClinicTime,
    why: Reason,
    author: &super::versions::Author,
) -> anyhow::Result<()> {
    let record_json = corrected.map(crate::record::file::to_json);
    let changed = tx.execute(
        "UPDATE visits SET state = ?8, bundle_json = ?2, bundle_id = ?3, message_seq = ?7, attempt_count = 0,
             next_attempt_at = ?4, claimed_until = NULL, claimed_by = NULL, last_outcome = '', response_body = NULL,
             updated_at = ?5, record_json = coalesce(?6, record_json)
         WHERE id = ?1 AND state IN rarray(?9) AND message_seq = ?7 - 1",
        params![
            id.to_string(),
            super::packed::pack(&message.json),
            message.bundle_id,
            stamp(now),
            stamp(now),
            record_json.as_deref().map(super::packed::pack),
            sending,
            VisitState::Queued,
            VisitState::all_where(VisitState::may_be_corrected),
        ],
    )?;
    if changed == 0 {
        let found: Option<(VisitState, u32)> = tx
            .query_row(
                "SELECT state, message_seq FROM visits WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get("state")?, r.get("message_seq")?)),
            )
            .optional()?;
        return Err(match found {
            None => Error::NotFound,
            Some((state, seq)) if state.may_be_corrected() && seq + 1 != sending => Error::Changed,
            Some((state, _)) => Error::Refused(Refusal {
                state,
                asked: Asked::Correct,
            }),
        }
        .into());
    }
    if let (Some(visit), Some(json)) = (corrected, &record_json) {
        super::doses::write(tx, id, visit, json, now)?;
        // The lists show the visit as corrected (a voided dose marked).
        let s = super::summary::Summary::of(visit, now);
        tx.execute(
            "UPDATE visits SET mrn = ?2, patient_name = ?3, vaccines = ?4, visit_date = ?5, search = ?6 WHERE id = ?1",
            params![id.to_string(), s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search],
        )?;
    }
    super::versions::add(tx, id, why, author, now)?;
    Ok(())
}

/// When a lease taken `now` ends.
fn lease_end(now: ClinicTime, lease: Duration) -> ClinicTime {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(now)
}
