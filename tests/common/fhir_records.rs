//! What the test server keeps when it plays a FHIR server: the resources that
//! transactions wrote, with FHIR's conditional create (`ifNoneExist`) and conditional
//! update (`PUT Kind?identifier=…`), `urn:uuid` references resolved, a version only
//! when a resource changes, and the chained identifier search with paging.

use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Stored {
    pub kind: String,
    pub id: String,
    pub version: u32,
    pub resource: Value,
}

#[derive(Default)]
pub struct Records {
    pub resources: Vec<Stored>,
    /// Writes that changed something (creates and real updates).
    pub changes: usize,
    next_id: u64,
}

/// `system|value` of a token search value as sent in a URL: percent-decoded, then
/// read as [`token_of`].
pub fn token(query_value: &str) -> (String, String) {
    token_of(&percent_encoding::percent_decode_str(query_value).decode_utf8_lossy())
}

/// `system|value` of a decoded token search value: split at the first `|` not
/// escaped, FHIR's `\` escapes undone.
pub fn token_of(decoded: &str) -> (String, String) {
    let (mut system, mut value, mut in_value, mut escaped) =
        (String::new(), String::new(), false, false);
    for c in decoded.chars() {
        let part = if in_value { &mut value } else { &mut system };
        match c {
            _ if escaped => {
                part.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '|' if !in_value => in_value = true,
            _ => part.push(c),
        }
    }
    (system, value)
}

fn has_identifier(resource: &Value, (system, value): &(String, String)) -> bool {
    let list = match &resource["identifier"] {
        Value::Array(list) => list.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .any(|i| i["system"] == system.as_str() && i["value"] == value.as_str())
}

/// The `identifier=` value of a query such as `identifier=s|v` or `Kind?identifier=s|v`.
fn identifier_query(text: &str) -> Option<(String, String)> {
    let query = text.split_once('?').map_or(text, |(_, q)| q);
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("identifier="))
        .map(token)
}

impl Records {
    fn find(&self, kind: &str, identifier: &(String, String)) -> Option<usize> {
        self.resources
            .iter()
            .position(|r| r.kind == kind && has_identifier(&r.resource, identifier))
    }

    /// Applies a transaction; its transaction-response. Anything the transaction gets
    /// wrong goes to `problems`.
    pub fn transaction(&mut self, bundle: &Value, problems: &mut Vec<String>) -> Value {
        let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
        // First where each entry goes (matched or new), so references resolve.
        let mut targets: Vec<(String, Option<usize>, String)> = Vec::new();
        let mut resolved: Vec<(String, String)> = Vec::new();
        for (n, entry) in entries.iter().enumerate() {
            let kind = entry["resource"]["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let request = &entry["request"];
            let condition = match (request["method"].as_str(), request["url"].as_str()) {
                (Some("POST"), Some(url)) if url == kind => {
                    request["ifNoneExist"].as_str().and_then(identifier_query)
                }
                (Some("PUT"), Some(url)) if url.starts_with(&format!("{kind}?")) => {
                    identifier_query(url)
                }
                other => {
                    problems.push(format!("entry {n}: request {other:?} is not conditional"));
                    None
                }
            };
            if entry["resource"].get("id").is_some() {
                problems.push(format!("entry {n}: the resource has an id"));
            }
            let matched = condition.as_ref().and_then(|c| self.find(&kind, c));
            let id = match matched {
                Some(i) => self.resources[i].id.clone(),
                None => {
                    self.next_id += 1;
                    format!("{}", self.next_id)
                }
            };
            if let Some(url) = entry["fullUrl"].as_str() {
                resolved.push((url.to_string(), format!("{kind}/{id}")));
            }
            targets.push((kind, matched, id));
        }
        let mut responses = Vec::new();
        for (entry, (kind, matched, id)) in entries.iter().zip(targets) {
            let mut resource = entry["resource"].clone();
            resolve(&mut resource, &resolved);
            resource["id"] = json!(id);
            let is_update = entry["request"]["method"] == "PUT";
            let status = match matched {
                // A conditional create that matched leaves the resource as it is.
                Some(_) if !is_update => "200 OK",
                Some(i) => {
                    let stored = &mut self.resources[i];
                    let mut with_meta = resource.clone();
                    with_meta["meta"] = stored.resource["meta"].clone();
                    if with_meta != stored.resource {
                        stored.version += 1;
                        resource["meta"]["versionId"] = json!(stored.version.to_string());
                        stored.resource = resource;
                        self.changes += 1;
                    }
                    "200 OK"
                }
                None => {
                    resource["meta"]["versionId"] = json!("1");
                    self.resources.push(Stored {
                        kind: kind.clone(),
                        id: id.clone(),
                        version: 1,
                        resource,
                    });
                    self.changes += 1;
                    "201 Created"
                }
            };
            responses
                .push(json!({"response": {"status": status, "location": format!("{kind}/{id}")}}));
        }
        json!({"resourceType": "Bundle", "type": "transaction-response", "entry": responses})
    }

    /// The resource stored as `Kind/id`.
    pub fn resource(&self, reference: &str) -> Option<&Value> {
        let (kind, id) = reference.split_once('/')?;
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.id == id)
            .map(|r| &r.resource)
    }

    /// The Immunizations of the patients with this identifier.
    pub fn immunizations_of(&self, patient: &(String, String)) -> Vec<Value> {
        let patients: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.kind == "Patient" && has_identifier(&r.resource, patient))
            .map(|r| format!("Patient/{}", r.id))
            .collect();
        self.resources
            .iter()
            .filter(|r| {
                r.kind == "Immunization"
                    && r.resource["patient"]["reference"]
                        .as_str()
                        .is_some_and(|p| patients.iter().any(|q| q == p))
            })
            .map(|r| r.resource.clone())
            .collect()
    }
}

/// `urn:uuid:` references to entries of the transaction become `Kind/id`.
fn resolve(value: &mut Value, resolved: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("reference")
                && let Some((_, to)) = resolved.iter().find(|(from, _)| from == reference)
            {
                *reference = to.clone();
            }
            map.values_mut().for_each(|v| resolve(v, resolved));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, resolved)),
        _ => {}
    }
}
