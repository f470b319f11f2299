//! The clinic: lots on hand, station defaults, scans, mass clinics and key counts.

use super::*;

/// Choosing a vaccine fills in the lot on hand that expires first (an expired one is
/// passed over), with its maker, expiry and NDC; a save reads the inventory again.
#[test]
fn choosing_a_vaccine_fills_the_lot_on_hand_that_expires_first() {
    let mut a = app_with_flu_lots(&[
        ("OLD1", "2026-01-31", ""),
        ("LATER7", "2027-09-30", ""),
        ("SOON3", "2027-06-30", "49281042550"),
    ]);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>flu<Enter>")));
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Vaccine), "140");
    assert_eq!(
        [
            FieldId::Lot,
            FieldId::Manufacturer,
            FieldId::Expiration,
            FieldId::Ndc
        ]
        .map(|f| dose.get(f).to_string()),
        ["SOON3", "PMC", "2027-06-30", "49281-0425-50"]
    );
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.starts_with("Lot SOON3 exp 2027-06-30 on hand, 1 more; check the vial"),
        "{notice}"
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Amount,
        "past what was filled in"
    );
    let effects = writes(drive(&mut a, keys("0.5<Tab>la<Enter>Jordan Okafor<C-s>")));
    assert!(effects.contains(&Effect::LoadLots), "{effects:?}");
}

/// `[station]` fills a new visit's dose with the station's performer, NPI, place and
/// funding; anything typed replaces them, and the next visit starts from them again
/// (the performer typed carries, funding is the station's).
#[test]
fn a_stations_defaults_fill_each_new_visit() {
    let mut a = app((80, 24));
    let station = vaxentry::config::Config::parse(
        "[station]\nperformer = \"Sam Lee\"\nperformer_npi = \"1234567893\"\nlocation = \"Room 2\"\nfunding = \"public\"\n",
    )
    .unwrap()
    .station
    .defaults()
    .unwrap();
    a.form.use_station_defaults(station, common::now());
    let dose = |a: &App, f| a.form.visit.doses[0].get(f).to_string();
    assert_eq!(dose(&a, FieldId::Performer), "Sam Lee");
    assert_eq!(dose(&a, FieldId::Location), "Room 2");
    assert_eq!(dose(&a, FieldId::Funding), "public");
    assert!(!a.form.dirty, "defaults are not something typed");
    // The FLU script types over the performer; the funding is set to private.
    // (Enter after the route goes past the performer filled in: it is jumped to.)
    let typed_over = FLU.replace("la<Enter>", "la<C-f>given by<Enter>");
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{typed_over}")));
    a.form.visit.doses[0].set(FieldId::Funding, "private");
    assert_eq!(dose(&a, FieldId::Performer), "Jordan Okafor");
    drive(&mut a, keys("<C-s>"));
    assert!(
        a.notice.as_deref().unwrap().starts_with("Saved"),
        "{:?}",
        a.notice
    );
    assert_eq!(
        dose(&a, FieldId::Performer),
        "Jordan Okafor",
        "typed, it carries"
    );
    assert_eq!(dose(&a, FieldId::Funding), "public", "the station's again");
    assert_eq!(dose(&a, FieldId::Location), "Room 2");
}

/// A pack's GS1 barcode scanned into a dose field (the scanner types it, GS as Ctrl+],
/// and Enter): lot and expiry go in, and the vaccine, maker and NDC of the lot on hand
/// with that NDC; the field scanned into keeps its value.
#[test]
fn a_scanned_pack_fills_the_dose() {
    let mut a = app_with_flu_lots(&[("OLDER1", "2027-01-31", "49281042550")]);
    // Fluzone 2025-26, NDC 49281-425-50: GTIN 00349281425509.
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn>]d20100349281425509172706001")),
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Vaccine,
        "typed into the vaccine's picker"
    );
    drive(&mut a, keys("0UT8291AA<C-]>21SN42<Enter>"));
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::Manufacturer,
            FieldId::Ndc,
            FieldId::Lot,
            FieldId::Expiration
        ]
        .map(|f| dose.get(f).to_string()),
        ["140", "PMC", "49281-0425-50", "UT8291AA", "2027-06-30"]
    );
    assert_eq!(
        a.notice.as_deref(),
        Some("Scanned lot UT8291AA exp 2027-06-30; CVX 140 + NDC from lots on hand")
    );
    snap!("scanned-pack-80x24", render(&a).backend());
    snap!(
        "bundle-scanned-dose",
        golden_bundle(&a.form.visit, &a.settings)
    );
    // Into the lot field, a pack CDC does not list and not on hand: lot and expiry only.
    drive(
        &mut a,
        keys("<Tab><Tab><Tab>(01)00312345678906(17)280131(10)B77<Enter>"),
    );
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Lot), "B77");
    assert_eq!(dose.get(FieldId::Expiration), "2028-01-31");
    assert_eq!(dose.get(FieldId::Vaccine), "140", "the vaccine stays");
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .contains("unknown: choose the vaccine"),
        "{:?}",
        a.notice
    );
    // A scan longer than a coded field's 64 characters (a 20-character lot and
    // serial) is read whole.
    let lot = "L2345678901234567890";
    drive(
        &mut a,
        keys(&format!(
            "<BackTab><BackTab><BackTab>]d2010034928142450217270600<C-]>10{lot}<C-]>21S2345678901234567890<Enter>"
        )),
    );
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Lot),
        lot,
        "{:?}",
        a.notice
    );
}

/// A pack scanned with nothing on hand: CDC's NDC crosswalk gives the vaccine, maker,
/// NDC and usual route, the barcode the lot and expiry; the dose is ready to send but
/// for the site and the person who gave it.
#[test]
fn a_pack_scanned_with_nothing_on_hand_fills_the_dose_from_cdcs_list() {
    let mut a = app((80, 24));
    assert!(a.form.session.inventory.is_empty());
    // Fluzone Trivalent 2025-26, the carton of 10 syringes: NDC 49281-0425-50.
    drive(
        &mut a,
        keys(&format!(
            "{PATIENT}<PgDn>]d2010034928142550917270630<C-]>10UT8291AA<C-]>21SN42<Enter>"
        )),
    );
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::Manufacturer,
            FieldId::Ndc,
            FieldId::Route,
            FieldId::Lot,
            FieldId::Expiration
        ]
        .map(|f| dose.get(f).to_string()),
        [
            "140",
            "PMC",
            "49281-0425-50",
            "IM",
            "UT8291AA",
            "2027-06-30"
        ]
    );
    assert_eq!(
        a.notice.as_deref(),
        Some(
            "Scanned lot UT8291AA exp 2027-06-30; CVX 140 FLUZONE TRIVALENT NORTHERN HEMISPHERE (CDC NDC list)"
        )
    );
    drive(&mut a, keys("<C-f>Site<Enter>la<Enter>"));
    assert_eq!(a.form.focus.field, FieldId::Performer);
    drive(&mut a, keys("Jordan Okafor"));
    snap!(
        "bundle-scanned-empty-inventory",
        golden_bundle(&a.form.visit, &a.settings)
    );
}

/// An NDC typed into a new dose fills the vaccine, maker and route CDC lists for it
/// when the NDC field is left; what was already chosen stays.
#[test]
fn a_typed_ndc_fills_the_vaccine_maker_and_route() {
    let mut a = app((80, 24));
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn><C-f>NDC<Enter>58160-0823-11<Tab>")),
    );
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [FieldId::Vaccine, FieldId::Manufacturer, FieldId::Route].map(|f| dose.get(f).to_string()),
        ["187", "SKB", "IM"]
    );
    assert!(
        a.notice.as_deref().unwrap().contains("Shingrix"),
        "{:?}",
        a.notice
    );
}

/// F8 makes the dose a mass-clinic template: each next visit asks for the patient and
/// the site only, and Ctrl+S saves it and starts the next (5 keys beyond the patient's
/// own fields).
#[test]
fn a_mass_clinic_asks_each_patient_only_for_the_site() {
    let mut a = app((80, 24));
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>{FLU}")));
    drive(&mut a, keys("<F8>"));
    assert!(
        a.notice
            .as_deref()
            .unwrap()
            .starts_with("Mass clinic: CVX 140 lot UT8291AA each visit"),
        "{:?}",
        a.notice
    );
    drive(&mut a, keys("<C-s>"));
    assert!(
        a.notice.as_deref().unwrap().starts_with("Saved"),
        "{:?}",
        a.notice
    );
    // The next patient: their own fields, then PgDn, the site, Ctrl+S.
    drive(
        &mut a,
        keys("MRN-5150<Tab>Okafor<Tab>Ada<Tab>02/03/1990<Tab>f<Enter><PgDn>"),
    );
    assert_eq!(
        a.form.focus.field,
        FieldId::Site,
        "the dose asks for the site"
    );
    snap!("mass-clinic-80x24", render(&a).backend());
    let id = a.form.visit_id;
    drive(&mut a, keys("la<Enter><C-s>"));
    let saved = with_store(|s| s.get(id).unwrap()).expect("saved with 5 keys");
    snap!(
        "bundle-mass-clinic-visit",
        golden_bundle(&saved.visit().unwrap(), &a.settings)
    );
    let dose = &saved.visit().unwrap().doses[0];
    assert_eq!(
        [
            FieldId::Vaccine,
            FieldId::Lot,
            FieldId::Site,
            FieldId::Performer,
            FieldId::VisPresented
        ]
        .map(|f| dose.get(f).to_string()),
        ["140", "UT8291AA", "LA", "Jordan Okafor", "2026-11-25"]
    );
    assert_eq!(a.form.mass.as_ref().unwrap().saved, 2);
    assert!(
        render(&a)
            .backend()
            .to_string()
            .contains("mass clinic: 140 lot UT8291AA · 2 saved")
    );
    drive(&mut a, keys("<F8>"));
    assert_eq!(
        a.notice.as_deref(),
        Some("Mass clinic ended after 2 visit(s)")
    );
    assert_eq!(a.form.mass, None);
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Vaccine),
        "",
        "the next visit, not typed into, starts as any new visit"
    );
    assert!(!a.form.has_content());
    // Ended with the next patient half typed, what was typed stays.
    with_store(|s| *s = new_store());
    let mut b = app((80, 24));
    drive(
        &mut b,
        keys(&format!("{PATIENT}<PgDn>{FLU}<F8><C-s>MRN-6<F8>")),
    );
    assert_eq!(b.form.visit.patient.get(FieldId::Mrn), "MRN-6");
    assert_eq!(b.form.visit.doses[0].get(FieldId::Vaccine), "140");
}

/// Choosing a vaccine brings back how this station last gave it (amount, route,
/// site), into the fields still empty, and goes past them.
#[test]
fn a_vaccine_comes_with_how_this_station_last_gave_it() {
    let mut a = station_that_gave(&["child-four-doses"]);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>216<Enter>")));
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        [FieldId::Lot, FieldId::Amount, FieldId::Route, FieldId::Site]
            .map(|f| dose.get(f).to_string()),
        ["LK7733", "0.5", "IM", "LT"]
    );
    assert!(
        a.notice.as_deref().unwrap().contains("IM LT as last time"),
        "{:?}",
        a.notice
    );
    // Past what came as last time, to the first field the dose still needs (the
    // optional "Ordered by" is never it).
    assert_eq!(a.form.focus.field, FieldId::Ndc);
    let mut b = station_that_gave(&["adult-flu"]);
    drive(&mut b, keys(&format!("{PATIENT}<PgDn>140<Enter>")));
    assert_eq!(
        b.form.visit.doses[0].get(FieldId::Eligibility),
        "V01",
        "an adult is not VFC eligible"
    );
    assert_eq!(
        b.form.focus.field,
        FieldId::Status,
        "lot, NDC, how, who and the adult's eligibility are filled: nothing is left"
    );
    // Another station keeps its own.
    with_store(|s| s.author.station = "Room 9".into());
    assert!(with_store(|s| s.habits().unwrap()).is_empty());
}

/// The visits of issue 22's table, typed as a nurse would, with the keys counted:
/// every key outside braces counts (birth dates and dates read off a card too); the
/// MRN, names and lots of the free text do not. Each visit is saved in full (lot,
/// amount, route, site, vaccinator, VFC eligibility, funding, VIS; a reason for a
/// dose not given; the date and source of one given elsewhere) and within its
/// target. The scripts and counts are in the README.
#[test]
fn clinic_visits_are_typed_within_their_key_targets() {
    // A configured station's first day: nothing given yet, the lots on hand.
    let mut a = configured_station();
    // A new adult, one flu shot: the lot, its volume and route come from the
    // inventory and CDC's pack, V01 from the age, funding from the station.
    let adult = keys_to_save(
        &mut a,
        "{MRN-5150}<Tab>{Okafor}<Tab>{Ada}<Tab>02031990f<PgDn>140la<C-s>",
        20,
    );
    // A 2-month-old, four doses: the VFC eligibility typed once, by its digit (V02);
    // each site typed; Ctrl+D for the next dose.
    let baby = keys_to_save(
        &mut a,
        "{MRN-7001}<Tab>{Rivera}<Tab>{Mateo}<Tab>09252026m<PgDn>110lt2<C-d>48lt<C-d>216rt<C-d>116<C-s>",
        40,
    );
    // A returning patient's COVID-19 dose: F7 fills the patient and goes on to the
    // dose; the dose number follows the earlier one.
    save_visit(&common::example("unicode-race"));
    a.form.session.habits = with_store(|s| s.habits().unwrap());
    let covid = keys_to_save(&mut a, "{MRN-220045}<F7>309<C-s>", 10);
    // A refusal and a dose from the family's card, for a returning patient: Alt+N and
    // the reason; Ctrl+D, the vaccine, Alt+H and the date on the card, its source.
    save_visit(&common::example("historical"));
    let refusal = keys_to_save(
        &mut a,
        "{MRN-090017}<F7>165<A-n>r<C-d>83<A-h>05012024w<C-s>",
        20,
    );
    // A mass clinic: the first patient's dose is the template; each next patient is
    // their own fields, then PgDn, the site, Ctrl+S.
    keys_to_save(
        &mut a,
        "{MRN-5160}<Tab>{Ito}<Tab>{Kai}<Tab>02031990m<PgDn>140<F8><C-s>",
        20,
    );
    let next = keys_to_save(
        &mut a,
        "{MRN-5151<Tab>Obi<Tab>Ben<Tab>02031991m}<PgDn>ra<C-s>",
        5,
    );
    assert_eq!((adult, baby, covid, refusal, next), (19, 35, 5, 20, 4));

    // The same station warm (the mass clinic ended): how it gave each vaccine today
    // fills the sites too.
    drive(&mut a, keys("<F8>"));
    let warm_adult = keys_to_save(
        &mut a,
        "{MRN-5152}<Tab>{Okafor}<Tab>{Ena}<Tab>02031990f<PgDn>140<C-s>",
        20,
    );
    let warm_baby = keys_to_save(
        &mut a,
        "{MRN-7002}<Tab>{Rivera}<Tab>{Lucia}<Tab>09252026f<PgDn>1102<C-d>48<C-d>216<C-d>116<C-s>",
        40,
    );
    assert_eq!((warm_adult, warm_baby), (17, 29));
}

/// A first-timer with no config and nothing on hand: the first visit types the lot's
/// maker, expiry and volume once, and the vaccinator; the next visit of that vaccine
/// has them all from the inventory and the session.
#[test]
fn a_first_timer_types_the_lot_once() {
    with_store(|s| *s = new_store());
    let mut a = app((80, 24));
    let first = keys_to_save(
        &mut a,
        "{MRN-5150}<Tab>{Okafor}<Tab>{Ada}<Tab>02031990f<PgDn>140{UT8291AA}<Tab>pmc06302027<Tab><Tab>0.5<Enter>la{Jordan Okafor}<C-s>",
        40,
    );
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
    a.form.session.habits = with_store(|s| s.habits().unwrap());
    let second = keys_to_save(
        &mut a,
        "{MRN-5151}<Tab>{Obi}<Tab>{Ben}<Tab>02031991m<PgDn>140<C-s>",
        20,
    );
    assert_eq!((first, second), (37, 17));
}

/// The VIS a station hands out with a combination vaccine is remembered: where CVX 110
/// went with the Multi Pediatric VIS, the next 110 gets it; where it went with one VIS
/// per component (CDC's usual), nothing is filled and CDC's apply.
#[test]
fn a_station_that_hands_out_the_multi_pediatric_vis_gets_it_again() {
    let mut a = station_that_gave(&["child-four-doses"]);
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>110<Enter>")));
    let dose = &a.form.visit.doses[0];
    assert_eq!(
        dose.get(FieldId::Vaccine),
        "110",
        "the code typed, whatever the age"
    );
    assert_eq!(dose.get(FieldId::Amount), "0.5", "as last time");
    assert_eq!(dose.get(FieldId::Vis), "", "CDC's usual");
    let mut a = clinic_station();
    let mut visit = common::example("child-four-doses");
    visit.doses[0].set(FieldId::Vis, "multi");
    save_visit(&visit);
    a.form.session.habits = with_store(|s| s.habits().unwrap());
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>110<Enter>")));
    assert_eq!(a.form.visit.doses[0].get(FieldId::Vis), "multi-pediatric");
}

/// The vaccinator is picked from the clinic's staff: typing part of a name lists
/// them, Enter takes the name as the list writes it and the NPI with it; a name that is
/// on no list stays as typed.
#[test]
fn the_vaccinator_is_picked_from_the_clinics_staff() {
    let settings = vaxentry::config::Config::parse(
        "[source]\nname = \"Harbor Health Clinic\"\n[[clinic.staff]]\nprefix = \"Dr.\"\ngiven = \"Maya\"\nfamily = \"Chen\"\nsuffix = \"MD\"\nnpi = \"1234567893\"\n[[clinic.staff]]\ngiven = \"Dana\"\nfamily = \"Whitfield\"\nsuffix = \"RN\"\n[[clinic.locations]]\nname = \"Harbor Health Annex\"\n",
    )
    .unwrap()
    .bundle_settings();
    let mut a = App::new(common::now(), settings, (80, 24), true);
    drive(
        &mut a,
        keys(&format!("{PATIENT}<PgDn><C-f>Given by<Enter>ma")),
    );
    snap!("staff-picker-80x24", render(&a).backend());
    drive(&mut a, keys("<Enter>"));
    let dose = &a.form.visit.doses[0];
    assert_eq!(dose.get(FieldId::Performer), "Dr. Maya Chen, MD");
    assert_eq!(dose.get(FieldId::PerformerNpi), "1234567893");
    drive(&mut a, keys("<C-f>Ordered<Enter>Kim Osei<Tab>"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Orderer),
        "Kim Osei",
        "not on the list: as typed"
    );
    drive(&mut a, keys("<C-f>Location<Enter>annex<Enter>"));
    assert_eq!(
        a.form.visit.doses[0].get(FieldId::Location),
        "Harbor Health Annex"
    );
}

/// The Lot field picks from the inventory's lots of the dose's vaccine: usable ones
/// first, soonest expiry first, an expired or retired one marked; each fills its own
/// maker, expiry and NDC. A lot typed that is on hand is looked up the same way, and
/// a lot typed over it replaces its facts. An expired or retired lot is an error.
#[test]
fn the_lot_is_picked_from_the_lots_on_hand() {
    with_store(|s| {
        for (lot, expiration, retire) in [
            ("LP1234", "2026-12-31", false),
            ("LP9999", "2027-03-31", false),
            ("OLD111", "2026-10-31", false),
            ("GONE1", "2027-12-31", true),
        ] {
            let entry = vaxentry::store::lots::Lot {
                vaccine: "309".into(),
                lot: lot.into(),
                manufacturer: "PFR".into(),
                expiration: expiration.into(),
                ndc: "59267043001".into(),
                dose_ml: String::new(),
                last_used: common::now().to_utc(),
                retired: false,
            };
            s.add_lot(&entry, common::now()).unwrap();
            if retire {
                s.retire_lot("309", lot, common::now()).unwrap();
            }
        }
    });
    let mut a = app((80, 24));
    a.form.session.inventory = with_store(|s| s.lots(None, true).unwrap());
    drive(&mut a, keys(&format!("{PATIENT}<PgDn>309<Enter>")));
    let dose = |a: &App, f| a.form.visit.doses[0].get(f).to_string();
    assert_eq!(
        dose(&a, FieldId::Lot),
        "LP1234",
        "the usable lot that expires first"
    );
    drive(&mut a, keys("<C-f>Lot number<Enter>1"));
    snap!("lot-picker-80x24", render(&a).backend());
    drive(&mut a, keys("<BS>lp9<Enter>"));
    assert_eq!(
        [FieldId::Lot, FieldId::Manufacturer, FieldId::Expiration].map(|f| dose(&a, f)),
        ["LP9999", "PFR", "2027-03-31"]
    );
    // Typed and left with Tab: looked up all the same; a lot not on hand clears the
    // expiry the lot before brought.
    drive(&mut a, keys("<C-f>Lot number<Enter>lp1234<Tab>"));
    assert_eq!(dose(&a, FieldId::Expiration), "2026-12-31");
    drive(&mut a, keys("<C-f>Lot number<Enter>NEWLOT<Tab>"));
    assert_eq!(
        dose(&a, FieldId::Expiration),
        "",
        "the lot before's expiry is not this lot's"
    );
    // The defect: an expired lot on hand, typed, keeps its facts and is an error.
    drive(&mut a, keys("<C-f>Lot number<Enter>old111<Tab>"));
    assert_eq!(
        [FieldId::Manufacturer, FieldId::Expiration].map(|f| dose(&a, f)),
        ["PFR", "2026-10-31"]
    );
    let expired = a
        .form
        .checks
        .findings
        .iter()
        .find(|f| f.rule == vaxentry::record::Rule::LotNotOnHand)
        .expect("an expired lot is an error");
    assert!(
        expired.message.contains("expired on 2026-10-31"),
        "{}",
        expired.message
    );
}

/// What is on hand comes first in the vaccine picker: with 140 and 135 in the
/// inventory, `flu` for a 70-year-old lists those two before FluMist and the rest;
/// for a 39-year-old, 140 first (135, for 65 and over, after those that fit the age).
#[test]
fn the_vaccine_picker_lists_what_is_on_hand_first() {
    let mut a = app_with_flu_lots(&[("FLU140", "2027-06-30", "")]);
    with_store(|s| {
        let lot = vaxentry::store::lots::Lot {
            vaccine: "135".into(),
            lot: "HD135".into(),
            manufacturer: "PMC".into(),
            expiration: "2027-06-30".into(),
            ndc: String::new(),
            dose_ml: String::new(),
            last_used: common::now().to_utc(),
            retired: false,
        };
        s.add_lot(&lot, common::now()).unwrap();
    });
    a.form.session.inventory = with_store(|s| s.lots(None, false).unwrap());
    let listed = |a: &App| -> Vec<String> {
        a.form
            .picker()
            .unwrap()
            .choices
            .iter()
            .map(|c| c.code.clone())
            .collect()
    };
    drive(
        &mut a,
        keys("MRN-70<Tab>Berg<Tab>Olof<Tab>03/14/1956<Tab>m<Enter><PgDn>flu"),
    );
    let mut older = listed(&a);
    older[..2].sort();
    assert_eq!(older[..2], ["135", "140"], "{older:?}");
    drive(
        &mut a,
        keys("<Esc><PgUp><Tab><Tab><Tab><C-u>03/14/1987<PgDn>flu"),
    );
    let younger = listed(&a);
    assert_eq!(younger[0], "140", "{younger:?}");
    let at = |code: &str| younger.iter().position(|c| c == code).unwrap();
    assert!(at("111") < at("135"), "{younger:?}");
}
