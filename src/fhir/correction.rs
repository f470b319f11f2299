//! A visit's message sent again: new Bundle.id and MessageHeader.id, the same Patient
//! and Immunization ids and identifiers, so the receiver updates what it has rather
//! than adding to it. Each Immunization keeps `recorded` as the visit's first message
//! said it (when the dose was first captured), and an amendment or a void carries only
//! the doses that changed, so a server that versions every update leaves the others
//! as they are.

use super::build::{Bundle, InvalidVisit, Message, build_bundle, to_json};
use super::ids::DerivedIds;
use super::settings::BundleSettings;
use crate::clock::ClinicTime;
use crate::record::Visit;
use serde_json::Value as Json;
use uuid::Uuid;

/// What a message sent again is made against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Correction {
    /// Which sending after the first it is (1, 2, ...).
    pub sending: u32,
    /// `Immunization.recorded` of the visit's messages so far: when its doses were
    /// first captured.
    pub recorded: Option<String>,
    /// The record as last sent: given, only the doses that differ from it go (an
    /// amendment, a void); `None` sends every dose (sent again as it is).
    pub before: Option<Visit>,
}

impl Correction {
    /// The correction of a visit whose last message is `last_bundle` (its stored JSON)
    /// and that was sent `message_seq` times after the first.
    pub fn after(last_bundle: Option<&str>, message_seq: u32, before: Option<Visit>) -> Correction {
        let recorded = last_bundle
            .and_then(|text| serde_json::from_str::<Json>(text).ok())
            .and_then(|bundle| first_recorded(&bundle));
        Correction {
            sending: message_seq + 1,
            recorded,
            before,
        }
    }
}

/// The `recorded` of a bundle's first Immunization.
fn first_recorded(bundle: &Json) -> Option<String> {
    immunizations(bundle)
        .next()
        .and_then(|(_, r)| r["recorded"].as_str())
        .map(str::to_string)
}

/// The Immunization entries of a bundle, with their places.
fn immunizations(bundle: &Json) -> impl Iterator<Item = (usize, &Json)> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| (i, &e["resource"]))
        .filter(|(_, r)| r["resourceType"] == "Immunization")
}

/// The visit's next message, as `correction` says.
pub fn message_sent_again(
    visit: &Visit,
    settings: &BundleSettings,
    now: ClinicTime,
    visit_id: Uuid,
    correction: &Correction,
) -> Result<Message, InvalidVisit> {
    let build = |record: &Visit| -> Result<Bundle, InvalidVisit> {
        let mut ids = DerivedIds::sent_again(visit_id, correction.sending);
        let mut bundle = build_bundle(record, settings, now, &mut ids)?;
        if let Some(recorded) = &correction.recorded {
            for entry in bundle.json["entry"].as_array_mut().into_iter().flatten() {
                if entry["resource"]["resourceType"] == "Immunization" {
                    entry["resource"]["recorded"] = Json::String(recorded.clone());
                }
            }
        }
        Ok(bundle)
    };
    let mut bundle = build(visit)?;
    // A record that no longer makes a message (the rules changed) sends every dose.
    if let Some(Ok(before)) = correction.before.as_ref().map(build) {
        only_what_changed(&mut bundle.json, &before.json);
    }
    Ok(Message {
        json: to_json(&bundle),
        bundle_id: bundle.id,
    })
}

/// Leaves out the Immunizations that are the same in `before`, and what only they
/// pointed at. When none changed (a correction of the patient alone), every dose
/// stays, so the message still carries the corrected Patient with its doses.
fn only_what_changed(bundle: &mut Json, before: &Json) {
    let unchanged: Vec<usize> = immunizations(bundle)
        .filter(|(_, r)| immunizations(before).any(|(_, b)| b == *r))
        .map(|(i, _)| i)
        .collect();
    let total = immunizations(bundle).count();
    if unchanged.is_empty() || unchanged.len() == total {
        return;
    }
    let Some(entries) = bundle["entry"].as_array_mut() else {
        return;
    };
    let mut i = 0;
    entries.retain(|_| {
        let keep = !unchanged.contains(&i);
        i += 1;
        keep
    });
    // What no kept entry points at any more (a Practitioner, a Location) goes too.
    let text = |e: &Json| e.to_string();
    let referenced = |url: &str, entries: &[Json]| {
        let needle = format!("\"{url}\"");
        entries
            .iter()
            .filter(|e| e["fullUrl"] != url)
            .any(|e| text(e).contains(&needle))
    };
    let snapshot = entries.clone();
    entries.retain(|e| {
        let kind = e["resource"]["resourceType"].as_str().unwrap_or_default();
        let url = e["fullUrl"].as_str().unwrap_or_default();
        !matches!(kind, "Practitioner" | "Location") || referenced(url, &snapshot)
    });
    let kept: Vec<Json> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Immunization")
        .map(|e| serde_json::json!({"reference": e["fullUrl"]}))
        .collect();
    if let Some(header) = entries.first_mut() {
        header["resource"]["focus"] = Json::Array(kept);
    }
}
