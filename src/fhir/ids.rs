//! Where a bundle's ids come from: random ones, ones derived from the visit's id (so
//! building the same visit's message again gives the same ids, and a message sent
//! again keeps the record's ids), or sequential ones for tests; and telling a visit's
//! first message and its record's ids by their ids alone.

use uuid::Uuid;

/// Where new resource ids come from.
pub trait IdSource {
    fn next_id(&mut self) -> Uuid;
}

/// Random version-4 UUIDs.
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&mut self) -> Uuid {
        Uuid::new_v4()
    }
}

/// How many ids a message asks for first for itself (Bundle.id, MessageHeader.id);
/// the ids after them name the record's resources (the Patient, each Immunization).
const MESSAGE_IDS: u32 = 2;

/// Ids derived from a visit's id: building the same visit's message again gives the
/// same Bundle.id, MessageHeader.id and resource ids. A message sent again
/// ([`DerivedIds::sent_again`]) has message ids of its own and the same resource ids,
/// so the receiver sees a new message about the same Patient and Immunizations.
pub struct DerivedIds {
    record: Uuid,
    message: Uuid,
    next: u32,
}

impl DerivedIds {
    pub fn new(visit: Uuid) -> DerivedIds {
        DerivedIds {
            record: visit,
            message: visit,
            next: 0,
        }
    }

    /// The ids of the visit's `sending`th message after the first (1, 2, ...).
    pub fn sent_again(visit: Uuid, sending: u32) -> DerivedIds {
        DerivedIds {
            message: Uuid::new_v5(&visit, format!("resend-{sending}").as_bytes()),
            ..DerivedIds::new(visit)
        }
    }
}

impl IdSource for DerivedIds {
    fn next_id(&mut self) -> Uuid {
        self.next += 1;
        let base = if self.next <= MESSAGE_IDS {
            &self.message
        } else {
            &self.record
        };
        Uuid::new_v5(base, &self.next.to_be_bytes())
    }
}

/// Whether `bundle_id` is the id of visit `visit`'s first message (not one sent
/// again: a correction, a void, "send again").
pub fn is_first_message(visit: Uuid, bundle_id: &str) -> bool {
    Uuid::parse_str(bundle_id.trim()).is_ok_and(|id| id == DerivedIds::new(visit).next_id())
}

/// The most record ids a visit's messages use (its Patient, an Immunization per dose,
/// and the Practitioners, Locations and Organization they point at).
const MOST_RECORD_IDS: u32 = 256;

/// Whether `identifier` is one of the ids the messages of visit `visit` give its
/// record (the Patient, each Immunization, ...): what an endpoint holds under it came
/// from this visit.
pub fn is_record_id(visit: Uuid, identifier: &str) -> bool {
    let Ok(id) = Uuid::parse_str(identifier.trim()) else {
        return false;
    };
    (MESSAGE_IDS + 1..=MESSAGE_IDS + MOST_RECORD_IDS)
        .any(|n| Uuid::new_v5(&visit, &n.to_be_bytes()) == id)
}

/// The Patient's id: the person's, derived from their MRN and its system, so every
/// visit of the same patient, from any station, sends the same Patient.id (a receiver
/// that keeps resources by id keeps one Patient per person).
pub fn patient_id(mrn_system: &str, mrn: &str) -> Uuid {
    let name = format!("urn:vaxentry:patient:{}|{}", mrn_system.trim(), mrn.trim());
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

/// 00000000-0000-0000-0000-000000000001, ...2, ...: for tests.
pub struct SequentialIds(pub u128);

impl IdSource for SequentialIds {
    fn next_id(&mut self) -> Uuid {
        self.0 += 1;
        Uuid::from_u128(self.0)
    }
}
