//! The resources the doses point at, as entries of their own: a Practitioner for each
//! administering and ordering provider (name parts from the clinic's staff list, and
//! the NPI as its identifier), a Location for each place given (with its identifier
//! from the clinic's list), and an Organization for the clinic (the message's
//! `responsible`, and each Location's `managingOrganization`). Each reference keeps
//! its display, and the NPI stays on the reference too, so a receiver that does not
//! resolve references still reads them.

use super::ids::IdSource;
use super::settings::BundleSettings;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::NPI_SYSTEM;

/// The extra entries, each with its `urn:uuid` full URL.
#[derive(Debug, Default)]
pub struct Referenced {
    pub entries: Vec<(Uuid, Json)>,
    /// The clinic's Organization, for `MessageHeader.responsible`.
    pub organization: Option<Uuid>,
}

/// Adds a reference to each performer's actor and each location of `immunizations`,
/// and makes the resources they point at. New ids come after every id the message
/// already has, so the ids of the Patient and the Immunizations never move.
pub fn link(
    immunizations: &mut [(Uuid, Json)],
    settings: &BundleSettings,
    ids: &mut dyn IdSource,
) -> Referenced {
    let mut out = Referenced::default();
    // The same person (however their name was typed) and NPI: one Practitioner; the
    // same place: one Location.
    let mut practitioners: Vec<(String, Option<String>, Uuid)> = Vec::new();
    let mut locations: Vec<(String, Uuid)> = Vec::new();
    let organization = settings.clinic.clone().map(|name| (name, ids.next_id()));
    for (_, immunization) in immunizations.iter_mut() {
        if let Some(performers) = immunization
            .get_mut("performer")
            .and_then(Json::as_array_mut)
        {
            for actor in performers.iter_mut().filter_map(|p| p.get_mut("actor")) {
                let Some(name) = text_at(actor, "/display") else {
                    continue;
                };
                let npi = text_at(actor, "/identifier/value");
                let who = person_key(&name, settings);
                let id = match practitioners
                    .iter()
                    .find(|(n, i, _)| *n == who && *i == npi)
                {
                    Some((_, _, id)) => *id,
                    None => {
                        let id = ids.next_id();
                        out.entries
                            .push((id, practitioner(id, &name, npi.as_deref(), settings)));
                        practitioners.push((who, npi, id));
                        id
                    }
                };
                put_reference(actor, id);
            }
        }
        if let Some(location) = immunization.get_mut("location") {
            let Some(name) = text_at(location, "/display") else {
                continue;
            };
            let key = crate::clinic::normalized(&name);
            let id = match locations.iter().find(|(n, _)| *n == key) {
                Some((_, id)) => *id,
                None => {
                    let id = ids.next_id();
                    let managing = organization.as_ref().map(|(_, org)| *org);
                    out.entries.push((id, place(id, &name, managing, settings)));
                    locations.push((key, id));
                    id
                }
            };
            put_reference(location, id);
        }
    }
    if let Some((name, id)) = organization {
        out.entries.push((id, clinic(id, &name, settings)));
        out.organization = Some(id);
    }
    out
}

/// Who a name stands for: the staff member it names, else the name itself, either
/// without regard to case, spacing and punctuation.
fn person_key(name: &str, settings: &BundleSettings) -> String {
    let staff = settings.directory.staff_named(name).map(|s| s.shown());
    crate::clinic::normalized(staff.as_deref().unwrap_or(name))
}

/// The text at `pointer` in `value`, if there is text there.
fn text_at(value: &Json, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// `{"reference": "urn:uuid:…", …the rest as it was}`, the reference first.
fn put_reference(element: &mut Json, id: Uuid) {
    if let Json::Object(map) = element {
        let mut with = serde_json::Map::new();
        with.insert("reference".into(), json!(format!("urn:uuid:{id}")));
        with.extend(std::mem::take(map));
        *map = with;
    }
}

/// A vaccinator: on the clinic's staff list, their name in parts and their NPI
/// (the one typed with the dose first); otherwise the name as typed.
fn practitioner(id: Uuid, name: &str, npi: Option<&str>, settings: &BundleSettings) -> Json {
    let mut resource = json!({"resourceType": "Practitioner", "id": id.to_string()});
    let staff = settings.directory.staff_named(name);
    if let Some(npi) = npi.or(staff.and_then(|s| s.npi.as_deref())) {
        resource["identifier"] = json!([{"system": NPI_SYSTEM, "value": npi}]);
    }
    resource["name"] = json!([match staff {
        Some(member) => member.human_name(),
        None => crate::clinic::free_name(name),
    }]);
    resource
}

/// A place: one of the clinic's, with its identifier and its name as listed, however
/// it was typed; otherwise the name as typed.
fn place(id: Uuid, name: &str, managing: Option<Uuid>, settings: &BundleSettings) -> Json {
    let mut resource = json!({"resourceType": "Location", "id": id.to_string()});
    let listed = settings.directory.place_named(name);
    if let Some((system, value)) = listed.and_then(crate::clinic::Place::identifier) {
        resource["identifier"] = json!([{"system": system, "value": value}]);
    }
    resource["name"] = json!(listed.map_or(name, |p| p.name.as_str()));
    if let Some(org) = managing {
        resource["managingOrganization"] = json!({"reference": format!("urn:uuid:{org}")});
    }
    resource
}

fn clinic(id: Uuid, name: &str, settings: &BundleSettings) -> Json {
    let mut resource = json!({"resourceType": "Organization", "id": id.to_string()});
    if let Some((system, value)) = &settings.organization_identifier {
        resource["identifier"] = json!([{"system": system, "value": value}]);
    }
    resource["active"] = json!(true);
    resource["name"] = json!(name);
    resource
}
