//! The card's signature: a compact JWS (RFC 7515) whose payload is the credential
//! compressed with raw DEFLATE (`zip: "DEF"`), signed with ES256 (ECDSA on P-256 with
//! SHA-256), and named by `kid`, the RFC 7638 thumbprint of the issuer's public key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// An issuer's public key as a JWK's `x` and `y` (base64url of the coordinates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub x: String,
    pub y: String,
}

impl PublicKey {
    /// The public key of a signing key.
    pub fn of(key: &SigningKey) -> PublicKey {
        let point = key.verifying_key().to_encoded_point(false);
        let coordinate =
            |c: Option<&p256::FieldBytes>| c.map(|c| B64.encode(c)).unwrap_or_default();
        PublicKey {
            x: coordinate(point.x()),
            y: coordinate(point.y()),
        }
    }

    /// From a JWK (`kty` EC, `crv` P-256); `None` for any other key.
    pub fn from_jwk(jwk: &Value) -> Option<PublicKey> {
        (jwk["kty"] == "EC" && jwk["crv"] == "P-256").then_some(())?;
        Some(PublicKey {
            x: jwk["x"].as_str()?.to_string(),
            y: jwk["y"].as_str()?.to_string(),
        })
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in lexical order,
    /// base64url. It is the `kid` of the key.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        );
        B64.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// As a JWK to publish, for signing with ES256.
    pub fn jwk(&self) -> Value {
        json!({"kty": "EC", "kid": self.thumbprint(), "use": "sig", "alg": "ES256",
               "crv": "P-256", "x": self.x, "y": self.y})
    }

    fn verifying_key(&self) -> Result<VerifyingKey, String> {
        let x = B64
            .decode(&self.x)
            .map_err(|_| "the key's x is not base64url")?;
        let y = B64
            .decode(&self.y)
            .map_err(|_| "the key's y is not base64url")?;
        if x.len() != 32 || y.len() != 32 {
            return Err("the key is not a P-256 point".into());
        }
        let point = p256::EncodedPoint::from_affine_coordinates(
            p256::FieldBytes::from_slice(&x),
            p256::FieldBytes::from_slice(&y),
            false,
        );
        VerifyingKey::from_encoded_point(&point).map_err(|_| "the key is not on P-256".into())
    }
}

/// Signs `payload` (the credential's JSON, minified) as a compact JWS.
pub fn sign(payload: &[u8], key: &SigningKey) -> String {
    let header = json!({"zip": "DEF", "alg": "ES256", "kid": PublicKey::of(key).thumbprint()});
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let compressed = deflater
        .write_all(payload)
        .and_then(|()| deflater.finish())
        .unwrap_or_default();
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(compressed)
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature.to_bytes()))
}

/// What a verified card holds: the key it was signed with and its payload.
#[derive(Debug)]
pub struct Verified {
    pub kid: String,
    pub payload: Value,
}

/// Checks a compact JWS against the issuer's keys (found by `kid`), and gives back its
/// payload inflated; says what is wrong otherwise.
pub fn verify(jws: &str, keys: &[PublicKey]) -> Result<Verified, String> {
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("not a compact JWS: it has no three parts".into());
    };
    let header: Value = B64
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("the JWS header is not base64url JSON")?;
    if header["alg"] != "ES256" || header["zip"] != "DEF" {
        return Err(format!("not a health card's header: {header}"));
    }
    let kid = header["kid"].as_str().ok_or("the JWS header has no kid")?;
    let key = keys
        .iter()
        .find(|k| k.thumbprint() == kid)
        .ok_or_else(|| format!("no key of the issuer has kid {kid}"))?;
    let signature = B64
        .decode(signature)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or("the signature is not an ES256 signature")?;
    let input = format!("{}.{}", parts[0], parts[1]);
    key.verifying_key()?
        .verify(input.as_bytes(), &signature)
        .map_err(|_| "the signature does not match")?;
    let compressed = B64
        .decode(payload)
        .map_err(|_| "the payload is not base64url")?;
    let mut inflated = Vec::new();
    DeflateDecoder::new(compressed.as_slice())
        .take(1 << 20)
        .read_to_end(&mut inflated)
        .map_err(|_| "the payload does not inflate")?;
    let payload = serde_json::from_slice(&inflated).map_err(|_| "the payload is not JSON")?;
    Ok(Verified {
        kid: kid.to_string(),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_signed_payload_verifies_and_inflates_back() {
        let public = PublicKey::of(&key());
        let jws = sign(br#"{"iss":"https://example.org"}"#, &key());
        let verified = verify(&jws, std::slice::from_ref(&public)).unwrap();
        assert_eq!(verified.payload["iss"], "https://example.org");
        assert_eq!(verified.kid, public.thumbprint());
    }

    #[test]
    fn a_changed_payload_or_another_key_fails() {
        let jws = sign(br#"{"iss":"https://example.org"}"#, &key());
        let other = PublicKey::of(&SigningKey::from_slice(&[9u8; 32]).unwrap());
        assert!(verify(&jws, &[other]).unwrap_err().contains("kid"));
        let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
        parts[1] = B64.encode(b"not it");
        let tampered = parts.join(".");
        assert!(
            verify(&tampered, &[PublicKey::of(&key())])
                .unwrap_err()
                .contains("signature")
        );
        assert!(verify("a.b", &[]).is_err());
        assert!(verify("", &[]).is_err());
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638's method on the spec's example issuer key (its kid).
        let key = PublicKey {
            x: "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw".into(),
            y: "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8".into(),
        };
        assert_eq!(
            key.thumbprint(),
            "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
        );
    }
}
