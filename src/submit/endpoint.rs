//! The configured endpoint, checked: the URL to POST to, timeouts, retry limits and
//! authentication. Every mistake names the config key and says what to write.

use super::auth::AuthSettings;
use super::protocol::{Protocol, REDOX_BASE};
use super::url::{check_url, is_loopback};
use crate::config::EndpointConfig;
use std::time::Duration;

const REDOX_ENVIRONMENTS: [&str; 3] = ["Development", "Staging", "Production"];

/// The most messages sent at once: a few connections hide the network's latency; more
/// only load the receiver.
pub const MAX_CONNECTIONS: u32 = 8;

#[derive(Debug)]
pub struct Endpoint {
    pub protocol: Protocol,
    /// Where bundles are POSTed.
    pub url: String,
    /// Where a patient's immunizations are searched for (Redox: POSTed as a form to
    /// `Immunization/_search`; FHIR: a GET of `Immunization?…`).
    pub search_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub sync_interval: Duration,
    /// How many messages are sent at once.
    pub connections: usize,
    pub auth: AuthSettings,
    /// Things worth telling the user (e.g. a key file others can read).
    pub warnings: Vec<String>,
}

impl Endpoint {
    pub fn from_config(cfg: &EndpointConfig) -> Result<Endpoint, String> {
        let link = cfg.link();
        let (protocol, url, search_url) = match cfg {
            EndpointConfig::Redox(redox) => {
                let base = redox
                    .base_url
                    .as_deref()
                    .unwrap_or(REDOX_BASE)
                    .trim_end_matches('/');
                let slug = redox.destination_slug.as_deref().filter(|s| !s.trim().is_empty()).ok_or(
                    "[endpoint] destination_slug is missing: give the Redox destination's slug, e.g. destination_slug = \"redox-fhir-sandbox\"",
                )?;
                // The slug is one part of the URL path: nothing that could step out of it.
                if !slug
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    || slug.starts_with('.')
                {
                    return Err(format!(
                        "[endpoint] destination_slug = \"{slug}\" may hold only letters, digits, '-', '_' and '.'; copy it from the Redox dashboard"
                    ));
                }
                let environment = redox.environment.as_deref().unwrap_or("Development");
                if !REDOX_ENVIRONMENTS.contains(&environment) {
                    return Err(format!(
                        "[endpoint] environment = \"{environment}\" is not one of Development, Staging, Production"
                    ));
                }
                let operations = format!("{base}/fhir/R4/{slug}/{environment}/Immunization");
                (
                    Protocol::RedoxWrite,
                    format!("{operations}/$write"),
                    format!("{operations}/_search"),
                )
            }
            EndpointConfig::Fhir(fhir) => {
                let base = fhir.base_url.as_deref().filter(|s| !s.trim().is_empty()).ok_or(
                    "[endpoint] base_url is missing: give the FHIR server's base URL, e.g. base_url = \"https://fhir.example.org/r4\"",
                )?;
                let base = base.trim_end_matches('/');
                let search_url = format!("{base}/Immunization");
                match fhir.mode.as_deref().unwrap_or("message") {
                    "message" => (
                        Protocol::ProcessMessage,
                        format!("{base}/$process-message"),
                        search_url,
                    ),
                    "transaction" => (Protocol::Transaction, base.to_string(), search_url),
                    other => {
                        return Err(format!(
                            "[endpoint] mode = \"{other}\" is not known; use \"message\" ($process-message) or \"transaction\" (for servers without messaging)"
                        ));
                    }
                }
            }
        };
        check_url("[endpoint] base_url", &url, link.allow_http)?;
        let mut warnings = Vec::new();
        let auth = AuthSettings::from_config(link.auth, protocol, link.allow_http, &mut warnings)?;
        let seconds = |key: &str, v: f64| {
            if v.is_finite() && (0.05..=3600.0).contains(&v) {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(format!(
                    "[endpoint] {key} = {v} is not a usable timeout; give seconds between 0.05 and 3600"
                ))
            }
        };
        Ok(Endpoint {
            protocol,
            url,
            search_url,
            connect_timeout: seconds("connect_timeout_secs", link.connect_timeout_secs)?,
            request_timeout: seconds("request_timeout_secs", link.request_timeout_secs)?,
            max_attempts: link.max_attempts.max(1),
            sync_interval: Duration::from_secs(link.sync_interval_secs.max(1)),
            connections: match link.connections {
                n @ 1..=MAX_CONNECTIONS => n as usize,
                n => {
                    return Err(format!(
                        "[endpoint] connections = {n} cannot be used; give 1 to {MAX_CONNECTIONS} (how many messages are sent at once)"
                    ));
                }
            },
            auth,
            warnings,
        })
    }

    /// The messages go to this machine (a test or a local server).
    pub fn is_this_machine(&self) -> bool {
        self.url
            .parse::<ureq::http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(is_loopback))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn endpoint(toml: &str) -> Result<Endpoint, String> {
        let config = Config::parse(toml).map_err(|e| format!("{e:#}"))?;
        Endpoint::from_config(config.endpoint.as_ref().expect("endpoint"))
    }

    #[test]
    fn redox_write_url() {
        let e =
            endpoint("[endpoint]\nkind = \"redox\"\ndestination_slug = \"redox-fhir-sandbox\"\n")
                .unwrap();
        assert_eq!(
            e.url,
            "https://api.redoxengine.com/fhir/R4/redox-fhir-sandbox/Development/Immunization/$write"
        );
        assert_eq!(
            e.search_url,
            "https://api.redoxengine.com/fhir/R4/redox-fhir-sandbox/Development/Immunization/_search"
        );
        assert_eq!(e.protocol, Protocol::RedoxWrite);
        let e = endpoint("[endpoint]\nkind = \"redox\"\nbase_url = \"https://api.ca.redoxengine.com/\"\ndestination_slug = \"d\"\nenvironment = \"Production\"\n").unwrap();
        assert_eq!(
            e.url,
            "https://api.ca.redoxengine.com/fhir/R4/d/Production/Immunization/$write"
        );
    }

    #[test]
    fn fhir_process_message_url() {
        let e =
            endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"https://fhir.example.org/r4/\"\n")
                .unwrap();
        assert_eq!(e.url, "https://fhir.example.org/r4/$process-message");
    }

    #[test]
    fn fhir_transaction_mode_posts_to_the_base() {
        let base = "[endpoint]\nkind = \"fhir\"\nbase_url = \"https://fhir.example.org/r4/\"\n";
        let e = endpoint(&format!("{base}mode = \"transaction\"\n")).unwrap();
        assert_eq!(e.protocol, Protocol::Transaction);
        assert_eq!(e.url, "https://fhir.example.org/r4");
        assert_eq!(e.search_url, "https://fhir.example.org/r4/Immunization");
        let e = endpoint(&format!("{base}mode = \"message\"\n")).unwrap();
        assert_eq!(e.protocol, Protocol::ProcessMessage);
        let err = endpoint(&format!("{base}mode = \"batch\"\n")).unwrap_err();
        assert!(err.contains("mode") && err.contains("transaction"), "{err}");
        let err = endpoint(
            "[endpoint]\nkind = \"redox\"\ndestination_slug = \"d\"\nmode = \"transaction\"\n",
        )
        .unwrap_err();
        // A Redox endpoint has no mode: the key is not one of its keys.
        assert!(err.contains("unknown field `mode`"), "{err}");
    }

    #[test]
    fn connections_are_one_by_default_and_at_most_eight() {
        let base = "[endpoint]\nkind = \"fhir\"\nbase_url = \"https://fhir.example.org/r4\"\n";
        assert_eq!(endpoint(base).unwrap().connections, 1);
        assert_eq!(
            endpoint(&format!("{base}connections = 8\n"))
                .unwrap()
                .connections,
            8
        );
        for n in [0, 9] {
            let err = endpoint(&format!("{base}connections = {n}\n")).unwrap_err();
            assert!(
                err.contains("connections") && err.contains("1 to 8"),
                "{err}"
            );
        }
    }

    #[test]
    fn mistakes_name_the_key() {
        assert!(
            endpoint("[endpoint]\nkind = \"redox\"\n")
                .unwrap_err()
                .contains("destination_slug")
        );
        assert!(
            endpoint(
                "[endpoint]\nkind = \"redox\"\ndestination_slug = \"d\"\nenvironment = \"Dev\"\n"
            )
            .unwrap_err()
            .contains("environment")
        );
        assert!(
            endpoint("[endpoint]\nkind = \"hl7\"\n")
                .unwrap_err()
                .contains("kind")
        );
        assert!(
            endpoint("[endpoint]\nkind = \"fhir\"\n")
                .unwrap_err()
                .contains("base_url")
        );
    }

    #[test]
    fn urls_that_would_send_elsewhere_or_leak_a_password_are_refused() {
        let base = |url: &str| {
            endpoint(&format!(
                "[endpoint]\nkind = \"fhir\"\nbase_url = \"{url}\"\n"
            ))
        };
        let err = base("https://clinic:s3cret@fhir.example.org/r4").unwrap_err();
        assert!(
            err.contains("user name or password") && !err.contains("s3cret"),
            "{err}"
        );
        assert!(
            base("https://fhir.example.org/r4?x=1")
                .unwrap_err()
                .contains("query")
        );
        assert!(
            base("https://fhir.example.org/r4#top")
                .unwrap_err()
                .contains("fragment")
        );
        assert!(
            base("https://fhir.example.org/r4/../admin")
                .unwrap_err()
                .contains("..")
        );
        assert!(base("https://fhir.example.org/r4").is_ok());
        for dotted in [
            "https://fhir.example.org/r4/%2e%2e/admin",
            "https://fhir.example.org/r4/%2E%2e",
            "https://fhir.example.org/%2e/r4",
        ] {
            assert!(base(dotted).unwrap_err().contains(".."), "{dotted}");
        }
        for port in ["0", "65536", "99999", "x"] {
            let err = base(&format!("https://fhir.example.org:{port}/r4")).unwrap_err();
            assert!(err.contains("not a port"), "{port}: {err}");
        }
        assert!(base("https://fhir.example.org:8443/r4").is_ok());
        assert!(base("http://[::1]:8080/r4").is_ok());
        for slug in ["../admin", "a/b", "x?y=1", "a#b"] {
            let err = endpoint(&format!(
                "[endpoint]\nkind = \"redox\"\ndestination_slug = \"{slug}\"\n"
            ))
            .unwrap_err();
            assert!(err.contains("destination_slug"), "{slug}: {err}");
        }
    }

    #[test]
    fn a_public_key_given_as_the_private_key_is_found_when_the_config_is_read() {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
        let err = endpoint(&format!(
            "[endpoint]\nkind = \"redox\"\ndestination_slug = \"d\"\n[endpoint.auth]\nkind = \"jwt\"\nclient_id = \"c\"\nkey_id = \"k\"\nalgorithm = \"RS384\"\nprivate_key_file = \"{keys}/test-rs384-public.pem\"\n"
        ))
        .unwrap_err();
        assert!(err.contains("PRIVATE key"), "{err}");
    }

    #[test]
    fn plain_http_only_to_this_machine_or_when_allowed() {
        assert!(
            endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"http://fhir.example.org\"\n")
                .unwrap_err()
                .contains("HTTPS")
        );
        assert!(
            endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"http://127.0.0.1:8080/fhir\"\n")
                .is_ok()
        );
        assert!(
            endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"http://localhost:8080\"\n").is_ok()
        );
        assert!(
            endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"http://[::1]:8080\"\n").is_ok()
        );
        assert!(
            endpoint(
                "[endpoint]\nkind = \"fhir\"\nbase_url = \"http://10.0.0.5\"\nallow_http = true\n"
            )
            .is_ok()
        );
        assert!(endpoint("[endpoint]\nkind = \"fhir\"\nbase_url = \"ftp://x\"\n").is_err());
    }

    #[test]
    fn sending_beyond_this_machine_needs_the_clinics_identifier_systems() {
        let endpoint = "[endpoint]\nkind = \"fhir\"\nbase_url = \"https://fhir.example.org\"\n";
        let check = |identifiers: &str| {
            crate::submit::configured_endpoint(
                &Config::parse(&format!("{identifiers}{endpoint}")).unwrap(),
            )
            .expect("configured")
        };
        let err = check("").unwrap_err();
        assert!(
            err.contains("[identifiers] mrn_system is not set") && err.contains("saving works"),
            "{err}"
        );
        let err =
            check("[identifiers]\nmrn_system = \"urn:oid:1.2.3\"\nimmunization_system = \" \"\n")
                .unwrap_err();
        assert!(err.contains("immunization_system"), "{err}");
        assert!(
            check("[identifiers]\nmrn_system = \"urn:oid:1.2.3\"\nimmunization_system = \"urn:oid:1.2.4\"\n")
                .is_ok()
        );
        // A server on this machine (a test server) takes the defaults.
        let local = "[endpoint]\nkind = \"fhir\"\nbase_url = \"http://127.0.0.1:8080\"\n";
        assert!(
            crate::submit::configured_endpoint(&Config::parse(local).unwrap())
                .expect("configured")
                .is_ok()
        );
    }

    #[test]
    fn the_shipped_example_config_parses_and_its_endpoint_checks() {
        let config = Config::parse(include_str!("../../assets/config.example.toml"))
            .expect("example parses");
        let endpoint = config.endpoint.as_ref().expect("example has an endpoint");
        assert_eq!(endpoint.kind(), "redox");
        assert_eq!(endpoint.link().auth.algorithm.as_deref(), Some("RS384"));
        // The key file is a placeholder, so the check stops there, naming the key.
        let err = crate::submit::configured_endpoint(&config)
            .expect("configured")
            .unwrap_err();
        assert!(err.contains("private_key_file"), "{err}");
    }
}
