//! The resources the doses point at, as entries of their own: a Practitioner for each
//! administering and ordering provider (name parts, and the NPI as its identifier), a
//! Location for each place given, and an Organization for the clinic (the message's
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
    // Same name and NPI: one Practitioner; same place name: one Location.
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
                let id = match practitioners
                    .iter()
                    .find(|(n, i, _)| *n == name && *i == npi)
                {
                    Some((_, _, id)) => *id,
                    None => {
                        let id = ids.next_id();
                        out.entries
                            .push((id, practitioner(id, &name, npi.as_deref())));
                        practitioners.push((name, npi, id));
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
            let id = match locations.iter().find(|(n, _)| *n == name) {
                Some((_, id)) => *id,
                None => {
                    let id = ids.next_id();
                    let managing = organization.as_ref().map(|(_, org)| *org);
                    out.entries.push((id, place(id, &name, managing, settings)));
                    locations.push((name, id));
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

/// A person's name as typed ("Jordan Okafor", or "Okafor, Jordan"): the text, the
/// family name and the given names.
fn name_parts(name: &str) -> Json {
    let name = name.trim();
    let (family, given): (&str, Vec<&str>) = match name.split_once(',') {
        Some((family, given)) => (family.trim(), given.split_whitespace().collect()),
        None => {
            let mut words: Vec<&str> = name.split_whitespace().collect();
            let family = words.pop().unwrap_or_default();
            (family, words)
        }
    };
    let mut parts = json!({"text": name, "family": family});
    if !given.is_empty() {
        parts["given"] = json!(given);
    }
    parts
}

fn practitioner(id: Uuid, name: &str, npi: Option<&str>) -> Json {
    let mut resource = json!({"resourceType": "Practitioner", "id": id.to_string()});
    if let Some(npi) = npi {
        resource["identifier"] = json!([{"system": NPI_SYSTEM, "value": npi}]);
    }
    resource["name"] = json!([name_parts(name)]);
    resource
}

fn place(id: Uuid, name: &str, managing: Option<Uuid>, settings: &BundleSettings) -> Json {
    let mut resource = json!({"resourceType": "Location", "id": id.to_string()});
    // The clinic's facility identifier names the place the clinic is at.
    if let Some((system, value)) = settings
        .facility_identifier
        .as_ref()
        .filter(|_| settings.clinic.as_deref() == Some(name))
    {
        resource["identifier"] = json!([{"system": system, "value": value}]);
    }
    resource["name"] = json!(name);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_into_family_and_given() {
        assert_eq!(
            name_parts("Jordan A. Okafor"),
            json!({"text": "Jordan A. Okafor", "family": "Okafor", "given": ["Jordan", "A."]})
        );
        assert_eq!(
            name_parts("Okafor, Jordan"),
            json!({"text": "Okafor, Jordan", "family": "Okafor", "given": ["Jordan"]})
        );
        assert_eq!(
            name_parts("Okafor"),
            json!({"text": "Okafor", "family": "Okafor"})
        );
    }
}
