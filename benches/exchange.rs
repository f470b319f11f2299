//! What crosses the clinic's edge, once a visit: issuing a patient's SMART Health Card
//! (the credential, raw DEFLATE, the ES256 signature and the QR code) and reading a
//! received bundle into visits.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vaxentry::card::{self, Issuer, jws::PublicKey, key::IssuerKey};
use vaxentry::config::Config;
use vaxentry::fhir::message_for;
use vaxentry::fhir::received::read_bundle;
use vaxentry::record::file;

fn exchange(c: &mut Criterion) {
    let now =
        vaxentry::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::America::New_York)
            .expect("fixed time")
            .now();
    let settings = Config::default().bundle_settings();
    let text = std::fs::read_to_string("assets/examples/child-four-doses.json").expect("example");
    let visit = file::from_json(&text).expect("record");
    let signing = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
    let key = IssuerKey {
        public: PublicKey::of(&signing),
        signing,
        path: std::path::PathBuf::new(),
    };
    let issuer = Issuer {
        url: "https://clinic.example.org/cards".into(),
        organization: "Riverside Family Clinic".into(),
    };
    let doses = card::card_doses(&visit, &issuer.organization, now);
    c.bench_function("card_issue_four_doses", |b| {
        b.iter(|| {
            black_box(card::issue(&visit.patient, doses.clone(), &issuer, &key, now).expect("card"))
        })
    });
    let bundle = message_for(&visit, &settings, now, uuid::Uuid::nil())
        .expect("bundle")
        .json;
    c.bench_function("read_received_bundle_four_doses", |b| {
        b.iter(|| black_box(read_bundle(black_box(&bundle), &settings).expect("read")))
    });
}

criterion_group!(benches, exchange);
criterion_main!(benches);
