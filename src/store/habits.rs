//! How this station gives each vaccine: the amount, route and site of the last dose of
//! it given here, and for a combination vaccine the VIS handed out with it (one per
//! component, or the Multi Pediatric VIS), so choosing the vaccine fills them in (the
//! user overtypes them at will). Kept per station (`[clinic] station`), since rooms
//! differ.

use super::{Store, stamp};
use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use crate::record::values::DoseContext;
use crate::record::{FieldId, Visit};
use anyhow::Result;
use rusqlite::{Connection, params};

/// How a vaccine was last given at this station; empty where it was not recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Habit {
    /// The CVX code.
    pub vaccine: String,
    pub amount: String,
    pub route: String,
    pub site: String,
    /// For a combination vaccine: the VIS given with it, as the VIS field names them
    /// (`multi-pediatric`, or `dtap, hepatitis-b, polio`).
    pub vis: String,
}

/// Records how the doses of `visit` given here were given (a value left empty keeps
/// the one recorded before).
pub(super) fn record(
    conn: &Connection,
    station: &str,
    visit: &Visit,
    now: ClinicTime,
) -> Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO dose_habits (station, vaccine, amount, route, site, vis, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6)
         ON CONFLICT (station, vaccine) DO UPDATE SET
            amount = COALESCE(NULLIF(?3, ''), amount),
            route = COALESCE(NULLIF(?4, ''), route),
            site = COALESCE(NULLIF(?5, ''), site),
            vis = COALESCE(NULLIF(?7, ''), vis),
            updated_at = ?6",
    )?;
    for dose in &visit.doses {
        let ctx = DoseContext::of(dose);
        if !ctx.given_here || ctx.not_done || ctx.in_error {
            continue;
        }
        let Some(vaccine) = table(TableId::Cvx).get(dose.get(FieldId::Vaccine).trim()) else {
            continue;
        };
        let [amount, route, site] =
            [FieldId::Amount, FieldId::Route, FieldId::Site].map(|f| dose.get(f).trim());
        let vis = vis_handed_out(dose, &vaccine.code, now);
        if [amount, route, site, &vis].iter().all(|v| v.is_empty()) {
            continue;
        }
        upsert.execute(params![
            station,
            vaccine.code,
            amount,
            route,
            site,
            stamp(now),
            vis
        ])?;
    }
    Ok(())
}

/// For a vaccine that has the Multi Pediatric VIS as an alternative, the VIS documents
/// the dose was given with (named, or CDC's usual ones), without their editions;
/// empty for any other vaccine, where there is no choice to remember.
fn vis_handed_out(dose: &crate::record::Fields, cvx: &str, now: ClinicTime) -> String {
    if !crate::codes::vis::multi_pediatric_covers(cvx) {
        return String::new();
    }
    crate::record::education::of_dose(dose, now)
        .iter()
        .map(|given| given.document.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// How this station last gave each vaccine.
    pub fn habits(&self) -> super::Result<Vec<Habit>> {
        let result = (|| -> Result<Vec<Habit>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT vaccine, amount, route, site, vis FROM dose_habits WHERE station = ?1",
            )?;
            let rows = stmt.query_map([&self.author.station], |r| {
                Ok(Habit {
                    vaccine: r.get("vaccine")?,
                    amount: r.get("amount")?,
                    route: r.get("route")?,
                    site: r.get("site")?,
                    vis: r.get("vis")?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })();
        self.checked(result)
    }
}
