//! Reading a patient's immunizations back from the endpoint: Redox's form-encoded
//! `POST …/Immunization/_search`, or a FHIR server's chained search `GET
//! …/Immunization?patient.identifier=system|value`, following the searchset's `next`
//! pages, on the same server only, up to a limit, each page once.
//!
//! The search asks for each Immunization's Patient too (`_include`), and keeps only
//! the Immunizations it can tell are the asked patient's: those whose patient carries
//! the asked identifier, or whose patient reference is an included Patient that does.
//! When the server includes no Patient, all its Immunizations must name one and the
//! same patient; otherwise none of them can be told apart, and none is kept.

use super::endpoint::Protocol;
use super::{Body, FHIR_JSON, Outcome, Submitter, read_body, with_auth};
use crate::fhir::transaction::token;
use crate::untrusted::plain;
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

impl Submitter {
    /// The Immunizations the endpoint holds for the patient with identifier
    /// `system|value`; the error says in plain words why they could not be read.
    pub fn immunizations_of(&self, system: &str, value: &str) -> Result<Found, String> {
        let value = check_mrn(value)?;
        let patient = token(system, value);
        let include = "Immunization:patient";
        let first = self.authorized(&|| true, &|authorization| match self.endpoint.protocol {
            Protocol::RedoxWrite => with_auth(
                self.agent
                    .post(&self.endpoint.search_url)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .send_form([
                ("patient.identifier", patient.as_str()),
                ("_include", include),
            ]),
            Protocol::ProcessMessage | Protocol::Transaction => with_auth(
                self.agent
                    .get(&self.endpoint.search_url)
                    .query("patient.identifier", &patient)
                    .query("_include", include)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .call(),
        });
        let mut pages = vec![self.searchset(first)?];
        let mut read = HashSet::new();
        let mut incomplete = None;
        while let Some(next) = pages.last().and_then(next_link) {
            if !same_server(&next, &self.endpoint.search_url) {
                incomplete = Some(format!(
                    "the endpoint's next page is on another server ({}); it was not read",
                    plain(&next)
                ));
                break;
            }
            if !read.insert(next.clone()) {
                incomplete = Some(
                    "the endpoint's next page is one already read; the pages after it were not read"
                        .into(),
                );
                break;
            }
            if pages.len() == MAX_PAGES {
                incomplete = Some(format!(
                    "only the first {MAX_PAGES} pages were read; the endpoint has more"
                ));
                break;
            }
            let response = self.authorized(&|| true, &|authorization| {
                with_auth(
                    self.agent.get(&next).header("Accept", FHIR_JSON),
                    authorization,
                )
                .call()
            });
            pages.push(self.searchset(response)?);
        }
        let (immunizations, others) = the_patients(&pages, system, value);
        if others > 0 {
            let why = format!(
                "{others} Immunization(s) in the endpoint's answer are not this patient's (or do not say whose they are), and were left out"
            );
            incomplete = Some(match incomplete {
                Some(before) => format!("{before}; {why}"),
                None => why,
            });
        }
        Ok(Found {
            immunizations,
            incomplete,
        })
    }

    /// A searchset Bundle from an answer, or why there is none.
    fn searchset(
        &self,
        response: Result<(super::Response, Option<String>), Outcome>,
    ) -> Result<Json, String> {
        let (mut response, authorization) = response.map_err(|outcome| outcome.reason())?;
        let status = response.status().as_u16();
        if !(200..=299).contains(&status) {
            let body = super::without_secrets(read_body(&mut response), authorization.as_deref());
            let why = super::outcome::classify_failure(
                status,
                &super::outcome::Headers::default(),
                body,
                None,
                self.clock.now(),
            )
            .reason();
            return Err(match status {
                404 | 405 | 501 => format!(
                    "the endpoint does not offer an Immunization search (HTTP {status}): {why}"
                ),
                _ => why,
            });
        }
        let text = match read_body(&mut response) {
            Body::Text(text) => text,
            Body::Unreadable(why) => return Err(format!("the answer could not be read ({why})")),
        };
        let bundle: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|_| "the endpoint's answer to the search is not JSON".to_string())?;
        if bundle["resourceType"] != "Bundle" {
            return Err(format!(
                "the endpoint answered the search with {}, not a Bundle",
                plain(bundle["resourceType"].as_str().unwrap_or("something else"))
            ));
        }
        Ok(bundle)
    }
}

/// The Immunizations of the pages that are the patient's with identifier
/// `system|value`, each once (by its id, else its identifiers, else its content), and
/// how many others were left out.
fn the_patients(pages: &[Json], system: &str, value: &str) -> (Vec<Json>, usize) {
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

fn next_link(page: &Json) -> Option<String> {
    page["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

/// The same scheme, host and port.
fn same_server(url: &str, base: &str) -> bool {
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
