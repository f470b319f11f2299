//! Record files: round trips, and no input makes the reader or validator panic.

mod common;

use common::*;
use proptest::prelude::*;
use vaxentry::fhir::{SequentialIds, build_bundle};
use vaxentry::record::{FIELDS, Fields, Rules, Section, Visit, file, validate};

#[test]
fn examples_round_trip() {
    for name in EXAMPLES {
        let visit = example(name);
        let text = file::to_json(&visit);
        assert_eq!(file::from_json(&text).unwrap(), visit, "{name}");
    }
}

fn any_fields(section: Section) -> impl Strategy<Value = Fields> {
    let ids: Vec<_> = FIELDS
        .iter()
        .filter(|f| f.section == section)
        .map(|f| f.id)
        .collect();
    proptest::collection::vec(proptest::option::of(".{0,20}"), ids.len()).prop_map(move |values| {
        let mut fields = Fields::default();
        for (id, v) in ids.iter().zip(values) {
            if let Some(v) = v {
                fields.set(*id, v);
            }
        }
        fields
    })
}

proptest! {
    #[test]
    fn any_text_is_read_without_panic(text in ".{0,200}") {
        let _ = file::from_json(&text);
    }

    #[test]
    fn any_json_shape_is_read_without_panic(
        key in "[a-z_]{1,12}", value in prop_oneof![Just("1".to_string()), Just("null".to_string()), Just("[]".to_string()), "\"[^\"\\\\]{0,10}\""]
    ) {
        let text = format!("{{\"patient\": {{\"{key}\": {value}}}, \"doses\": [{{\"{key}\": {value}}}]}}");
        let _ = file::from_json(&text);
    }

    #[test]
    fn any_typed_values_round_trip_and_never_panic(patient in any_fields(Section::Patient), doses in proptest::collection::vec(any_fields(Section::Dose), 0..3)) {
        let visit = Visit { patient, doses };
        let back = file::from_json(&file::to_json(&visit)).unwrap();
        prop_assert_eq!(&back, &visit);
        let _ = validate(&visit, now(), Rules::default());
        let _ = build_bundle(&visit, &settings(), now(), &mut SequentialIds(0));
    }

    #[test]
    fn date_and_time_parsing_never_panics(text in ".{0,30}") {
        let _ = vaxentry::record::parse::parse_date(&text, now().date_naive());
        let _ = vaxentry::record::parse::parse_datetime(&text, now());
    }
}
