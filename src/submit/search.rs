//! Reading a patient's immunizations back from the endpoint: Redox's form-encoded
//! `POST …/Immunization/_search`, or a FHIR server's chained search `GET
//! …/Immunization?patient.identifier=system|value`, following the searchset's `next`
//! pages, on the same server only, up to a limit.

use super::endpoint::Protocol;
use super::{Body, FHIR_JSON, Outcome, Submitter, read_body, with_auth};
use crate::fhir::transaction::token;
use serde_json::Value as Json;

/// The most pages read for one patient (a server's page is often 20 to 100 doses).
pub const MAX_PAGES: usize = 20;

/// What the endpoint returned for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// Every Immunization resource in the pages read, in the order given.
    pub immunizations: Vec<Json>,
    /// Why not every page was read, when not: more than [`MAX_PAGES`], or a `next`
    /// link to another server (never followed: the token would go with it).
    pub incomplete: Option<String>,
}

impl Submitter {
    /// The Immunizations the endpoint holds for the patient with identifier
    /// `system|value`; the error says in plain words why they could not be read.
    pub fn immunizations_of(&self, system: &str, value: &str) -> Result<Found, String> {
        let patient = token(system, value);
        let first = self.authorized(&|authorization| match self.endpoint.protocol {
            Protocol::RedoxWrite => with_auth(
                self.agent
                    .post(&self.endpoint.search_url)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .send_form([("patient.identifier", patient.as_str())]),
            Protocol::ProcessMessage | Protocol::Transaction => with_auth(
                self.agent
                    .get(&self.endpoint.search_url)
                    .query("patient.identifier", &patient)
                    .header("Accept", FHIR_JSON),
                authorization,
            )
            .call(),
        });
        let mut page = self.searchset(first)?;
        let mut found = Found {
            immunizations: Vec::new(),
            incomplete: None,
        };
        for read in 1.. {
            found.immunizations.extend(immunizations(&page));
            let Some(next) = next_link(&page) else {
                break;
            };
            if !same_server(&next, &self.endpoint.search_url) {
                found.incomplete = Some(format!(
                    "the endpoint's next page is on another server ({}); it was not read",
                    super::outcome::plain(&next)
                ));
                break;
            }
            if read == MAX_PAGES {
                found.incomplete = Some(format!(
                    "only the first {MAX_PAGES} pages were read; the endpoint has more"
                ));
                break;
            }
            let response = self.authorized(&|authorization| {
                with_auth(
                    self.agent.get(&next).header("Accept", FHIR_JSON),
                    authorization,
                )
                .call()
            });
            page = self.searchset(response)?;
        }
        Ok(found)
    }

    /// A searchset Bundle from an answer, or why there is none.
    fn searchset(&self, response: Result<super::Response, Outcome>) -> Result<Json, String> {
        let mut response = response.map_err(|outcome| outcome.reason())?;
        let status = response.status().as_u16();
        if !(200..=299).contains(&status) {
            let why = self.classify(response, None).reason();
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
        let bundle: Json = serde_json::from_str(&text)
            .map_err(|_| "the endpoint's answer to the search is not JSON".to_string())?;
        if bundle["resourceType"] != "Bundle" {
            return Err(format!(
                "the endpoint answered the search with {}, not a Bundle",
                bundle["resourceType"].as_str().unwrap_or("something else")
            ));
        }
        Ok(bundle)
    }
}

/// The Immunization resources of a searchset page (included resources are skipped).
fn immunizations(page: &Json) -> impl Iterator<Item = Json> + '_ {
    page["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Immunization")
        .cloned()
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
}
