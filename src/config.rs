//! The TOML configuration. Every key has a default, so vaxentry runs with no file.

use crate::fhir::{BundleSettings, CvxSystem};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub source: Source,
    pub identifiers: Identifiers,
    pub codes: Codes,
}

/// MessageHeader.source: who is sending.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Source {
    /// Shown in the header of the form and sent as MessageHeader.source.name.
    pub name: String,
    /// Where acknowledgements go (MessageHeader.source.endpoint).
    pub endpoint: String,
}

impl Default for Source {
    fn default() -> Self {
        Source {
            name: "vaxentry".into(),
            endpoint: "urn:vaxentry:local".into(),
        }
    }
}

/// Identifier systems: the namespaces that make MRNs and record ids unique.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Identifiers {
    pub mrn_system: String,
    pub immunization_system: String,
}

impl Default for Identifiers {
    fn default() -> Self {
        Identifiers {
            mrn_system: "urn:vaxentry:mrn".into(),
            immunization_system: "urn:vaxentry:immunization".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Codes {
    /// `uri` (http://hl7.org/fhir/sid/cvx) or `oid` (urn:oid:2.16.840.1.113883.6.59).
    pub cvx_system: CvxSystem,
}

impl Default for Codes {
    fn default() -> Self {
        Codes {
            cvx_system: CvxSystem::Uri,
        }
    }
}

impl Config {
    /// The default location: `<config dir>/vaxentry/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "vaxentry")
            .map(|d| d.config_dir().join("config.toml"))
    }

    /// Loads `explicit` (which must exist), else the default file if there is one,
    /// else the built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(path) => {
                if !path.exists() {
                    bail!(
                        "config file {} does not exist; check the --config path",
                        path.display()
                    );
                }
                Config::from_file(path)
            }
            None => match Config::default_path() {
                Some(path) if path.exists() => Config::from_file(&path),
                _ => Ok(Config::default()),
            },
        }
    }

    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("config file {} is not valid", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config> {
        Ok(toml::from_str(text)?)
    }

    pub fn bundle_settings(&self) -> BundleSettings {
        BundleSettings {
            source_name: Some(self.source.name.clone()).filter(|n| !n.trim().is_empty()),
            source_endpoint: self.source.endpoint.clone(),
            mrn_system: self.identifiers.mrn_system.clone(),
            immunization_id_system: self.identifiers.immunization_system.clone(),
            cvx_system: self.codes.cvx_system,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn keys_override_defaults() {
        let c = Config::parse("[source]\nname = \"Riverside\"\n[codes]\ncvx_system = \"oid\"\n")
            .unwrap();
        assert_eq!(c.source.name, "Riverside");
        assert_eq!(c.source.endpoint, Source::default().endpoint);
        assert_eq!(c.codes.cvx_system, CvxSystem::Oid);
    }

    #[test]
    fn bad_keys_are_named_with_their_line() {
        let err = format!(
            "{:#}",
            Config::parse("[source]\nname = \"x\"\nendpont = \"y\"\n").unwrap_err()
        );
        assert!(err.contains("endpont") && err.contains("line 3"), "{err}");
        let err = format!(
            "{:#}",
            Config::parse("[codes]\ncvx_system = \"loinc\"\n").unwrap_err()
        );
        assert!(err.contains("cvx_system") || err.contains("loinc"), "{err}");
    }
}
