//! The listing columns of a visit (MRN, name, vaccines, date) and its search text.

use crate::clock::ClinicTime;
use crate::codes::{TableId, table};
use crate::record::parse::parse_datetime;
use crate::record::{FieldId, Visit, file};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub mrn: String,
    pub patient_name: String,
    /// CVX codes, space separated; a voided dose's marked `(voided)`.
    pub vaccines: String,
    /// YYYY-MM-DD of the first dose, when it can be read.
    pub visit_date: String,
    /// Lower-case text the history filter matches against.
    pub search: String,
}

impl Summary {
    pub fn of(visit: &Visit, now: ClinicTime) -> Summary {
        let p = &visit.patient;
        let family = p.get(FieldId::Family).trim();
        let given = p.get(FieldId::Given).trim();
        let patient_name = match (family.is_empty(), given.is_empty()) {
            (false, false) => format!("{family}, {given}"),
            (false, true) => family.to_string(),
            _ => given.to_string(),
        };
        let cvx = table(TableId::Cvx);
        let codes: Vec<&str> = visit
            .doses
            .iter()
            .map(|d| d.get(FieldId::Vaccine).trim())
            .filter(|c| !c.is_empty())
            .collect();
        // A voided dose stays listed, marked, so the lists show what happened to it.
        let listed: Vec<String> = visit
            .doses
            .iter()
            .filter(|d| !d.get(FieldId::Vaccine).trim().is_empty())
            .map(|d| match d.get(FieldId::Status).trim() {
                "entered-in-error" => format!("{}(voided)", d.get(FieldId::Vaccine).trim()),
                _ => d.get(FieldId::Vaccine).trim().to_string(),
            })
            .collect();
        let visit_date = visit
            .doses
            .first()
            .and_then(|d| parse_datetime(d.get(FieldId::Administered), now).ok())
            .map(|d| d.date().to_string())
            .unwrap_or_default();
        let mut search = vec![
            p.get(FieldId::Mrn).trim().to_string(),
            patient_name.clone(),
            visit_date.clone(),
        ];
        for code in &codes {
            search.push(code.to_string());
            if let Some(entry) = cvx.get(code) {
                search.push(entry.display.clone());
                search.extend(entry.aliases.iter().cloned());
            }
        }
        Summary {
            mrn: p.get(FieldId::Mrn).trim().to_string(),
            patient_name,
            vaccines: listed.join(" "),
            visit_date,
            search: search.join(" ").to_lowercase(),
        }
    }

    /// For stored rows: date shortcuts mean what they meant when the row was stored
    /// (`updated_at`, RFC 3339). A record that no longer parses gets empty columns.
    pub fn of_record_json(record_json: &str, updated_at: &str) -> Summary {
        let stored_at = chrono::DateTime::parse_from_rfc3339(updated_at)
            .map(|t| t.to_utc())
            .unwrap_or(chrono::DateTime::UNIX_EPOCH)
            .with_timezone(&chrono_tz::Tz::UTC);
        file::from_json(record_json)
            .map(|visit| Summary::of(&visit, stored_at))
            .unwrap_or_default()
    }
}
