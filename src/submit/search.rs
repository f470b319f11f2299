//! Reading a patient's immunizations back from what the endpoint answered (the
//! requests are the transport's): Redox's `_search` or a FHIR server's chained search
//! `Immunization?patient.identifier=system|value`, whose searchset's `next` pages are
//! followed on the same server only, up to a limit, each page once.
//!
//! The search asks for each Immunization's Patient too (`_include`), and keeps only
//! the Immunizations it can tell are the asked patient's: those whose patient carries
//! the asked identifier, or whose patient reference is an included Patient that does.
//! When the server includes no Patient, all its Immunizations must name one and the
//! same patient; otherwise none of them can be told apart, and none is kept.

use serde_json::Value as Json;
use std::collections::HashSet;

/// The most pages read for one patient (a server's page is often 20 to 100 doses).
pub const MAX_PAGES: usize = 20;

/// What the endpoint returned for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The patient's Immunization resources in the pages read, in the order given,
    /// each once.
    pub immunizations: Vec<Json>,
    /// Why not everything the endpoint sent was read or kept, when not: more than
    /// [`MAX_PAGES`], a `next` link to another server (never followed: the token would
    /// go with it) or to a page already read, or Immunizations of other patients.
    pub incomplete: Option<String>,
}

/// Why an MRN cannot be searched for: an empty one would ask for every patient's
/// doses (`patient.identifier=system|` matches any value).
pub fn check_mrn(mrn: &str) -> Result<&str, String> {
    let mrn = mrn.trim();
    if mrn.is_empty() {
        return Err(
            "no MRN was given; an empty one would ask the endpoint for every patient's doses"
                .into(),
        );
    }
    Ok(mrn)
}

/// The Immunizations of the pages that are the patient's with identifier
/// `system|value`, each once (by its id, else its identifiers, else its content), and
/// how many others were left out.
pub(super) fn the_patients(pages: &[Json], system: &str, value: &str) -> (Vec<Json>, usize) {
    let resources = || {
        pages
            .iter()
            .flat_map(|p| p["entry"].as_array().into_iter().flatten())
            .filter_map(|e| {
                let resource = &e["resource"];
                resource["resourceType"]
                    .as_str()
                    .map(|kind| (kind, e["fullUrl"].as_str(), resource))
            })
    };
    let ours = |identifiers: &Json| {
        let listed: Vec<&Json> = match identifiers {
            Json::Array(list) => list.iter().collect(),
            one @ Json::Object(_) => vec![one],
            _ => Vec::new(),
        };
        listed.iter().any(|i| {
            i["value"].as_str().map(str::trim) == Some(value)
                && i["system"].as_str().is_none_or(|s| s == system)
        })
    };
    // Every name an included Patient goes by, and whether it is the asked patient.
    let mut patients: Vec<(Vec<String>, bool)> = Vec::new();
    for (kind, full_url, patient) in resources() {
        if kind != "Patient" {
            continue;
        }
        let mut names: Vec<String> = full_url.into_iter().map(str::to_string).collect();
        if let Some(id) = patient["id"].as_str() {
            names.push(format!("Patient/{id}"));
        }
        patients.push((names, ours(&patient["identifier"])));
    }
    let names_patient = |reference: &str, wanted: bool| {
        patients.iter().any(|(names, is_ours)| {
            *is_ours == wanted
                && names
                    .iter()
                    .any(|n| n == reference || reference.ends_with(&format!("/{n}")))
        })
    };
    let immunizations: Vec<&Json> = resources()
        .filter(|(kind, _, _)| *kind == "Immunization")
        .map(|(_, _, r)| r)
        .collect();
    let references: HashSet<&str> = immunizations
        .iter()
        .filter_map(|r| r["patient"]["reference"].as_str())
        .collect();
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let mut others = 0;
    for immunization in immunizations {
        let patient = &immunization["patient"];
        let reference = patient["reference"].as_str();
        let is_ours = if patient.get("identifier").is_some() {
            ours(&patient["identifier"])
        } else if reference.is_some_and(|r| names_patient(r, true)) {
            true
        } else if reference.is_some_and(|r| names_patient(r, false)) {
            false
        } else {
            // No Patient says whose it is: the server searched by the identifier, so
            // its answer is the patient's only when it names one patient throughout.
            patients.is_empty() && references.len() == 1 && reference.is_some()
        };
        if !is_ours {
            others += 1;
            continue;
        }
        let key = match (immunization["id"].as_str(), &immunization["identifier"]) {
            (Some(id), _) => format!("id:{id}"),
            (None, Json::Null) => format!("content:{immunization}"),
            (None, identifiers) => format!("identifier:{identifiers}"),
        };
        if seen.insert(key) {
            kept.push(immunization.clone());
        }
    }
    (kept, others)
}

pub(super) fn next_link(page: &Json) -> Option<String> {
    page["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

/// The same scheme, host and port.
pub(super) fn same_server(url: &str, base: &str) -> bool {
    let origin = |u: &str| {
        u.parse::<ureq::http::Uri>()
            .ok()
            .and_then(|u| Some((u.scheme_str()?.to_string(), u.authority()?.to_string())))
    };
    origin(url).is_some() && origin(url) == origin(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn next_pages_are_followed_only_on_the_same_server() {
        let base = "https://fhir.example.org/r4/Immunization";
        assert!(same_server(
            "https://fhir.example.org/r4/Immunization?_page=2",
            base
        ));
        assert!(!same_server("https://evil.example.net/r4?page=2", base));
        assert!(!same_server("http://fhir.example.org/r4?page=2", base));
        assert!(!same_server("https://fhir.example.org:8443/r4", base));
        assert!(!same_server("not a url", base));
    }

    #[test]
    fn an_empty_mrn_is_never_searched_for() {
        assert!(check_mrn("").is_err());
        assert!(check_mrn("   ").unwrap_err().contains("every patient"));
        assert_eq!(check_mrn(" MRN-1 "), Ok("MRN-1"));
    }

    fn immunization(id: &str, patient: Json) -> Json {
        json!({"fullUrl": format!("http://x/Immunization/{id}"),
            "resource": {"resourceType": "Immunization", "id": id, "patient": patient}})
    }

    fn patient(id: &str, mrn: &str) -> Json {
        json!({"fullUrl": format!("http://x/Patient/{id}"), "search": {"mode": "include"},
            "resource": {"resourceType": "Patient", "id": id,
                "identifier": [{"system": "urn:mrn", "value": mrn}]}})
    }

    fn ids(kept: &[Json]) -> Vec<&str> {
        kept.iter().filter_map(|r| r["id"].as_str()).collect()
    }

    #[test]
    fn only_the_asked_patients_immunizations_are_kept_each_once() {
        let page = |entry: Vec<Json>| json!({"resourceType": "Bundle", "type": "searchset", "entry": entry});
        let pages = [
            page(vec![
                immunization("i1", json!({"reference": "Patient/p1"})),
                immunization("i2", json!({"reference": "Patient/p2"})),
                immunization("i3", json!({"reference": "http://x/Patient/p1"})),
                patient("p1", "MRN-1"),
                patient("p2", "MRN-2"),
            ]),
            page(vec![
                immunization("i1", json!({"reference": "Patient/p1"})),
                immunization(
                    "i4",
                    json!({"identifier": {"system": "urn:mrn", "value": "MRN-1"}}),
                ),
                immunization(
                    "i5",
                    json!({"identifier": {"system": "urn:mrn", "value": "MRN-2"}}),
                ),
                immunization("i6", json!({"reference": "Patient/p9"})),
            ]),
        ];
        let (kept, others) = the_patients(&pages, "urn:mrn", "MRN-1");
        assert_eq!(ids(&kept), ["i1", "i3", "i4"]);
        assert_eq!(others, 3);
        // No Patient included: one patient named throughout is the asked one ...
        let alone = [page(vec![
            immunization("i1", json!({"reference": "Patient/p1"})),
            immunization("i2", json!({"reference": "Patient/p1"})),
        ])];
        assert_eq!(
            ids(&the_patients(&alone, "urn:mrn", "MRN-1").0),
            ["i1", "i2"]
        );
        // ... two cannot be told apart.
        let mixed = [page(vec![
            immunization("i1", json!({"reference": "Patient/p1"})),
            immunization("i2", json!({"reference": "Patient/p2"})),
        ])];
        assert_eq!(the_patients(&mixed, "urn:mrn", "MRN-1"), (vec![], 2));
    }
}
