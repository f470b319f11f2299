//! Returning patients: the patients stored (each MRN's last saved details) that match
//! what is typed in the MRN or family name, for the form to offer.

use super::Store;
use super::packed::Packed;
use crate::record::parse::parse_date;
use crate::record::{FieldId, Fields, file};
use anyhow::Result;
use rusqlite::params;

/// A stored patient that matches what was typed.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientMatch {
    pub mrn: String,
    /// Every patient field as last saved.
    pub fields: Fields,
}

impl PatientMatch {
    /// "Lindqvist, Astrid Maria · born 1987-03-14 · female · MRN-004211".
    pub fn describe(&self) -> String {
        let f = &self.fields;
        let birth = f.get(FieldId::BirthDate);
        // A saved record's date is a date, not a shortcut: no "today" is needed.
        let birth = parse_date(birth, chrono::NaiveDate::default())
            .map_or_else(|_| birth.to_string(), |d| d.to_string());
        format!(
            "{}, {} · born {birth} · {} · {}",
            f.get(FieldId::Family),
            f.get(FieldId::Given),
            f.get(FieldId::Gender),
            self.mrn
        )
    }
}

impl Store {
    /// Up to `limit` stored patients for `typed`: the MRN exactly first, then MRNs
    /// that start with it (as typed or in capitals), then family names that start with
    /// it (any case), by name.
    /// Each is an index range, so it stays quick with any number of patients.
    pub fn patients_matching(&self, typed: &str, limit: usize) -> super::Result<Vec<PatientMatch>> {
        let result = (|| -> Result<Vec<PatientMatch>> {
            let typed = typed.trim();
            if typed.is_empty() {
                return Ok(Vec::new());
            }
            // The MRNs from `typed` up to (not including) the next prefix; typed as it
            // is, and in capitals (MRNs are mostly written so).
            let after = |prefix: &str| format!("{prefix}{}", char::MAX);
            let upper = typed.to_uppercase();
            let mut stmt = self.conn.prepare_cached(
                "SELECT mrn, record_json FROM (
                     SELECT mrn, record_json, 0 AS rank, '' AS family, '' AS given FROM patients
                         WHERE mrn IN (?1, ?5)
                     UNION ALL
                     SELECT * FROM (SELECT mrn, record_json, 1, '', '' FROM patients
                                    WHERE (mrn > ?1 AND mrn < ?2) OR (mrn > ?5 AND mrn < ?6)
                                    ORDER BY mrn LIMIT ?3)
                     UNION ALL
                     SELECT * FROM (SELECT mrn, record_json, 2, family, given FROM patients
                                    WHERE family LIKE ?4 ESCAPE '\\' ORDER BY family COLLATE NOCASE, given COLLATE NOCASE LIMIT ?3))
                 GROUP BY mrn ORDER BY min(rank), family COLLATE NOCASE, given COLLATE NOCASE, mrn LIMIT ?3",
            )?;
            let like = format!("{}%", super::like_literal(typed));
            let rows = stmt
                .query_map(
                    params![
                        typed,
                        after(typed),
                        limit as i64,
                        like,
                        upper,
                        after(&upper)
                    ],
                    |r| {
                        Ok((
                            r.get::<_, String>("mrn")?,
                            r.get::<_, Packed>("record_json")?.0,
                        ))
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(mrn, json)| {
                    let fields = file::from_json(&json).ok()?.patient;
                    Some(PatientMatch { mrn, fields })
                })
                .collect())
        })();
        self.checked(result)
    }
}
