//! The visits: drafts kept while typing, saves (the record, its bundle and its file
//! together), reading one back, and the history listed and searched page by page.

use super::error::{Asked, Error, Refusal, Result};
use super::packed::{self, Packed};
use super::rows::{StoredTime, VisitState};
use super::{
    LISTED, ListQuery, Saved, Store, StoredVisit, Summary, VisitRow, WriteTx, doses, export_path,
    habits, id_column, like_literal, lots, make_export_dirs, row_of, rows, stamp, state_of,
    versions, write_export,
};
use crate::clock::ClinicTime;
use crate::fhir::Message;
use crate::record::{FieldId, Fields, Visit, file};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params, params_from_iter};
use uuid::Uuid;

/// Refuses saving a visit whose state does not allow it (one sent already).
/// Writes a finished visit's rows within `tx`, in `state` (saved, or queued to be
/// sent now): the visit, its patient, the lots and habits it used, its doses and its
/// first version.
pub(super) fn write_saved(
    tx: &rusqlite::Connection,
    id: Uuid,
    visit: &Visit,
    message: &Message,
    now: ClinicTime,
    author: &versions::Author,
    state: VisitState,
) -> anyhow::Result<()> {
    let (bundle_json, bundle_id) = (message.json.as_str(), message.bundle_id.as_str());
    let record_json = file::to_json(visit);
    let s = Summary::of(visit, now);
    let at = stamp(now);
    let next_attempt = (state == VisitState::Queued).then_some(at);
    tx.execute(
        "INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search, next_attempt_at)
         VALUES (?1, ?11, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?12)
         ON CONFLICT(id) DO UPDATE SET state = ?11, record_json = ?2, bundle_json = ?3, bundle_id = ?4, updated_at = ?5,
             mrn = ?6, patient_name = ?7, vaccines = ?8, visit_date = ?9, search = ?10, next_attempt_at = ?12",
        params![id.to_string(), packed::pack(&record_json), packed::pack(bundle_json), bundle_id, at, s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search, state, next_attempt],
    )?;
    let p = &visit.patient;
    tx.execute(
        "INSERT INTO patients (mrn, family, given, birth_date, record_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(mrn) DO UPDATE SET family = ?2, given = ?3, birth_date = ?4, record_json = ?5, updated_at = ?6",
        params![s.mrn, p.get(FieldId::Family), p.get(FieldId::Given), p.get(FieldId::BirthDate), packed::pack(&file::to_json(&Visit { patient: p.clone(), doses: vec![] })), at],
    )?;
    lots::record_used(tx, visit, now)?;
    habits::record(tx, &author.station, visit, now)?;
    doses::write(tx, id, visit, &record_json, now)?;
    versions::add(tx, id, versions::Reason::Saved, author, now)?;
    Ok(())
}

/// A filter word as the search text holds it: a date typed as staff write it
/// (`12/02`, `12/02/2026`) becomes the ISO form the visit dates are kept in
/// (`-12-02`, `2026-12-02`); any other word stays as it is.
fn as_searched(word: &str) -> String {
    let parts: Vec<&str> = word.split('/').collect();
    let digits = |p: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    match parts.as_slice() {
        [m, d] if digits(m, 1..=2) && digits(d, 1..=2) => format!("-{m:0>2}-{d:0>2}"),
        [m, d, y] if digits(m, 1..=2) && digits(d, 1..=2) && digits(y, 4..=4) => {
            format!("{y}-{m:0>2}-{d:0>2}")
        }
        _ => word.to_string(),
    }
}

fn may_save(state: Option<VisitState>) -> Result<()> {
    match state {
        Some(state) if !state.may_be_saved() => Err(Error::Refused(Refusal {
            state,
            asked: Asked::Save,
        })),
        _ => Ok(()),
    }
}

impl Store {
    /// Keeps the form's in-progress visit. Only a draft is ever overwritten this way.
    /// It is being typed: offered again at start if vaxentry stops.
    pub fn save_draft(&mut self, id: Uuid, visit: &Visit, now: ClinicTime) -> Result<()> {
        self.keep_draft(id, visit, now, false)
    }

    /// Keeps a draft put aside for later (Ctrl+N): History has it, and it is not
    /// offered at start as if it had been cut short.
    pub fn put_draft_aside(&mut self, id: Uuid, visit: &Visit, now: ClinicTime) -> Result<()> {
        self.keep_draft(id, visit, now, true)
    }

    fn keep_draft(&mut self, id: Uuid, visit: &Visit, now: ClinicTime, aside: bool) -> Result<()> {
        let s = Summary::of(visit, now);
        let result = self
            .conn
            .execute(
                "INSERT INTO visits (id, state, record_json, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search, put_aside)
                 VALUES (?1, ?9, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?10)
                 ON CONFLICT(id) DO UPDATE SET record_json = ?2, updated_at = ?3, mrn = ?4, patient_name = ?5,
                     vaccines = ?6, visit_date = ?7, search = ?8, put_aside = ?10
                 WHERE visits.state = ?9",
                params![id.to_string(), packed::pack(&file::to_json(visit)), stamp(now), s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search, VisitState::Draft, aside],
            )
            .context("cannot save the draft");
        self.checked(result.map(|_| ()))
    }

    /// Saves a finished visit and its bundle in one transaction, and exports the
    /// bundle file. Saving the same visit again replaces it; it never makes two.
    pub fn save(
        &mut self,
        id: Uuid,
        visit: &Visit,
        message: &Message,
        now: ClinicTime,
    ) -> Result<Saved> {
        // Refused before anything is written (the same check runs again in the
        // transaction, for a save from another process meanwhile).
        may_save(self.checked(state_of(&self.conn, id))?)?;
        if self.batch.is_some() {
            let export_path = export_path(&self.dir, message, now);
            let staged =
                make_export_dirs(&self.dir, &export_path).and_then(|()| match &mut self.batch {
                    Some(staged) => staged.stage(&export_path, message.json.as_bytes()),
                    None => Ok(()),
                });
            self.checked(staged)?;
            let result = self.save_rows(id, visit, message, now);
            if result.is_err()
                && let Some(staged) = &mut self.batch
            {
                staged.unstage_last();
            }
            return result.map(|()| Saved { export_path });
        }
        let was_there = export_path(&self.dir, message, now).exists();
        let export_path = self.checked(write_export(&self.dir, message, now))?;
        let result = self.save_rows(id, visit, message, now);
        if result.is_err() && !was_there {
            // Not saved: a new bundle file must not stay behind as if it had been.
            let _ = std::fs::remove_file(&export_path);
        }
        result.map(|()| Saved { export_path })
    }

    /// The rows of a save, in one transaction.
    fn save_rows(
        &mut self,
        id: Uuid,
        visit: &Visit,
        message: &Message,
        now: ClinicTime,
    ) -> Result<()> {
        let author = self.author.clone();
        let in_batch = self.batch.is_some();
        let result = (|| -> anyhow::Result<()> {
            let tx = WriteTx::begin(&mut self.conn, in_batch)?;
            may_save(state_of(&tx, id)?)?;
            write_saved(&tx, id, visit, message, now, &author, VisitState::Saved)?;
            tx.commit().context("cannot save the visit")?;
            Ok(())
        })();
        self.checked(result)
    }

    /// Deletes a draft; other states are never deleted. Returns whether one went.
    pub fn delete_draft(&mut self, id: Uuid) -> Result<bool> {
        let deleted = self.conn.execute(
            "DELETE FROM visits WHERE id = ?1 AND state = ?2",
            params![id.to_string(), VisitState::Draft],
        );
        self.checked(deleted.map(|n| n > 0).map_err(anyhow::Error::from))
    }

    /// The draft being typed when vaxentry last stopped (touched last, not put aside),
    /// if any: offered for resuming at start.
    pub fn latest_draft(&self) -> Result<Option<StoredVisit>> {
        let id = self
            .conn
            .query_row(
                "SELECT id FROM visits WHERE state = ?1 AND put_aside = 0 ORDER BY updated_at DESC LIMIT 1",
                [VisitState::Draft],
                |r| id_column(r, "id"),
            )
            .optional();
        match self.checked(id.map_err(anyhow::Error::from))? {
            Some(id) => self.get(id),
            None => Ok(None),
        }
    }

    /// One visit in full.
    pub fn get(&self, id: Uuid) -> Result<Option<StoredVisit>> {
        let stored = self
            .conn
            .query_row(
                &format!(
                    "SELECT {LISTED}, record_json, bundle_json, bundle_id, created_at, message_seq,
                         received_from, received_at
                     FROM visits WHERE id = ?1"
                ),
                [id.to_string()],
                |r| {
                    Ok(StoredVisit {
                        row: row_of(r)?,
                        record_json: r.get::<_, Packed>("record_json")?.0,
                        bundle_json: packed::optional(r, "bundle_json")?,
                        bundle_id: r.get("bundle_id")?,
                        created_at: r.get::<_, StoredTime>("created_at")?.0,
                        message_seq: r.get("message_seq")?,
                        received: match (
                            r.get::<_, Option<String>>("received_from")?,
                            r.get::<_, Option<StoredTime>>("received_at")?,
                        ) {
                            (Some(from), Some(at)) => Some((from, at.0)),
                            _ => None,
                        },
                    })
                },
            )
            .optional();
        self.checked(stored.map_err(anyhow::Error::from))
    }

    /// Visits matching the query, newest first, one page.
    pub fn list(&self, query: &ListQuery) -> Result<Vec<VisitRow>> {
        let mut rows = Vec::new();
        self.each_listed(query, &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Hands each visit matching the query to `each`, newest first, one at a time;
    /// an error from `each` stops the listing.
    pub fn each_listed(
        &self,
        query: &ListQuery,
        each: &mut dyn FnMut(VisitRow) -> anyhow::Result<()>,
    ) -> Result<()> {
        let result = (|| -> anyhow::Result<()> {
            let mut sql = format!("SELECT {LISTED} FROM visits WHERE 1");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            let words: Vec<String> = query
                .text
                .to_lowercase()
                .split_whitespace()
                .take(6)
                .map(as_searched)
                .collect();
            // The index finds the visits holding every word of three letters or more
            // (its tokens are three letters); the search text of each is then checked
            // for every word as typed, so the index only ever makes the filter faster.
            let indexed: Vec<String> = words
                .iter()
                .filter(|w| w.chars().count() >= 3)
                .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                .collect();
            if !indexed.is_empty()
                && let Some(keys) = self.indexed_matches(&indexed.join(" "), query)?
            {
                args.push(Box::new(keys));
                sql.push_str(&format!(" AND search_key IN rarray(?{})", args.len()));
            }
            for word in &words {
                args.push(Box::new(format!("%{}%", like_literal(word))));
                sql.push_str(&format!(" AND search LIKE ?{} ESCAPE '\\'", args.len()));
            }
            if let Some(state) = query.state {
                args.push(Box::new(state));
                sql.push_str(&format!(" AND state = ?{}", args.len()));
            }
            if let Some(since) = query.since {
                args.push(Box::new(rows::stored_time(since)));
                sql.push_str(&format!(" AND updated_at >= ?{}", args.len()));
            }
            sql.push_str(&format!(
                " ORDER BY updated_at DESC, search_key DESC LIMIT {} OFFSET {}",
                query.limit.max(1),
                query.offset
            ));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            // One row at a time: a million visits are listed without holding them all.
            for row in stmt.query_map(params_from_iter(args.iter()), row_of)? {
                each(row?)?;
            }
            Ok(())
        })();
        self.checked(result)
    }

    /// The `search_key`s of the visits the search index finds for `match_expression`,
    /// or `None` when there are so many that walking the history newest first until a
    /// page is full is quicker than reading them all and sorting. Walking reads about
    /// `page × visits / matches` entries of the history index, reading about three
    /// times as much per match, so the two break even near
    /// `matches² = page × visits / 3`.
    fn indexed_matches(
        &self,
        match_expression: &str,
        query: &ListQuery,
    ) -> rusqlite::Result<Option<rusqlite::vtab::array::Array>> {
        let visits: i64 =
            self.conn
                .query_row("SELECT coalesce(max(search_key), 0) FROM visits", [], |r| {
                    r.get(0)
                })?;
        let page = (query.offset + query.limit.max(1)) as f64;
        let break_even = (page * visits as f64 / 3.0).sqrt().ceil() as usize;
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM visits_search WHERE visits_search MATCH ?1 LIMIT ?2",
        )?;
        let keys = stmt
            .query_map(params![match_expression, break_even as i64], |r| {
                r.get::<_, i64>(0)
            })?
            .map(|key| key.map(rusqlite::types::Value::Integer))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((keys.len() < break_even).then(|| std::rc::Rc::new(keys)))
    }

    /// How many visits updated at or after `since` have a bundle, and hands each
    /// bundle (its id and text) to `each`, newest first, one at a time.
    pub fn each_bundle(
        &self,
        since: Option<DateTime<Utc>>,
        count: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(&str, &str) -> anyhow::Result<()>,
    ) -> Result<()> {
        let result = (|| -> anyhow::Result<()> {
            let since = since.map(rows::stored_time).unwrap_or_default();
            let total: i64 = self.conn.query_row(
                "SELECT count(*) FROM visits WHERE bundle_json IS NOT NULL AND updated_at >= ?1",
                [&since],
                |r| r.get(0),
            )?;
            count(total as u64);
            let mut stmt = self.conn.prepare(
                "SELECT bundle_id, bundle_json FROM visits
                 WHERE bundle_json IS NOT NULL AND bundle_id IS NOT NULL AND updated_at >= ?1
                 ORDER BY updated_at DESC, search_key DESC",
            )?;
            let mut rows = stmt.query([&since])?;
            while let Some(row) = rows.next()? {
                let bundle_id: String = row.get("bundle_id")?;
                let json = row.get::<_, Packed>("bundle_json")?.0;
                each(&bundle_id, &json)?;
            }
            Ok(())
        })();
        self.checked(result)
    }

    /// The ids of visits whose id starts with `prefix` (lower case hex), at most `limit`.
    pub fn ids_starting(&self, prefix: &str, limit: usize) -> Result<Vec<Uuid>> {
        let result = (|| -> rusqlite::Result<Vec<Uuid>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id FROM visits WHERE substr(id, 1, length(?1)) = ?1 LIMIT ?2",
            )?;
            stmt.query_map(params![prefix, limit as i64], |r| id_column(r, "id"))?
                .collect()
        })();
        self.checked(result.map_err(anyhow::Error::from))
    }

    /// The patient last saved under this MRN, if any.
    pub fn patient(&self, mrn: &str) -> Result<Option<Fields>> {
        let result = (|| -> anyhow::Result<Option<Fields>> {
            let record: Option<String> = self
                .conn
                .query_row(
                    "SELECT record_json FROM patients WHERE mrn = ?1",
                    [mrn.trim()],
                    |r| r.get::<_, Packed>(0).map(|p| p.0),
                )
                .optional()?;
            match record {
                None => Ok(None),
                Some(json) => file::from_json(&json)
                    .map(|v| Some(v.patient))
                    .map_err(|e| anyhow::anyhow!("the stored patient {mrn} cannot be read: {e}")),
            }
        })();
        self.checked(result)
    }

    /// How many visits there are.
    pub fn count(&self) -> Result<i64> {
        let count = self
            .conn
            .query_row("SELECT count(*) FROM visits", [], |r| r.get(0));
        self.checked(count.map_err(anyhow::Error::from))
    }
}
