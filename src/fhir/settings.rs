//! What a bundle takes from the configuration: the message's source, the identifier
//! systems, the clinic's Organization, its staff and places, and its own rules.

/// What the bundle takes from configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleSettings {
    pub source_name: Option<String>,
    pub source_endpoint: String,
    pub mrn_system: String,
    pub immunization_id_system: String,
    /// The clinic's name, when configured: its Organization is in each message.
    pub clinic: Option<String>,
    /// The clinic's (system, value) identifier.
    pub organization_identifier: Option<(String, String)>,
    /// The clinic's vaccinators and places (the clinic itself among them, at its
    /// facility identifier).
    pub directory: crate::clinic::Directory,
    /// The clinic's own rules, which a visit must meet to make a message.
    pub rules: crate::record::Rules,
    /// Who issues SMART Health Cards (`[card] issuer`); none issues none.
    pub card_issuer: Option<String>,
}
