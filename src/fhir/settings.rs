//! What a bundle takes from the configuration: the message's source, the identifier
//! systems, the clinic's Organization and place, and the clinic's own rules.

/// What the bundle takes from configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleSettings {
    pub source_name: Option<String>,
    pub source_endpoint: String,
    pub mrn_system: String,
    pub immunization_id_system: String,
    /// The clinic's name, when configured: its Organization is in each message.
    pub clinic: Option<String>,
    /// (system, value) identifiers of the clinic and of the place it gives doses.
    pub organization_identifier: Option<(String, String)>,
    pub facility_identifier: Option<(String, String)>,
    /// The clinic's own rules, which a visit must meet to make a message.
    pub rules: crate::record::Rules,
}
