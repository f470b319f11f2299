//! Keeping records that came from elsewhere: a received visit is stored, listed,
//! searched and read like one made here (its doses count for duplicate checks,
//! returning patients and history), in state `received`, so that nothing here sends,
//! corrects or voids it. The same bundle received again makes nothing new; a dose
//! received as entered-in-error voids the one received before under its identifier;
//! a dose this station recorded itself is recognised, not kept twice.

use super::packed;
use super::rows::VisitState;
use super::{Store, Summary, WriteTx, doses, stamp, versions};
use crate::clock::ClinicTime;
use crate::fhir::received::ReceivedVisit;
use crate::record::identity::dose_keys;
use crate::record::values::DoseContext;
use crate::record::{FieldId, Visit, file};
use anyhow::Context;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

/// What became of a received visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Stored as a new received visit.
    New(Uuid),
    /// Received before (the same bundle, or every dose's identifier): nothing new.
    Known(Uuid),
    /// Its doses voided that many doses received before (entered-in-error).
    Voided(usize),
    /// Its doses are this station's own, stored already (sent from here and back).
    Own(Uuid),
}

impl Store {
    /// Keeps a visit received from `source` (a file, a sender), with the bundle it
    /// came in, in one transaction.
    pub fn receive(
        &mut self,
        received: &ReceivedVisit,
        bundle_json: &str,
        source: &str,
        now: ClinicTime,
    ) -> super::Result<Kept> {
        let author = self.author.clone();
        let in_batch = self.batch.is_some();
        let result = (|| -> anyhow::Result<Kept> {
            let tx = WriteTx::begin(&mut self.conn, in_batch)?;
            let kept = keep(&tx, received, bundle_json, source, now, &author)?;
            tx.commit().context("cannot keep the received visit")?;
            Ok(kept)
        })();
        self.checked(result)
    }
}

fn keep(
    tx: &rusqlite::Connection,
    received: &ReceivedVisit,
    bundle_json: &str,
    source: &str,
    now: ClinicTime,
    author: &versions::Author,
) -> anyhow::Result<Kept> {
    let known_bundle: Option<String> = tx
        .query_row(
            "SELECT id FROM visits WHERE bundle_id = ?1",
            [&received.key],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = known_bundle {
        return Ok(Kept::Known(Uuid::parse_str(&id)?));
    }
    let mut visit = Visit {
        patient: received.visit.patient.clone(),
        doses: Vec::new(),
    };
    let mut identifiers = Vec::new();
    let (mut voided, mut known, mut own) = (0, None, None);
    for (dose, identifier) in received.visit.doses.iter().zip(&received.identifiers) {
        let before: Option<(String, i64)> = match identifier {
            Some(identifier) => tx
                .query_row(
                    "SELECT visit_id, dose FROM received_doses WHERE identifier = ?1",
                    [identifier],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?,
            None => None,
        };
        let in_error = DoseContext::of(dose).in_error;
        match before {
            Some((id, index)) if in_error => {
                voided += usize::from(void(tx, &id, index, now, author)?);
            }
            Some((id, _)) => known = Some(Uuid::parse_str(&id)?),
            // Entered in error, and nothing received before under its identifier:
            // there is nothing to void.
            None if in_error => {}
            None => match own_dose(tx, &received.visit, dose, now)? {
                Some(id) => own = Some(id),
                None => {
                    visit.doses.push(dose.clone());
                    identifiers.push(identifier.clone());
                }
            },
        }
    }
    if visit.doses.is_empty() {
        return Ok(match (voided, own, known) {
            (n, _, _) if n > 0 => Kept::Voided(n),
            (_, Some(id), _) => Kept::Own(id),
            (_, _, Some(id)) => Kept::Known(id),
            _ => Kept::Voided(0),
        });
    }
    let id = Uuid::new_v4();
    let record_json = file::to_json(&visit);
    let s = Summary::of(&visit, now);
    let at = stamp(now);
    tx.execute(
        "INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search, received_from, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?6)",
        params![id.to_string(), VisitState::Received, packed::pack(&record_json), packed::pack(bundle_json), received.key, at, s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search, source],
    )?;
    // A patient first known from elsewhere is found by MRN; one known here keeps what
    // this clinic recorded.
    let p = &visit.patient;
    tx.execute(
        "INSERT INTO patients (mrn, family, given, birth_date, record_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(mrn) DO NOTHING",
        params![s.mrn, p.get(FieldId::Family), p.get(FieldId::Given), p.get(FieldId::BirthDate), packed::pack(&file::to_json(&Visit { patient: p.clone(), doses: vec![] })), at],
    )?;
    doses::write(tx, id, &visit, &record_json, now)?;
    for (i, identifier) in identifiers.iter().enumerate() {
        if let Some(identifier) = identifier {
            tx.execute(
                "INSERT OR IGNORE INTO received_doses (identifier, visit_id, dose) VALUES (?1, ?2, ?3)",
                params![identifier, id.to_string(), i as i64],
            )?;
        }
    }
    versions::add(tx, id, versions::Reason::Received, author, now)?;
    Ok(Kept::New(id))
}

/// The stored visit this station made with the same dose (patient, vaccine, day).
fn own_dose(
    tx: &rusqlite::Connection,
    visit: &Visit,
    dose: &crate::record::Fields,
    now: ClinicTime,
) -> anyhow::Result<Option<Uuid>> {
    let one = Visit {
        patient: visit.patient.clone(),
        doses: vec![dose.clone()],
    };
    let Some((_, key)) = dose_keys(&one, now).into_iter().next() else {
        return Ok(None);
    };
    let found: Option<String> = tx
        .query_row(
            "SELECT d.visit_id FROM doses d JOIN visits v ON v.id = d.visit_id
             WHERE d.mrn = ?1 AND d.vaccine = ?2 AND d.given_on = ?3 AND v.state != ?4 LIMIT 1",
            params![
                key.mrn,
                key.vaccine,
                key.given_on.to_string(),
                VisitState::Received
            ],
            |r| r.get(0),
        )
        .optional()?;
    found
        .map(|id| Uuid::parse_str(&id))
        .transpose()
        .map_err(Into::into)
}

/// Marks dose `index` of received visit `id` entered-in-error; whether it changed.
fn void(
    tx: &rusqlite::Connection,
    id: &str,
    index: i64,
    now: ClinicTime,
    author: &versions::Author,
) -> anyhow::Result<bool> {
    let record: packed::Packed =
        tx.query_row("SELECT record_json FROM visits WHERE id = ?1", [id], |r| {
            r.get(0)
        })?;
    let mut visit = file::from_json(&record.0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(dose) = usize::try_from(index)
        .ok()
        .and_then(|i| visit.doses.get_mut(i))
    else {
        return Ok(false);
    };
    if DoseContext::of(dose).in_error {
        return Ok(false);
    }
    dose.set(FieldId::Status, "entered-in-error");
    let record_json = file::to_json(&visit);
    let s = Summary::of(&visit, now);
    tx.execute(
        "UPDATE visits SET record_json = ?2, updated_at = ?3, vaccines = ?4, search = ?5 WHERE id = ?1",
        params![id, packed::pack(&record_json), stamp(now), s.vaccines, s.search],
    )?;
    let uuid = Uuid::parse_str(id)?;
    doses::write(tx, uuid, &visit, &record_json, now)?;
    versions::add(tx, uuid, versions::Reason::Received, author, now)?;
    Ok(true)
}
