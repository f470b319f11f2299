//! What makes a record, or a dose, the same one again: a visit's record key (its
//! record file, exactly), and a dose's key (the patient's MRN, the vaccine, the day it
//! was given and the lot). The store keeps both so a record imported twice, or a dose
//! entered twice, does not become a second message.

use super::fields::FieldId;
use super::finding::{FieldRef, Finding, Rule, Severity, finding};
use super::parse::parse_datetime;
use super::visit::Visit;
use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use chrono::NaiveDate;
use uuid::Uuid;

/// The key of a record, from its record file text (`file::to_json`): the same text
/// always gives the same key.
pub fn record_key(record_json: &str) -> String {
    // A fixed namespace: the key is only compared with keys made here.
    const NAMESPACE: Uuid = Uuid::from_u128(0x7661_7865_6e74_7279_7265_636f_7264_6b65);
    Uuid::new_v5(&NAMESPACE, record_json.as_bytes()).to_string()
}

/// A dose that was given, as the store remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseKey {
    pub mrn: String,
    /// The CVX code as the table writes it (`03`, not `3`).
    pub vaccine: String,
    pub given_on: NaiveDate,
    /// Upper case, no spaces; empty when not recorded.
    pub lot: String,
}

/// The keys of the doses of a visit that were given (not-done and entered-in-error
/// doses are no doses), with each dose's index. Doses whose date or vaccine does not
/// read have none.
pub fn dose_keys(visit: &Visit, now: ClinicTime) -> Vec<(usize, DoseKey)> {
    let mrn = visit.patient.get(FieldId::Mrn).trim().to_string();
    visit
        .doses
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.get(FieldId::Status)
                .trim()
                .eq_ignore_ascii_case("completed")
        })
        .filter_map(|(i, d)| {
            let vaccine = table(TableId::Cvx).get(d.get(FieldId::Vaccine).trim())?;
            let given_on = parse_datetime(d.get(FieldId::Administered), now)
                .ok()?
                .date();
            Some((
                i,
                DoseKey {
                    mrn: mrn.clone(),
                    vaccine: vaccine.code.clone(),
                    given_on,
                    lot: lot_key(d.get(FieldId::Lot)),
                },
            ))
        })
        .collect()
}

/// A dose the store holds, and the visit it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDose {
    pub visit: Uuid,
    pub key: DoseKey,
}

/// The doses of `visit` (whose id is `own`) the patient already has in another
/// visit: the same vaccine on the same day. The lot is not compared here: the same
/// vaccine twice in a day is worth a look whatever the lot says.
pub fn check_stored_doses(
    visit: &Visit,
    own: Uuid,
    stored: &[StoredDose],
    now: ClinicTime,
) -> Vec<Finding> {
    dose_keys(visit, now)
        .into_iter()
        .filter_map(|(i, key)| {
            let other = stored.iter().find(|s| {
                s.visit != own
                    && s.key.mrn == key.mrn
                    && s.key.vaccine == key.vaccine
                    && s.key.given_on == key.given_on
            })?;
            let lot = if other.key.lot.is_empty() {
                String::new()
            } else {
                format!(", lot {}", other.key.lot)
            };
            Some(finding(
                FieldRef::dose(i, FieldId::Vaccine),
                Severity::Warning,
                Rule::AlreadyGiven,
                format!(
                    "Vaccine: MRN {} already has CVX {} on {} in another visit ({}{lot}); check this is not the same dose entered again. Saving asks first",
                    key.mrn,
                    key.vaccine,
                    key.given_on,
                    short_id(other.visit)
                ),
            ))
        })
        .collect()
}

/// The doses of `visit` that are exactly a stored dose of another visit: same MRN,
/// vaccine, day and lot. Import refuses these unless told they are meant.
pub fn same_stored_doses<'a>(
    visit: &Visit,
    stored: &'a [StoredDose],
    now: ClinicTime,
) -> Vec<(usize, &'a StoredDose)> {
    dose_keys(visit, now)
        .into_iter()
        .filter_map(|(i, key)| Some((i, stored.iter().find(|s| s.key == key)?)))
        .collect()
}

/// The first part of a visit id, as the history shows it.
pub fn short_id(id: Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

/// A lot number as compared: case and spaces do not tell lots apart.
pub fn lot_key(lot: &str) -> String {
    lot.split_whitespace().collect::<String>().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Fields, Visit};

    fn visit(lot: &str) -> Visit {
        Visit {
            patient: Fields::default().with(FieldId::Mrn, "MRN-1"),
            doses: vec![
                Fields::default()
                    .with(FieldId::Status, "completed")
                    .with(FieldId::Vaccine, "3")
                    .with(FieldId::Administered, "2026-10-01 14:05")
                    .with(FieldId::Lot, lot),
                Fields::default()
                    .with(FieldId::Status, "not-done")
                    .with(FieldId::Vaccine, "140")
                    .with(FieldId::Administered, "2026-10-01"),
            ],
        }
    }

    #[test]
    fn given_doses_have_keys_and_the_same_record_the_same_key() {
        let now = crate::clock::test_now();
        let keys = dose_keys(&visit("ut 8291aa"), now);
        assert_eq!(keys.len(), 1, "a dose not given is no dose");
        assert_eq!(keys[0].1.vaccine, "03");
        assert_eq!(keys[0].1.lot, "UT8291AA");
        assert_eq!(keys[0].1.given_on.to_string(), "2026-10-01");
        let key = |lot| record_key(&crate::record::file::to_json(&visit(lot)));
        assert_eq!(key("A"), key("A"));
        assert_ne!(key("A"), key("B"));
    }

    fn stored(visit: Uuid, lot: &str, day: &str) -> StoredDose {
        StoredDose {
            visit,
            key: DoseKey {
                mrn: "MRN-1".into(),
                vaccine: "03".into(),
                given_on: day.parse().unwrap(),
                lot: lot.into(),
            },
        }
    }

    #[test]
    fn the_same_vaccine_on_the_same_day_in_another_visit_is_flagged() {
        let now = crate::clock::test_now();
        let (own, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let v = visit("UT8291AA");
        let flagged = check_stored_doses(&v, own, &[stored(other, "OTHER", "2026-10-01")], now);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].rule, Rule::AlreadyGiven);
        assert_eq!(flagged[0].at, FieldRef::dose(0, FieldId::Vaccine));
        assert!(
            flagged[0]
                .message
                .contains("already has CVX 03 on 2026-10-01")
        );
        // Its own stored doses, or another day, are not a second entry.
        assert!(
            check_stored_doses(&v, own, &[stored(own, "UT8291AA", "2026-10-01")], now).is_empty()
        );
        assert!(
            check_stored_doses(&v, own, &[stored(other, "UT8291AA", "2026-10-02")], now).is_empty()
        );
        // Import compares the lot too.
        let same = [stored(other, "UT8291AA", "2026-10-01")];
        assert_eq!(same_stored_doses(&v, &same, now).len(), 1);
        assert!(same_stored_doses(&v, &[stored(other, "OTHER", "2026-10-01")], now).is_empty());
    }
}
