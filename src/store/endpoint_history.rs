//! What the endpoint last said a patient's immunizations are (the Immunization
//! resources it returned, as JSON) and when it said so, kept by MRN so the form and
//! `vaxentry history` show them offline with their age.

use super::packed::{Packed, pack};
use super::rows::StoredTime;
use super::{Store, stamp};
use crate::clock::ClinicTime;
use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde_json::Value as Json;

/// A patient's immunizations as the endpoint had them.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointHistory {
    pub fetched_at: DateTime<Utc>,
    pub immunizations: Vec<Json>,
}

impl Store {
    /// Keeps what the endpoint returned for the patient with this MRN, replacing what
    /// it said before.
    pub fn save_endpoint_history(
        &mut self,
        mrn: &str,
        immunizations: &[Json],
        now: ClinicTime,
    ) -> super::Result<()> {
        let text = serde_json::to_string(immunizations).map_err(anyhow::Error::from)?;
        self.conn
            .execute(
                "INSERT INTO endpoint_history (mrn, fetched_at, immunizations) VALUES (?1, ?2, ?3)
                 ON CONFLICT (mrn) DO UPDATE SET fetched_at = ?2, immunizations = ?3",
                params![mrn.trim(), stamp(now), pack(&text)],
            )
            .map(|_| ())
            .map_err(|e| super::Error::in_file(&self.path(), e.into()))
    }

    /// What the endpoint last said about the patient with this MRN, if it was asked.
    pub fn endpoint_history(&self, mrn: &str) -> super::Result<Option<EndpointHistory>> {
        let row: Option<(StoredTime, Packed)> = self
            .conn
            .query_row(
                "SELECT fetched_at, immunizations FROM endpoint_history WHERE mrn = ?1",
                [mrn.trim()],
                |r| Ok((r.get("fetched_at")?, r.get("immunizations")?)),
            )
            .optional()
            .map_err(|e| super::Error::in_file(&self.path(), e.into()))?;
        row.map(|(at, text)| {
            Ok(EndpointHistory {
                fetched_at: at.0,
                immunizations: serde_json::from_str(&text.0)
                    .context("the endpoint's history kept for this patient is damaged")?,
            })
        })
        .transpose()
    }
}
