//! The clinic's people and places: its vaccinators (`[[clinic.staff]]`, each with
//! family and given names, prefix, credentials and NPI) and the places it gives doses
//! (`[[clinic.locations]]`, each with its identifier). A name as typed finds its entry
//! whatever its case, spacing and punctuation, and the entry gives the structured
//! name or identifier a registry matches on. A name that is in no list is sent as
//! text, split only where the typing says how.

use serde::Deserialize;
use serde_json::{Value as Json, json};

/// One vaccinator.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub family: String,
    /// Given names, separated by spaces ("Mary Ann").
    #[serde(default)]
    pub given: String,
    /// Before the name: "Dr.".
    #[serde(default)]
    pub prefix: Option<String>,
    /// Credentials after the name: "MD", "RN".
    #[serde(default)]
    pub suffix: Option<String>,
    #[serde(default)]
    pub npi: Option<String>,
}

impl StaffMember {
    /// The name as the form shows it and a person reads it: "Dr. Maya Chen, MD".
    pub fn shown(&self) -> String {
        let mut name = [
            self.prefix.as_deref(),
            Some(&self.given),
            Some(&self.family),
        ]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        if let Some(suffix) = self
            .suffix
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            name.push_str(", ");
            name.push_str(suffix);
        }
        name
    }

    /// Whether `typed` names this person: the name shown, given and family names in
    /// either order, with or without prefix and credentials.
    pub fn answers_to(&self, typed: &str) -> bool {
        let typed = normalized(typed);
        let (given, family) = (self.given.trim(), self.family.trim());
        let suffix = self.suffix.as_deref().unwrap_or_default();
        let prefix = self.prefix.as_deref().unwrap_or_default();
        [
            self.shown(),
            format!("{given} {family}"),
            format!("{family} {given}"),
            format!("{given} {family} {suffix}"),
            format!("{prefix} {given} {family}"),
        ]
        .iter()
        .any(|form| normalized(form) == typed)
    }

    /// The FHIR HumanName: text, family, given, prefix and suffix each in its place.
    pub fn human_name(&self) -> Json {
        let words =
            |text: &str| -> Vec<String> { text.split_whitespace().map(str::to_string).collect() };
        let mut name = json!({"text": self.shown(), "family": self.family.trim()});
        for (key, value) in [
            ("given", words(&self.given)),
            (
                "prefix",
                self.prefix.as_deref().map(words).unwrap_or_default(),
            ),
            (
                "suffix",
                self.suffix.as_deref().map(words).unwrap_or_default(),
            ),
        ] {
            if !value.is_empty() {
                name[key] = json!(value);
            }
        }
        name
    }
}

/// One place the clinic gives doses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub name: String,
    /// `system|value`, e.g. `urn:oid:2.16.840.1.113883.3.1234.5|HHC-MAIN`.
    #[serde(default)]
    pub identifier: Option<String>,
}

impl Place {
    /// Its identifier as (system, value), when it has a well-formed one.
    pub fn identifier(&self) -> Option<(String, String)> {
        parse_identifier(self.identifier.as_deref()?).ok()
    }
}

/// The clinic's lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Directory {
    pub staff: Vec<StaffMember>,
    pub places: Vec<Place>,
}

impl Directory {
    /// The vaccinator `typed` names, if they are on the list.
    pub fn staff_named(&self, typed: &str) -> Option<&StaffMember> {
        self.staff.iter().find(|s| s.answers_to(typed))
    }

    /// The place `typed` names, whatever its case and spacing.
    pub fn place_named(&self, typed: &str) -> Option<&Place> {
        let typed = normalized(typed);
        self.places.iter().find(|p| normalized(&p.name) == typed)
    }
}

/// Lower case, letters and digits only, one space between words: "Dr.  Maya CHEN,MD"
/// and "dr maya chen md" are the same.
pub fn normalized(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Credentials a name may end with, after a comma or not: a name ending in one is
/// not split by guessing.
const CREDENTIALS: [&str; 24] = [
    "md",
    "do",
    "rn",
    "lpn",
    "lvn",
    "np",
    "pa",
    "pa-c",
    "aprn",
    "cnm",
    "fnp",
    "dnp",
    "bsn",
    "msn",
    "pharmd",
    "rph",
    "cma",
    "ma",
    "emt",
    "paramedic",
    "phd",
    "mph",
    "jr",
    "sr",
];

/// A person's name typed freely (not on the staff list): the text, and family and
/// given names only where the typing says which is which ("Okafor, Jordan"). A name in
/// its natural order is not split: "María José García López" has no last word that is
/// surely the family name, and "Maya Chen MD" ends with credentials.
pub fn free_name(typed: &str) -> Json {
    let text = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut name = json!({"text": text});
    if let Some((family, given)) = text.split_once(',') {
        let given: Vec<&str> = given.split_whitespace().collect();
        let credential =
            |w: &str| CREDENTIALS.contains(&w.trim_matches('.').to_lowercase().as_str());
        let plain = !family.trim().is_empty()
            && !given.is_empty()
            && !given.iter().any(|w| credential(w) || w.contains(','))
            && !family.split_whitespace().any(credential);
        if plain {
            name["family"] = json!(family.trim());
            name["given"] = json!(given);
        }
    }
    name
}

/// A `system|value` identifier.
pub fn parse_identifier(text: &str) -> Result<(String, String), String> {
    match text.trim().split_once('|') {
        Some((system, value))
            if system.contains(':')
                && !system.contains(char::is_whitespace)
                && !value.trim().is_empty() =>
        {
            Ok((system.to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "\"{text}\" is not an identifier; write it as system|value, e.g. \"urn:oid:2.16.840.1.113883.3.1234|CLINIC-7\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chen() -> StaffMember {
        StaffMember {
            family: "Chen".into(),
            given: "Maya".into(),
            prefix: Some("Dr.".into()),
            suffix: Some("MD".into()),
            npi: Some("1234567893".into()),
        }
    }

    #[test]
    fn a_staff_member_is_found_however_their_name_is_typed() {
        let staff = chen();
        assert_eq!(staff.shown(), "Dr. Maya Chen, MD");
        for typed in [
            "Dr. Maya Chen, MD",
            "maya chen",
            "Chen Maya",
            "Maya Chen MD",
            "dr maya  chen",
        ] {
            assert!(staff.answers_to(typed), "{typed}");
        }
        assert!(!staff.answers_to("Maya Cheng"));
        assert_eq!(
            staff.human_name(),
            json!({"text": "Dr. Maya Chen, MD", "family": "Chen", "given": ["Maya"], "prefix": ["Dr."], "suffix": ["MD"]})
        );
    }

    #[test]
    fn a_free_name_is_split_only_where_the_typing_says_how() {
        assert_eq!(
            free_name("Okafor,  Jordan A."),
            json!({"text": "Okafor, Jordan A.", "family": "Okafor", "given": ["Jordan", "A."]})
        );
        for unsplit in [
            "Dana Whitfield RN",
            "Maya Chen MD",
            "Dr. Maya Chen",
            "Maya Chen, MD",
            "María José García López",
            "Chen, Maya, MD",
        ] {
            let name = free_name(unsplit);
            assert!(name.get("family").is_none(), "{unsplit}: {name}");
            assert_eq!(name["text"], unsplit);
        }
    }

    #[test]
    fn a_place_is_found_whatever_its_case_and_spacing() {
        let directory = Directory {
            staff: vec![],
            places: vec![Place {
                name: "Harbor Health Clinic".into(),
                identifier: Some("urn:oid:1.2.3|HHC".into()),
            }],
        };
        for typed in [
            "harbor health clinic",
            "Harbor  Health Clinic",
            " HARBOR HEALTH CLINIC ",
        ] {
            assert_eq!(
                directory.place_named(typed).and_then(Place::identifier),
                Some(("urn:oid:1.2.3".to_string(), "HHC".to_string())),
                "{typed}"
            );
        }
        assert!(directory.place_named("Harbor Health").is_none());
        assert!(parse_identifier("no bar").is_err());
    }
}
