//! The TOML configuration. Every key has a default, so vaxentry runs with no file.

use crate::fhir::BundleSettings;
use crate::record::FieldId;
use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub clinic: Clinic,
    /// This station's defaults for each new visit's first dose.
    pub station: Station,
    pub source: Source,
    pub identifiers: Identifiers,
    /// Settings that no longer exist, kept only to say so (see `warnings`).
    codes: Option<toml::Table>,
    /// Where visits are submitted; none means vaxentry works offline only.
    pub endpoint: Option<EndpointConfig>,
    /// SMART Health Cards this clinic issues.
    pub card: CardSettings,
    /// Receiving records pushed to vaxentry (`vaxentry receive`).
    pub receive: ReceiveSettings,
    /// The file this came from, if any.
    #[serde(skip)]
    pub loaded_from: Option<PathBuf>,
}

/// `[station]`: what this station fills into each new visit's dose, so it is not
/// typed again every morning. Anything typed replaces it; performer, NPI and location
/// typed in a visit carry to the next one as before.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Station {
    pub performer: Option<String>,
    pub performer_npi: Option<String>,
    pub location: Option<String>,
    /// `private` or `public` stock.
    pub funding: Option<String>,
}

impl Station {
    /// The defaults as dose fields, each checked as the form checks it; an error names
    /// the key and what is wrong.
    pub fn defaults(&self) -> Result<Vec<(FieldId, String)>> {
        let mut out = Vec::new();
        for (key, field, value) in [
            ("performer", FieldId::Performer, &self.performer),
            ("performer_npi", FieldId::PerformerNpi, &self.performer_npi),
            ("location", FieldId::Location, &self.location),
            ("funding", FieldId::Funding, &self.funding),
        ] {
            let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            let dose = crate::record::Fields::default().with(field, value);
            let (_, problems) = crate::record::values::parse_fields(
                &dose,
                std::iter::once(field),
                // None of these fields depends on the time.
                chrono::DateTime::UNIX_EPOCH.with_timezone(&chrono_tz::UTC),
                true,
            );
            if let Some((_, problem)) = problems.first() {
                anyhow::bail!("[station] {key} = \"{value}\": {problem}");
            }
            out.push((field, value.to_string()));
        }
        Ok(out)
    }
}

/// `[clinic]`: facts about the clinic.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Clinic {
    /// The clinic's IANA time zone, e.g. `America/New_York`; default: this computer's.
    pub timezone: Option<String>,
    /// This station's name, kept with each version of a visit (e.g. `Room 2`).
    pub station: Option<String>,
    /// The clinic's identifier, `system|value` (its Organization's identifier).
    pub organization_identifier: Option<String>,
    /// The identifier of the place the clinic gives doses, `system|value` (the Location
    /// named as the clinic).
    pub facility_identifier: Option<String>,
    /// A dose given here needs the vaccinator's NPI (some state registries refuse
    /// doses without it).
    pub require_npi: bool,
    /// `[[clinic.staff]]`: the vaccinators, picked by name in the form and sent with
    /// their names in parts and their NPI.
    pub staff: Vec<crate::clinic::StaffMember>,
    /// `[[clinic.locations]]`: the places the clinic gives doses, each with its
    /// identifier.
    pub locations: Vec<crate::clinic::Place>,
}

/// A `system|value` identifier from the config; an error names the key.
fn identifier(key: &str, text: Option<&str>) -> Result<Option<(String, String)>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => crate::clinic::parse_identifier(text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("[clinic] {key}: {e}")),
    }
}

impl Clinic {
    /// Each staff member and place checked: names present, NPIs whole, identifiers
    /// well formed, no name twice. An error names the entry and what to write.
    fn check_lists(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.staff.iter().enumerate() {
            let which = format!("[[clinic.staff]] number {} ({})", i + 1, s.shown());
            if s.family.trim().is_empty() {
                bail!("{which}: family is empty; every staff member needs a family name");
            }
            if let Some(npi) = s
                .npi
                .as_deref()
                .filter(|n| !crate::record::parse::npi_is_valid(n))
            {
                bail!(
                    "{which}: npi = \"{npi}\" is not a valid NPI (10 digits, the last a check digit)"
                );
            }
            if !seen.insert(crate::clinic::normalized(&s.shown())) {
                bail!("{which}: the same name is listed twice; keep one");
            }
        }
        for (i, p) in self.locations.iter().enumerate() {
            let which = format!("[[clinic.locations]] number {} ({})", i + 1, p.name);
            if p.name.trim().is_empty() {
                bail!("{which}: name is empty; every place needs its name");
            }
            if let Some(text) = &p.identifier {
                crate::clinic::parse_identifier(text)
                    .map_err(|e| anyhow::anyhow!("{which}: {e}"))?;
            }
            if !seen.insert(crate::clinic::normalized(&p.name)) {
                bail!("{which}: the same name is listed twice; keep one");
            }
        }
        Ok(())
    }

    /// The staff and places, with the clinic itself (`[source] name`, at
    /// `facility_identifier`) as a place when it is not listed.
    fn directory(&self, clinic_name: Option<&str>) -> crate::clinic::Directory {
        let mut places = self.locations.clone();
        if let Some(name) = clinic_name
            && let Ok(Some(_)) =
                identifier("facility_identifier", self.facility_identifier.as_deref())
            && !places
                .iter()
                .any(|p| crate::clinic::normalized(&p.name) == crate::clinic::normalized(name))
        {
            places.push(crate::clinic::Place {
                name: name.to_string(),
                identifier: self.facility_identifier.clone(),
            });
        }
        crate::clinic::Directory {
            staff: self.staff.clone(),
            places,
        }
    }
}

/// Declares the settings of one kind of `[endpoint]`: its own keys, then the keys every
/// kind has (how it is reached, retried and authenticated). Each kind is a struct of
/// its own, so a key that belongs to another kind is reported as unknown.
macro_rules! endpoint_kind {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
            /// Plain HTTP is refused except to this machine, unless this is true (testing
            /// only).
            #[serde(default)]
            pub allow_http: bool,
            /// Seconds to wait for a connection (fractions allowed).
            #[serde(default = "default_connect_timeout")]
            pub connect_timeout_secs: f64,
            /// Seconds to wait for a whole request and its answer (fractions allowed).
            #[serde(default = "default_request_timeout")]
            pub request_timeout_secs: f64,
            /// A record that still cannot be sent after this many tries is marked failed.
            #[serde(default = "default_max_attempts")]
            pub max_attempts: u32,
            /// How often the form sends what is waiting.
            #[serde(default = "default_sync_interval")]
            pub sync_interval_secs: u64,
            /// How many messages are sent at once (1 to 8).
            #[serde(default = "default_connections")]
            pub connections: u32,
            #[serde(default)]
            pub auth: AuthConfig,
        }

        impl $name {
            fn link(&self) -> Link<'_> {
                Link {
                    allow_http: self.allow_http,
                    connect_timeout_secs: self.connect_timeout_secs,
                    request_timeout_secs: self.request_timeout_secs,
                    max_attempts: self.max_attempts,
                    sync_interval_secs: self.sync_interval_secs,
                    connections: self.connections,
                    auth: &self.auth,
                }
            }
        }
    };
}

endpoint_kind! {
    /// `kind = "redox"`: Redox `Immunization/$write`.
    RedoxConfig {
        /// The API base (default `https://api.redoxengine.com`).
        base_url: Option<String>,
        /// The destination's slug, e.g. `redox-fhir-sandbox`.
        destination_slug: Option<String>,
        /// `Development`, `Staging` or `Production`.
        environment: Option<String>,
    }
}

endpoint_kind! {
    /// `kind = "fhir"`: a FHIR server.
    FhirConfig {
        /// The server's base URL.
        base_url: Option<String>,
        /// `message` ($process-message, the default) or `transaction` (a conditional
        /// transaction POSTed to the base, for servers without messaging).
        mode: Option<String>,
    }
}

/// `[endpoint]`, by its `kind`: checked and turned into a `submit::Endpoint` when it is
/// used, so a mistake is reported with the key and what to write. A new kind of
/// receiver is one more arm here (and its transport in `submit`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EndpointConfig {
    Redox(RedoxConfig),
    Fhir(FhirConfig),
}

/// What every kind of endpoint sets: how it is reached, retried and authenticated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link<'a> {
    pub allow_http: bool,
    pub connect_timeout_secs: f64,
    pub request_timeout_secs: f64,
    pub max_attempts: u32,
    pub sync_interval_secs: u64,
    pub connections: u32,
    pub auth: &'a AuthConfig,
}

impl EndpointConfig {
    /// What every kind sets.
    pub fn link(&self) -> Link<'_> {
        match self {
            EndpointConfig::Redox(redox) => redox.link(),
            EndpointConfig::Fhir(fhir) => fhir.link(),
        }
    }

    /// Its `kind`, as the config writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            EndpointConfig::Redox(_) => "redox",
            EndpointConfig::Fhir(_) => "fhir",
        }
    }
}

fn default_connect_timeout() -> f64 {
    10.0
}
fn default_request_timeout() -> f64 {
    30.0
}
fn default_max_attempts() -> u32 {
    100
}
fn default_sync_interval() -> u64 {
    60
}
fn default_connections() -> u32 {
    1
}

/// `[endpoint.auth]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `none`, `bearer` (a static token) or `jwt` (Redox OAuth API key / SMART Backend Services).
    #[serde(default)]
    pub kind: Option<String>,
    /// bearer: the environment variable holding the token.
    pub token_env: Option<String>,
    /// bearer: a file holding the token.
    pub token_file: Option<PathBuf>,
    /// jwt: where tokens are asked for (Redox default: `https://api.redoxengine.com/v2/auth/token`).
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    /// jwt: the `kid` of the signing key.
    pub key_id: Option<String>,
    /// jwt: RS384, ES384 or HS384.
    pub algorithm: Option<String>,
    /// jwt: the scopes to ask for, space-separated (SMART Backend Services servers
    /// need them, e.g. "system/Immunization.cruds system/Patient.crs"; Redox takes
    /// none).
    pub scope: Option<String>,
    /// jwt RS384/ES384: the PEM private key file.
    pub private_key_file: Option<PathBuf>,
    /// jwt HS384: the file holding the shared secret.
    pub secret_file: Option<PathBuf>,
}

/// `[receive]`: what `vaxentry receive` accepts.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiveSettings {
    /// A file holding the shared secret a sender must present (owner-only).
    pub secret_file: Option<PathBuf>,
}

/// `[card]`: SMART Health Cards. Without an issuer no card is issued.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CardSettings {
    /// The issuer's URL (`https://…`, no trailing slash): verifiers fetch its public
    /// keys from `{issuer}/.well-known/jwks.json`.
    pub issuer: Option<String>,
}

impl CardSettings {
    /// The issuer's URL, checked; `Ok(None)` when none is set.
    pub fn issuer(&self) -> Result<Option<String>> {
        let Some(url) = self.issuer.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let url = url.strip_suffix('/').unwrap_or(url);
        let host = url.strip_prefix("https://").unwrap_or("");
        if host.is_empty()
            || host.starts_with('/')
            || url.contains(['?', '#', ' '])
            || url.chars().any(char::is_control)
        {
            bail!(
                "[card] issuer = \"{url}\" is not an https URL; set the address where your public keys will be published, without the /.well-known/jwks.json, e.g. \"https://clinic.example.org/cards\""
            );
        }
        Ok(Some(url.to_string()))
    }
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

impl Identifiers {
    /// The first system not set to the clinic's own: still vaxentry's default (which
    /// means nothing to a receiver), blank, or not a URI.
    pub fn unset(&self) -> Option<&'static str> {
        let default = Identifiers::default();
        let unset = |value: &str, default: &str| {
            let value = value.trim();
            value == default || !value.contains(':') || value.contains(char::is_whitespace)
        };
        if unset(&self.mrn_system, &default.mrn_system) {
            Some("mrn_system")
        } else if unset(&self.immunization_system, &default.immunization_system) {
            Some("immunization_system")
        } else {
            None
        }
    }
}

impl Default for Identifiers {
    fn default() -> Self {
        Identifiers {
            mrn_system: "urn:vaxentry:mrn".into(),
            immunization_system: "urn:vaxentry:immunization".into(),
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
        let text = crate::record::file::read_text(path, crate::record::file::MOST_BYTES)
            .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
        let mut config = Config::parse(&text)
            .with_context(|| format!("config file {} is not valid", path.display()))?;
        config.loaded_from = Some(path.to_path_buf());
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.zone()?;
        config.station.defaults()?;
        identifier(
            "organization_identifier",
            config.clinic.organization_identifier.as_deref(),
        )?;
        identifier(
            "facility_identifier",
            config.clinic.facility_identifier.as_deref(),
        )?;
        config.clinic.check_lists()?;
        config.card.issuer()?;
        Ok(config)
    }

    /// Things in the file that are accepted but do nothing, in words for the user.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.codes.is_some() {
            warnings.push(
                "[codes] is no longer a setting: CVX codes are always sent with the system http://hl7.org/fhir/sid/cvx, as US Core requires; delete the [codes] section".into(),
            );
        }
        warnings
    }

    /// The clinic's time zone: `[clinic] timezone`, else this computer's.
    pub fn zone(&self) -> Result<Tz> {
        match &self.clinic.timezone {
            None => Ok(crate::clock::system_zone()),
            Some(name) => name.trim().parse::<Tz>().map_err(|_| {
                anyhow::anyhow!(
                    "[clinic] timezone = \"{name}\" is not a time zone; use an IANA name such as \"America/New_York\" or \"America/Chicago\""
                )
            }),
        }
    }

    pub fn bundle_settings(&self) -> BundleSettings {
        // Checked when the file was read.
        let clinic = Some(self.source.name.trim().to_string())
            .filter(|name| !name.is_empty() && *name != Source::default().name);
        BundleSettings {
            source_name: Some(self.source.name.clone()).filter(|n| !n.trim().is_empty()),
            source_endpoint: self.source.endpoint.clone(),
            mrn_system: self.identifiers.mrn_system.clone(),
            immunization_id_system: self.identifiers.immunization_system.clone(),
            directory: self.clinic.directory(clinic.as_deref()),
            clinic,
            organization_identifier: identifier(
                "organization_identifier",
                self.clinic.organization_identifier.as_deref(),
            )
            .ok()
            .flatten(),
            rules: crate::record::Rules {
                require_npi: self.clinic.require_npi,
            },
            card_issuer: self.card.issuer().ok().flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_defaults_are_checked_as_the_form_checks_them() {
        let config = Config::parse(
            "[station]\nperformer = \"Jordan Okafor\"\nperformer_npi = \"1234567893\"\nlocation = \"Room 2\"\nfunding = \"public\"\n",
        )
        .unwrap();
        assert_eq!(
            config.station.defaults().unwrap(),
            vec![
                (FieldId::Performer, "Jordan Okafor".to_string()),
                (FieldId::PerformerNpi, "1234567893".to_string()),
                (FieldId::Location, "Room 2".to_string()),
                (FieldId::Funding, "public".to_string()),
            ]
        );
        for (key, value) in [
            ("performer_npi", "1234567890"),
            ("funding", "grant"),
            ("performer", "R2D2"),
        ] {
            let err = Config::parse(&format!("[station]\n{key} = \"{value}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("[station] {key}")), "{err}");
        }
        assert!(Config::default().station.defaults().unwrap().is_empty());
    }

    #[test]
    fn staff_and_places_are_checked_and_the_clinic_is_one_of_its_places() {
        let config = Config::parse(
            "[source]\nname = \"Harbor Health Clinic\"\n[clinic]\nfacility_identifier = \"urn:oid:1.2.3|HHC\"\n[[clinic.staff]]\nfamily = \"Chen\"\ngiven = \"Maya\"\nsuffix = \"MD\"\nnpi = \"1234567893\"\n[[clinic.locations]]\nname = \"Annex\"\nidentifier = \"urn:oid:1.2.3|ANX\"\n",
        )
        .unwrap();
        let directory = config.bundle_settings().directory;
        assert_eq!(
            directory.staff_named("maya chen").unwrap().shown(),
            "Maya Chen, MD"
        );
        assert!(directory.place_named("harbor  health clinic").is_some());
        assert!(directory.place_named("ANNEX").is_some());
        for (wrong, says) in [
            (
                "[[clinic.staff]]\ngiven = \"Maya\"\nfamily = \" \"\n",
                "family is empty",
            ),
            (
                "[[clinic.staff]]\nfamily = \"Chen\"\nnpi = \"1234567890\"\n",
                "not a valid NPI",
            ),
            (
                "[[clinic.locations]]\nname = \"A\"\nidentifier = \"A\"\n",
                "system|value",
            ),
            (
                "[[clinic.locations]]\nname = \"A\"\n[[clinic.locations]]\nname = \"a\"\n",
                "twice",
            ),
        ] {
            let err = format!(
                "{:#}",
                Config::parse(&format!("[clinic]\n{wrong}")).unwrap_err()
            );
            assert!(err.contains(says), "{wrong}: {err}");
        }
    }

    #[test]
    fn clinic_identifiers_are_system_and_value() {
        let config = Config::parse(
            "[source]\nname = \"Riverside\"\n[clinic]\norganization_identifier = \"urn:oid:1.2.3|RFC\"\n",
        )
        .unwrap();
        let settings = config.bundle_settings();
        assert_eq!(settings.clinic.as_deref(), Some("Riverside"));
        assert_eq!(
            settings.organization_identifier,
            Some(("urn:oid:1.2.3".into(), "RFC".into()))
        );
        assert!(
            settings.directory.places.is_empty(),
            "no facility identifier"
        );
        for wrong in ["RFC", "urn:oid:1.2.3|", "no scheme|RFC"] {
            let err = Config::parse(&format!("[clinic]\nfacility_identifier = \"{wrong}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("facility_identifier") && err.contains("system|value"),
                "{err}"
            );
        }
        assert_eq!(
            Config::default().bundle_settings().clinic,
            None,
            "no name, no Organization"
        );
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn keys_override_defaults() {
        let c = Config::parse(
            "[source]\nname = \"Riverside\"\n[clinic]\ntimezone = \"America/Chicago\"\n",
        )
        .unwrap();
        assert_eq!(c.source.name, "Riverside");
        assert_eq!(c.source.endpoint, Source::default().endpoint);
        assert_eq!(c.zone().unwrap(), chrono_tz::America::Chicago);
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn a_removed_setting_is_accepted_with_a_warning_and_a_bad_zone_is_named() {
        let c = Config::parse("[codes]\ncvx_system = \"oid\"\n").unwrap();
        assert!(c.warnings()[0].contains("delete the [codes] section"));
        let err = format!(
            "{:#}",
            Config::parse("[clinic]\ntimezone = \"Eastern\"\n").unwrap_err()
        );
        assert!(
            err.contains("timezone = \"Eastern\" is not a time zone"),
            "{err}"
        );
    }

    #[test]
    fn bad_keys_are_named_with_their_line() {
        let err = format!(
            "{:#}",
            Config::parse("[source]\nname = \"x\"\nendpont = \"y\"\n").unwrap_err()
        );
        assert!(err.contains("endpont") && err.contains("line 3"), "{err}");
    }
}
