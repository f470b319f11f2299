//! The code picker of a coded field: it opens when something is typed, filters and
//! ranks the field's codes once per query (vaccines licensed for the patient's age
//! first; the makers of the dose's vaccine first), and takes the chosen code. The
//! vaccinator, orderer and place fields pick the same way from the clinic's lists
//! (`[[clinic.staff]]`, `[[clinic.locations]]`), and keep a name that is in none.

use super::{Form, Overlay, Page};
use crate::clinic::Directory;
use crate::clock::ClinicTime;
use crate::codes::{Code, CodeTable, local_table, products, search, table};
use crate::record::parse::{parse_date, parse_datetime};
use crate::record::values::DoseContext;
use crate::record::{FieldId, Kind};
use crate::tui::reply::Reply;
use chrono::NaiveDate;
use tui_input::Input;

/// The open picker: the codes that match what is typed, best first, the one chosen,
/// and the field's value before the picker opened (Esc gives it back).
#[derive(Clone, Debug)]
pub struct Picker {
    pub choices: Vec<&'static Code>,
    pub selected: usize,
    pub before: String,
}

/// Where the focus goes once a choice is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Tab: the next field.
    NextField,
    /// Enter, or a code typed whole: the next field the dose still needs.
    Needed,
}

/// The clinic's lists the form picks people and places from.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    pub staff: Option<&'static CodeTable>,
    pub places: Option<&'static CodeTable>,
    pub directory: Directory,
}

impl Lists {
    pub fn of(directory: &Directory) -> Lists {
        let staff: Vec<Code> = directory
            .staff
            .iter()
            .map(|s| {
                let npi = s
                    .npi
                    .as_ref()
                    .map_or("no NPI".into(), |n| format!("NPI {n}"));
                Code::plain(&s.shown(), &npi)
            })
            .collect();
        let places: Vec<Code> = directory
            .places
            .iter()
            .map(|p| Code::plain(&p.name, p.identifier.as_deref().unwrap_or("")))
            .collect();
        let made = |name: &str, entries: Vec<Code>| {
            (!entries.is_empty()).then(|| local_table(name, entries))
        };
        Lists {
            staff: made("Staff", staff),
            places: made("Places", places),
            directory: directory.clone(),
        }
    }
}

impl Form {
    /// The table the focused field picks from: its code table, or for the vaccinator,
    /// the orderer and the place, the clinic's list when it has one.
    pub fn picker_table(&self) -> Option<&'static CodeTable> {
        match (self.focus.field, self.focus.field.spec().kind) {
            (_, Kind::Coded(t)) => Some(table(t)),
            (FieldId::Performer | FieldId::Orderer, _) => self.lists.staff,
            (FieldId::Location, _) => self.lists.places,
            (FieldId::Lot, _) => self.lots_table(),
            _ => None,
        }
    }

    /// The lots of the focused dose's vaccine in the inventory, soonest expiry first,
    /// those expired on the dose day or retired after them, marked.
    fn lots_table(&self) -> Option<&'static CodeTable> {
        let Page::Dose(_) = self.focus.page else {
            return None;
        };
        let vaccine = table(crate::codes::TableId::Cvx)
            .get(self.value(self.focus.page, FieldId::Vaccine))?
            .code
            .as_str();
        let on = self.dose_day(self.focus.page).to_string();
        let mut lots: Vec<(bool, Code)> = self
            .session
            .inventory
            .iter()
            .filter(|l| l.vaccine == vaccine)
            .map(|l| {
                let expired = l.expired_on(&on);
                let mark = match (l.retired, expired) {
                    (true, _) => "  taken off hand",
                    (false, true) => "  EXPIRED",
                    (false, false) => "",
                };
                let expires = if l.expiration.is_empty() {
                    "?"
                } else {
                    l.expiration.as_str()
                };
                let mut code =
                    Code::plain(&l.lot, &format!("{} exp {expires}{mark}", l.manufacturer));
                code.active = l.usable_on(&on);
                (!code.active, code)
            })
            .collect();
        if lots.is_empty() {
            return None;
        }
        // Usable lots first, each group soonest expiry first (the inventory's order).
        lots.sort_by_key(|(unusable, _)| *unusable);
        Some(local_table(
            "Lots on hand",
            lots.into_iter().map(|(_, code)| code).collect(),
        ))
    }

    /// The codes the open picker offers, best first (none when it is closed).
    pub fn picker_choices(&self) -> &[&'static Code] {
        self.picker().map_or(&[], |p| p.choices.as_slice())
    }

    /// The focused field's text changed from `before`: a coded field's picker opens,
    /// or follows what is typed; an empty one closes.
    pub(super) fn typed_in_picker(&mut self, before: String, now: ClinicTime) {
        if self.picker_table().is_none() {
            self.overlay = None;
            return;
        }
        let before = match self.overlay.take() {
            Some(Overlay::Picker(open)) => open.before,
            _ => before,
        };
        if self.focus.input.value().is_empty() {
            return;
        }
        let choices = self.rank_choices(now);
        // A name or lot that is in no list is simply typed: no empty list shows.
        let coded = matches!(self.focus.field.spec().kind, Kind::Coded(_));
        if choices.is_empty() && !coded {
            return;
        }
        self.overlay = Some(Overlay::Picker(Picker {
            choices,
            selected: 0,
            before,
        }));
    }

    /// The codes matching what is typed into the focused field, best first: for a
    /// vaccine, the products licensed for the patient's age come first (non-US ones
    /// last for a dose given here); for a manufacturer, the makers of the dose's
    /// vaccine.
    fn rank_choices(&self, now: ClinicTime) -> Vec<&'static Code> {
        let Some(picked_from) = self.picker_table() else {
            return Vec::new();
        };
        let typed = self.focus.input.value();
        let mut choices = search(picked_from, typed);
        if self.focus.field == FieldId::Lot {
            // A lot: those that hold what is typed, in the inventory's order.
            let typed = crate::record::identity::lot_key(typed);
            return picked_from
                .entries
                .iter()
                .filter(|c| c.code.contains(&typed))
                .collect();
        }
        let Kind::Coded(t) = self.focus.field.spec().kind else {
            // A name: only the entries whose words start with each word typed, so a
            // name that is in no list is not taken for a look-alike.
            let words: Vec<String> = crate::clinic::normalized(typed)
                .split(' ')
                .map(str::to_string)
                .collect();
            choices.retain(|c| {
                let theirs = crate::clinic::normalized(&c.code);
                words
                    .iter()
                    .all(|w| theirs.split(' ').any(|t| t.starts_with(w.as_str())))
            });
            return choices;
        };
        let Page::Dose(i) = self.focus.page else {
            return choices;
        };
        match self.focus.field {
            FieldId::Vaccine => {
                let dates = self.age_dates(i, now);
                let given_here = self
                    .visit
                    .doses
                    .get(i)
                    .is_some_and(|d| DoseContext::of(d).given_here);
                // The code typed exactly stays first, whatever the age (its age check
                // says what is wrong); a stable sort: within each group the search's
                // order stays.
                let exact = table(t).get(self.focus.input.value()).map(|c| &c.code);
                // What is on hand is what is given: a vaccine with a usable lot comes
                // before one the clinic does not have.
                let on = self.dose_day(self.focus.page).to_string();
                let on_hand = |cvx: &str| {
                    self.session
                        .inventory
                        .iter()
                        .any(|l| l.vaccine == cvx && l.usable_on(&on))
                };
                choices.sort_by_cached_key(|c| {
                    let fits = dates.is_none_or(|(birth, on)| {
                        products::product(&c.code)
                            .and_then(|p| p.ages)
                            .is_none_or(|a| a.fits(birth, on))
                    });
                    (
                        Some(&c.code) != exact,
                        !fits,
                        !on_hand(&c.code),
                        given_here && c.non_us,
                    )
                });
            }
            FieldId::Manufacturer => {
                let vaccine = self.value(self.focus.page, FieldId::Vaccine);
                if let Some(product) = products::product(vaccine) {
                    choices.sort_by_cached_key(|c| !product.makers.contains(&c.code));
                }
            }
            _ => {}
        }
        choices
    }

    /// The patient's birth date and the day of dose `i` (today when not typed yet).
    pub fn age_dates(&self, i: usize, now: ClinicTime) -> Option<(NaiveDate, NaiveDate)> {
        let today = now.date_naive();
        let birth = parse_date(self.visit.patient.get(FieldId::BirthDate), today).ok()?;
        let on = self
            .visit
            .doses
            .get(i)
            .and_then(|d| parse_datetime(d.get(FieldId::Administered), now).ok())
            .map_or(today, |d| d.date());
        Some((birth, on))
    }

    /// ↓ / ↑ in the picker.
    pub(super) fn picker_step(&mut self, down: bool) -> Reply {
        if let Some(Overlay::Picker(picker)) = self.overlay.as_mut() {
            picker.selected = match down {
                true => (picker.selected + 1).min(picker.choices.len().saturating_sub(1)),
                false => picker.selected.saturating_sub(1),
            };
        }
        Reply::none()
    }

    /// Takes the chosen code (if any) and moves on as `then` says; says what was
    /// filled in besides. After a vaccine the focus goes to the first field the dose
    /// still needs.
    pub(super) fn accept_choice(&mut self, now: ClinicTime, then: Then) {
        let chosen = self
            .picker()
            .and_then(|p| p.choices.get(p.selected))
            .map(|c| c.code.clone());
        if let Some(code) = chosen {
            let (page, field) = (self.focus.page, self.focus.field);
            self.set_value(page, field, code.clone());
            self.changed(field, now);
            if field == FieldId::Lot {
                self.fill_from_lot(&code);
            }
            // A vaccinator from the list brings their NPI.
            if field == FieldId::Performer
                && let Some(npi) = self
                    .lists
                    .directory
                    .staff_named(&code)
                    .and_then(|s| s.npi.clone())
            {
                self.set_value(page, FieldId::PerformerNpi, npi);
                self.changed(FieldId::PerformerNpi, now);
            }
            if let (FieldId::Vaccine, Page::Dose(i)) = (field, page) {
                let mut notices: Vec<String> =
                    [self.fill_remembered_lot(&code, now), self.fill_habit(&code)]
                        .into_iter()
                        .flatten()
                        .collect();
                notices.extend(self.fill_what_the_vaccine_brings(i, &code, now));
                if !notices.is_empty() {
                    self.say(notices.join("; "));
                }
            }
        }
        self.overlay = None;
        // After a vaccine, whatever the key, the focus goes where the dose needs it.
        match then {
            Then::NextField if self.focus.field != FieldId::Vaccine => self.move_field(true, now),
            _ => self.go_on(now),
        }
    }

    /// Esc in the picker: the field gets back the value it had before.
    pub(super) fn cancel_picker(&mut self) {
        let before = match self.overlay.take() {
            Some(Overlay::Picker(picker)) => picker.before,
            other => {
                self.overlay = other;
                return;
            }
        };
        let (page, field) = (self.focus.page, self.focus.field);
        self.set_value(page, field, before.clone());
        self.focus.input = Input::new(before);
    }
}
