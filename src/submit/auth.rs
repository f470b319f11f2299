//! Authentication: none, a static bearer token (from an environment variable or a
//! file, never inline), or a signed JWT client assertion exchanged for an access
//! token (Redox OAuth API key / SMART Backend Services), cached until shortly before
//! it expires. Secrets never appear in `Debug` output or messages.

use super::protocol::{Protocol, REDOX_TOKEN_URL};
use super::url::check_url;
use crate::clock::ClinicTime;
use crate::config::AuthConfig;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// A secret string: shown as `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone)]
pub struct JwtSettings {
    pub token_url: String,
    pub client_id: String,
    pub key_id: String,
    pub algorithm: Algorithm,
    /// The scopes asked for (SMART Backend Services), e.g.
    /// `system/Immunization.write system/Patient.read`; Redox takes none.
    pub scope: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub enum AuthSettings {
    None,
    Bearer(Secret),
    Jwt(JwtSettings),
}

/// Key, secret and token files are small.
const SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads a secret file, warning if others can read it.
fn read_secret_file(key: &str, path: &Path, warnings: &mut Vec<String>) -> Result<Vec<u8>, String> {
    let bytes = crate::record::file::read_bytes(path, SECRET_FILE_BYTES)
        .map_err(|e| format!("{key}: {}: {e}", path.display()))?;
    warn_if_readable_by_others(path, warnings);
    Ok(bytes)
}

/// Adds a warning when a file holding secrets or settings can be read by other users.
pub fn warn_if_readable_by_others(path: &Path, warnings: &mut Vec<String>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            warnings.push(format!(
                "{} can be read by other users; make it private with: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
}

impl AuthSettings {
    pub fn from_config(
        cfg: &AuthConfig,
        protocol: Protocol,
        allow_http: bool,
        warnings: &mut Vec<String>,
    ) -> Result<AuthSettings, String> {
        match cfg.kind.as_deref().unwrap_or("none") {
            "none" => Ok(AuthSettings::None),
            "bearer" => {
                let token = match (&cfg.token_env, &cfg.token_file) {
                    (Some(var), _) => std::env::var(var).map_err(|_| {
                        format!("[endpoint.auth] token_env = \"{var}\": that environment variable is not set; set it to the access token")
                    })?,
                    (None, Some(path)) => String::from_utf8(read_secret_file("[endpoint.auth] token_file", path, warnings)?)
                        .map_err(|_| format!("[endpoint.auth] token_file {} is not text", path.display()))?,
                    (None, None) => {
                        return Err("[endpoint.auth] kind = \"bearer\" needs token_env (an environment variable) or token_file; tokens are not written in the config".into());
                    }
                };
                let token = token.trim().to_string();
                if token.is_empty() {
                    return Err("[endpoint.auth] the bearer token is empty".into());
                }
                Ok(AuthSettings::Bearer(Secret(token)))
            }
            "jwt" => {
                let missing = |k: &str| {
                    format!(
                        "[endpoint.auth] {k} is missing; kind = \"jwt\" needs token_url, client_id, key_id, algorithm and a key file"
                    )
                };
                let token_url = match (&cfg.token_url, protocol) {
                    (Some(url), _) => url.clone(),
                    (None, Protocol::RedoxWrite) => REDOX_TOKEN_URL.to_string(),
                    (None, Protocol::ProcessMessage | Protocol::Transaction) => {
                        return Err(missing("token_url"));
                    }
                };
                check_url("[endpoint.auth] token_url", &token_url, allow_http)?;
                let client_id = cfg.client_id.clone().ok_or_else(|| missing("client_id"))?;
                let key_id = cfg.key_id.clone().ok_or_else(|| missing("key_id"))?;
                let (algorithm, key) = match cfg.algorithm.as_deref().unwrap_or("RS384") {
                    "RS384" | "ES384" => {
                        let path = cfg
                            .private_key_file
                            .as_ref()
                            .ok_or_else(|| missing("private_key_file"))?;
                        let pem =
                            read_secret_file("[endpoint.auth] private_key_file", path, warnings)?;
                        let bad = |e: jsonwebtoken::errors::Error| {
                            format!(
                                "[endpoint.auth] private_key_file {} is not a usable PEM key: {e}",
                                path.display()
                            )
                        };
                        if cfg.algorithm.as_deref() == Some("ES384") {
                            (
                                Algorithm::ES384,
                                EncodingKey::from_ec_pem(&pem).map_err(bad)?,
                            )
                        } else {
                            (
                                Algorithm::RS384,
                                EncodingKey::from_rsa_pem(&pem).map_err(bad)?,
                            )
                        }
                    }
                    "HS384" => {
                        let path = cfg
                            .secret_file
                            .as_ref()
                            .ok_or_else(|| missing("secret_file"))?;
                        let secret =
                            read_secret_file("[endpoint.auth] secret_file", path, warnings)?;
                        let secret = secret.trim_ascii();
                        if secret.is_empty() {
                            return Err(format!(
                                "[endpoint.auth] secret_file {} is empty",
                                path.display()
                            ));
                        }
                        (Algorithm::HS384, EncodingKey::from_secret(secret))
                    }
                    other => {
                        return Err(format!(
                            "[endpoint.auth] algorithm = \"{other}\" is not supported; use RS384, ES384 or HS384"
                        ));
                    }
                };
                let jwt = JwtSettings {
                    token_url,
                    client_id,
                    key_id,
                    algorithm,
                    scope: cfg
                        .scope
                        .as_deref()
                        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                        .filter(|s| !s.is_empty()),
                    key,
                };
                // A public key, or one for another algorithm, reads as PEM but cannot
                // sign: found now, not at the first send.
                client_assertion(&jwt, 0).map_err(|e| {
                    format!(
                        "[endpoint.auth] the key cannot sign with {algorithm:?} ({e}); private_key_file must be the PRIVATE key (the public one goes to the token service)"
                    )
                })?;
                Ok(AuthSettings::Jwt(jwt))
            }
            other => Err(format!(
                "[endpoint.auth] kind = \"{other}\" is not known; use \"none\", \"bearer\" or \"jwt\""
            )),
        }
    }
}

/// The claims of a SMART Backend Services client assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

/// How far ahead the assertion expires: within the 5 minutes allowed, with margin.
const ASSERTION_LIFETIME_SECS: i64 = 240;

/// A signed client assertion for the token endpoint.
pub fn client_assertion(jwt: &JwtSettings, now_unix: i64) -> Result<String, String> {
    let mut header = Header::new(jwt.algorithm);
    header.kid = Some(jwt.key_id.clone());
    header.typ = Some("JWT".into());
    let claims = AssertionClaims {
        iss: jwt.client_id.clone(),
        sub: jwt.client_id.clone(),
        aud: jwt.token_url.clone(),
        exp: now_unix + ASSERTION_LIFETIME_SECS,
        iat: now_unix,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    jsonwebtoken::encode(&header, &claims, &jwt.key)
        .map_err(|e| format!("cannot sign the client assertion: {e}"))
}

/// A cached access token.
#[derive(Debug, Default)]
pub struct TokenCache {
    token: Option<(Secret, ClinicTime)>,
}

/// Tokens are renewed this long before they expire, or a quarter of their life
/// before, for short-lived ones: a token that lives 10 s serves the messages of the
/// next 7.5 s instead of one each.
const RENEW_MARGIN: Duration = Duration::from_secs(30);

impl TokenCache {
    /// The token, unless it is due for renewal at `now`.
    pub fn valid(&self, now: ClinicTime) -> Option<&Secret> {
        self.token
            .as_ref()
            .filter(|(_, renew_at)| now < *renew_at)
            .map(|(t, _)| t)
    }

    pub fn store(&mut self, token: String, now: ClinicTime, lifetime: Duration) {
        let kept = lifetime.saturating_sub(RENEW_MARGIN.min(lifetime / 4));
        let renew_at = chrono::Duration::from_std(kept)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(now);
        self.token = Some((Secret(token), renew_at));
    }

    pub fn clear(&mut self) {
        self.token = None;
    }
}

/// A token from the token endpoint, checked.
#[derive(Debug)]
pub struct Token {
    pub access_token: String,
    /// How long it lives: `expires_in`, 5 minutes when not given, and at most a day
    /// (negative, zero or unreadable lifetimes mean "use it once").
    pub lifetime: Duration,
}

/// The longest a token is kept, whatever the endpoint says.
const LONGEST_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Longer tokens are not tokens.
const LONGEST_TOKEN: usize = 16 * 1024;

/// Reads the token endpoint's answer, or says what is wrong with it.
pub fn usable_token(body: &str) -> Result<Token, String> {
    #[derive(Deserialize)]
    struct Answer {
        access_token: Option<serde_json::Value>,
        expires_in: Option<serde_json::Value>,
    }
    let answer: Answer = serde_json::from_str(body).map_err(|_| "is not JSON".to_string())?;
    let token = match answer.access_token {
        Some(serde_json::Value::String(t)) => t,
        _ => return Err("has no access_token".into()),
    };
    if token.trim().is_empty() {
        return Err("has an empty access_token".into());
    }
    if token.len() > LONGEST_TOKEN {
        return Err(format!(
            "has an access_token longer than {LONGEST_TOKEN} bytes"
        ));
    }
    // It goes into a header: no line breaks or other control characters.
    if token.chars().any(|c| c.is_control() || c == ' ') {
        return Err("has an access_token with spaces or control characters".into());
    }
    let seconds = match answer.expires_in {
        None => Some(300.0),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let lifetime = match seconds {
        Some(s) if s.is_finite() && s > 0.0 => {
            Duration::from_secs_f64(s.min(LONGEST_LIFETIME.as_secs_f64()))
        }
        _ => Duration::ZERO,
    };
    Ok(Token {
        access_token: token,
        lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_of_every_shape_are_kept_within_a_day() {
        let life = |expires: &str| {
            usable_token(&format!(
                r#"{{"access_token": "abc", "expires_in": {expires}}}"#
            ))
            .map(|t| t.lifetime)
        };
        assert_eq!(life("300"), Ok(Duration::from_secs(300)));
        assert_eq!(life("10"), Ok(Duration::from_secs(10)));
        assert_eq!(life("0"), Ok(Duration::ZERO));
        assert_eq!(life("-1"), Ok(Duration::ZERO));
        assert_eq!(life("18446744073709551615"), Ok(LONGEST_LIFETIME));
        assert_eq!(life("\"120\""), Ok(Duration::from_secs(120)));
        assert_eq!(life("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(
            life("null"),
            Ok(Duration::from_secs(300)),
            "null is not given"
        );
        assert_eq!(
            usable_token(r#"{"access_token": "abc"}"#).map(|t| t.lifetime),
            Ok(Duration::from_secs(300))
        );
    }

    #[test]
    fn short_lived_tokens_serve_three_quarters_of_their_life() {
        let now = crate::clock::test_now();
        let later = |secs: i64| now + chrono::Duration::seconds(secs);
        let mut cache = TokenCache::default();
        cache.store("short".into(), now, Duration::from_secs(10));
        assert!(cache.valid(later(7)).is_some());
        assert!(cache.valid(later(8)).is_none());
        cache.store("long".into(), now, Duration::from_secs(300));
        assert!(cache.valid(later(269)).is_some());
        assert!(cache.valid(later(270)).is_none());
        cache.store("once".into(), now, Duration::ZERO);
        assert!(cache.valid(now).is_none());
    }

    #[test]
    fn tokens_that_cannot_go_in_a_header_are_refused() {
        for (body, why) in [
            (r#"{"access_token": ""}"#.to_string(), "empty"),
            (
                r#"{"access_token": "ab\r\nX-Evil: 1"}"#.to_string(),
                "control",
            ),
            (
                format!(r#"{{"access_token": "{}"}}"#, "a".repeat(20_000)),
                "longer",
            ),
            (r#"{"token": "abc"}"#.to_string(), "no access_token"),
            ("<html>".to_string(), "not JSON"),
        ] {
            let err = usable_token(&body).unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
        }
    }
}
