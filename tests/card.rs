//! SMART Health Cards: the specification's own examples read and verified by the same
//! code that issues vaxentry's cards, and a card issued here read back off its QR
//! image by an independent decoder (`rqrr`), verified and inflated to what was put in.

mod common;

use common::*;
use serde_json::Value;
use vaxentry::card::jws::{self, PublicKey};
use vaxentry::card::key::IssuerKey;
use vaxentry::card::{self, Issuer, qr};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/smart-health-cards/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example_issuer_keys() -> Vec<PublicKey> {
    let jwks: Value = serde_json::from_str(&fixture("issuer-jwks.json")).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(PublicKey::from_jwk)
        .collect()
}

#[test]
fn the_specifications_examples_read_and_verify() {
    let keys = example_issuer_keys();
    for n in ["00", "01"] {
        let jws = fixture(&format!("example-{n}-d-jws.txt"))
            .trim()
            .to_string();
        // The QR code's text and the downloadable file hold the same JWS.
        let from_qr = qr::from_numeric(&fixture(&format!(
            "example-{n}-f-qr-code-numeric-value-0.txt"
        )))
        .unwrap();
        assert_eq!(from_qr, jws, "example {n}");
        assert_eq!(
            qr::numeric(&jws),
            fixture(&format!("example-{n}-f-qr-code-numeric-value-0.txt")).trim()
        );
        let file: Value =
            serde_json::from_str(&fixture(&format!("example-{n}-e-file.smart-health-card")))
                .unwrap();
        assert_eq!(file["verifiableCredential"][0], jws.as_str());
        // Signed by the example issuer; it inflates to the example's credential.
        let verified = jws::verify(&jws, &keys).unwrap();
        let expected: Value = serde_json::from_str(&fixture(&format!(
            "example-{n}-c-jws-payload-minified.json"
        )))
        .unwrap();
        assert_eq!(verified.payload, expected, "example {n}");
        // Each key's kid is its RFC 7638 thumbprint.
        assert!(keys.iter().any(|k| k.thumbprint() == verified.kid));
        // A key that is not the issuer's does not verify it.
        let stranger = PublicKey::of(&p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap());
        assert!(jws::verify(&jws, &[stranger]).is_err());
    }
}

fn issuer() -> Issuer {
    Issuer {
        url: "https://clinic.example.org/cards".into(),
        organization: "Riverside Family Clinic".into(),
    }
}

fn key_in_temp() -> IssuerKey {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-card-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    IssuerKey::load_or_make(&dir).unwrap()
}

#[test]
fn a_card_issued_here_reads_back_off_its_qr_image() {
    let key = key_in_temp();
    let visit = example("child-four-doses");
    let doses = card::card_doses(&visit, &issuer().organization, now());
    let card = card::issue(&visit.patient, doses, &issuer(), &key, now()).unwrap();
    assert!(card.jws.len() <= card::MOST_JWS);
    assert!(card.matrix.version <= qr::MOST_VERSION);
    // Rendered as the PNG is, then read by an independent decoder.
    let (pixels, side) = qr::greyscale(&card.matrix, 4);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, text) = grids[0].decode().unwrap();
    assert_eq!(text, card.numeric);
    let verified = jws::verify(
        &qr::from_numeric(&text).unwrap(),
        std::slice::from_ref(&key.public),
    )
    .unwrap();
    let payload = verified.payload;
    assert_eq!(payload["iss"], "https://clinic.example.org/cards");
    assert_eq!(payload["nbf"], now().timestamp());
    assert_eq!(
        payload["vc"]["type"],
        serde_json::json!([
            "https://smarthealth.cards#health-card",
            "https://smarthealth.cards#immunization"
        ])
    );
    let subject = &payload["vc"]["credentialSubject"];
    assert_eq!(subject["fhirVersion"], "4.0.1");
    let entries = subject["fhirBundle"]["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 1 + 4, "the patient and the four doses");
    assert_eq!(entries[0]["resource"]["birthDate"], "2026-09-20");
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["fullUrl"], format!("resource:{i}"));
        let resource = entry["resource"].as_object().unwrap();
        for kept_out in ["id", "meta", "text"] {
            assert!(!resource.contains_key(kept_out), "{kept_out} in entry {i}");
        }
    }
    let first = &entries[1]["resource"];
    assert_eq!(first["vaccineCode"]["coding"][0].get("display"), None);
    assert_eq!(first["patient"]["reference"], "resource:0");
    assert_eq!(
        first["performer"][0]["actor"]["display"],
        "Riverside Family Clinic"
    );
    // The PNG and SVG are made from the same matrix.
    let png = qr::png(&card.matrix, 4).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    assert!(qr::svg(&card.matrix, 4).contains("<svg"));
}

#[test]
fn doses_not_given_or_in_error_never_go_on_a_card_and_the_oldest_give_way() {
    let key = key_in_temp();
    let refusal = example("not-done-refusal");
    assert!(card::card_doses(&refusal, "Clinic", now()).is_empty());
    let mut visit = example("child-four-doses");
    visit.doses[1].set(vaxentry::record::FieldId::Status, "entered-in-error");
    assert_eq!(card::card_doses(&visit, "Clinic", now()).len(), 3);
    let no_doses = card::issue(&refusal.patient, Vec::new(), &issuer(), &key, now());
    assert!(no_doses.unwrap_err().contains("no doses"));
    // Many doses: the most recent that fit, and how many did not.
    let many: Vec<card::CardDose> = (0..60)
        .map(|i| card::CardDose {
            given_on: chrono::NaiveDate::from_ymd_opt(2000 + i / 12, 1 + (i % 12) as u32, 1)
                .unwrap(),
            cvx: "140".into(),
            lot: format!("LOT{i:04}XYZ"),
            performer: Some("Riverside Family Clinic".into()),
        })
        .collect();
    let card = card::issue(&visit.patient, many, &issuer(), &key, now()).unwrap();
    assert!(card.left_out > 0 && card.doses.len() + card.left_out == 60);
    assert_eq!(
        card.doses.last().unwrap().lot,
        "LOT0059XYZ",
        "the most recent stay"
    );
    assert!(card.jws.len() <= card::MOST_JWS);
}
