//! What the store remembers to tell a record or a dose seen before: each saved
//! visit's record key, and each dose given (MRN, vaccine, day, lot). Import uses them
//! to skip a record file already imported and to refuse a dose already stored; the
//! form warns about the same vaccine on the same day in another visit.

use super::{Store, VisitState};
use crate::clock::ClinicTime;
use crate::record::Visit;
use crate::record::identity::{DoseKey, StoredDose, dose_keys, record_key};
use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// Writes a saved visit's record key and given doses, replacing what was there.
/// `record_json` is the visit's record file text, as stored.
pub(super) fn write(
    conn: &Connection,
    id: Uuid,
    visit: &Visit,
    record_json: &str,
    now: ClinicTime,
) -> Result<()> {
    let id = id.to_string();
    conn.execute(
        "UPDATE visits SET record_key = ?2 WHERE id = ?1",
        params![id, record_key(record_json)],
    )?;
    conn.execute("DELETE FROM doses WHERE visit_id = ?1", [&id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO doses (visit_id, mrn, vaccine, given_on, lot) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (_, key) in dose_keys(visit, now) {
        insert.execute(params![
            id,
            key.mrn,
            key.vaccine,
            key.given_on.to_string(),
            key.lot
        ])?;
    }
    Ok(())
}

impl Store {
    /// The saved visit made from exactly this record, if there is one, and its state.
    pub fn visit_of_record(&self, visit: &Visit) -> super::Result<Option<(Uuid, VisitState)>> {
        let result = (|| -> Result<Option<(Uuid, VisitState)>> {
            let found: Option<(String, VisitState)> = self
                .conn
                .query_row(
                    "SELECT id, state FROM visits WHERE record_key = ?1 AND state != ?2
                     ORDER BY created_at LIMIT 1",
                    rusqlite::params![
                        record_key(&crate::record::file::to_json(visit)),
                        VisitState::Draft
                    ],
                    |r| Ok((r.get("id")?, r.get("state")?)),
                )
                .optional()?;
            found
                .map(|(id, state)| Ok((Uuid::parse_str(&id)?, state)))
                .transpose()
        })();
        self.checked(result)
    }

    /// Every dose stored for the patient with this MRN.
    pub fn doses_of(&self, mrn: &str) -> super::Result<Vec<StoredDose>> {
        let result = (|| -> Result<Vec<StoredDose>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT visit_id, vaccine, given_on, lot FROM doses WHERE mrn = ?1 ORDER BY given_on",
            )?;
            let rows = stmt
                .query_map([mrn.trim()], |r| {
                    Ok((
                        r.get::<_, String>("visit_id")?,
                        r.get::<_, String>("vaccine")?,
                        r.get::<_, String>("given_on")?,
                        r.get::<_, String>("lot")?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(visit, vaccine, given_on, lot)| {
                    Ok(StoredDose {
                        visit: Uuid::parse_str(&visit)?,
                        key: DoseKey {
                            mrn: mrn.trim().to_string(),
                            vaccine,
                            given_on: given_on.parse()?,
                            lot,
                        },
                    })
                })
                .collect()
        })();
        self.checked(result)
    }
}
