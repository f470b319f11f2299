//! What carries over: from one dose to the next, from one visit to the next in a
//! session (the station's fields), the station's own defaults (`[station]`), the lots
//! on hand (the one memory of lots: the store's inventory) and how this station gives
//! each vaccine. Each carried value is noted, so a dose that turns out to be historical
//! loses what was carried from this clinic.

use super::{Form, Page};
use crate::clock::ClinicTime;
use crate::record::{Carry, FieldId, Fields, Visit};
use crate::store::habits::Habit;
use crate::store::lots::Lot;
use crate::tui::text;
use std::collections::BTreeSet;

/// What the form knows about a dose besides its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DoseNotes {
    /// Fields filled in from the dose before or the last visit and not typed since.
    pub carried: BTreeSet<FieldId>,
    /// Administered still holds the time the blank dose was made, not one typed: it
    /// becomes the time the dose's first field is typed.
    pub time_is_default: bool,
    /// The time or date given was typed (not the time the dose was begun).
    pub time_typed: bool,
}

/// Values remembered between visits in one session.
#[derive(Clone, Debug, Default)]
pub struct Sticky {
    /// The station's fields (performer, place ...) of the last dose entered.
    pub dose_defaults: Vec<(FieldId, String)>,
    /// The station's defaults (`[station]`), for what a new visit has nothing for.
    pub station: Vec<(FieldId, String)>,
}

/// What the form keeps for the whole session, whatever visit is in it.
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub sticky: Sticky,
    /// The store's lot inventory, retired lots too, soonest expiry first.
    pub inventory: Vec<Lot>,
    /// How this station last gave each vaccine (amount, route, site).
    pub habits: Vec<Habit>,
}

impl Session {
    /// Keeps what the visit being left has for the next ones: the station fields of
    /// its last dose given here, each field keeping what it had before when that dose
    /// has nothing for it (a dose given elsewhere or refused never empties them).
    pub fn remember(&mut self, visit: &Visit) {
        let given_here = visit.doses.iter().rev().find(|d| {
            let ctx = crate::record::values::DoseContext::of(d);
            ctx.given_here && !ctx.not_done && !ctx.in_error
        });
        let Some(last) = given_here else {
            return;
        };
        for (field, value) in carried_values(last, Carry::ToNextVisit) {
            if value.trim().is_empty() {
                continue;
            }
            match self
                .sticky
                .dose_defaults
                .iter_mut()
                .find(|(f, _)| *f == field)
            {
                Some(kept) => kept.1 = value,
                None => self.sticky.dose_defaults.push((field, value)),
            }
        }
    }

    /// The inventory as the lot check reads it.
    pub fn on_hand(&self) -> Vec<crate::record::stock::OnHand> {
        self.inventory.iter().map(Into::into).collect()
    }

    /// The inventory's lot `typed` of vaccine `cvx`, however the lot was typed.
    pub fn lot_on_hand(&self, cvx: &str, typed: &str) -> Option<&Lot> {
        let key = crate::record::identity::lot_key(typed);
        let cvx = crate::codes::table(crate::codes::TableId::Cvx)
            .get(cvx)
            .map(|c| c.code.as_str())?;
        self.inventory
            .iter()
            .find(|l| l.vaccine == cvx && l.lot == key)
    }
}

/// Field labels for a notice: "Given by, Location and Funding".
pub fn labels(fields: &[FieldId]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.spec().label).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The values of the fields that carry over in this way.
pub fn carried_values(from: &Fields, carry: Carry) -> Vec<(FieldId, String)> {
    FieldId::carried(carry)
        .map(|f| (f, from.get(f).to_string()))
        .collect()
}

/// Puts `values` into a new visit's `dose` (with `only_empty`, only where it has
/// nothing), noted as carried rather than typed.
pub fn carry_into(
    dose: &mut Fields,
    notes: &mut DoseNotes,
    values: &[(FieldId, String)],
    only_empty: bool,
) {
    for (field, value) in values {
        if only_empty && !dose.get(*field).trim().is_empty() {
            continue;
        }
        dose.set(*field, value.clone());
        if !value.is_empty() {
            notes.carried.insert(*field);
        }
    }
}

impl Form {
    /// Takes this station's defaults (`[station]`) and fills them into the visit being
    /// started, where it has nothing yet.
    pub fn use_station_defaults(&mut self, defaults: Vec<(FieldId, String)>, now: ClinicTime) {
        self.session.sticky.station = defaults;
        if !self.dirty {
            self.fill_station_defaults();
            self.blank = Some(self.visit.clone());
            self.touch();
            self.refresh(now);
        }
    }

    /// The station's defaults into the first dose's empty fields, marked as carried.
    pub(super) fn fill_station_defaults(&mut self) {
        self.fill_defaults_into(0);
    }

    /// The station's fields of the session, then the station's own defaults, into the
    /// empty fields of dose `i` given here: performer, NPI and place never vanish,
    /// whatever the dose or visit before was.
    pub(super) fn fill_defaults_into(&mut self, i: usize) {
        self.notes
            .resize_with(self.visit.doses.len(), DoseNotes::default);
        let (Some(dose), Some(notes)) = (self.visit.doses.get_mut(i), self.notes.get_mut(i)) else {
            return;
        };
        let ctx = crate::record::values::DoseContext::of(dose);
        if !ctx.given_here || ctx.not_done || ctx.in_error {
            return;
        }
        carry_into(dose, notes, &self.session.sticky.dose_defaults, true);
        carry_into(dose, notes, &self.session.sticky.station, true);
    }

    /// The funding that goes with the VFC eligibility just chosen for dose `i`, by
    /// CDC's links, where the dose's funding is empty or was filled in (not typed) and
    /// does not go with it: VFC stock for a VFC-eligible child, private stock for one
    /// who is not. A funding typed for this dose stays (its check says if it does not
    /// go). Says what it did.
    pub(super) fn funding_follows_eligibility(&mut self, i: usize) -> Option<String> {
        let page = Page::Dose(i);
        let eligibility = crate::codes::table(crate::codes::TableId::Eligibility)
            .get(self.value(page, FieldId::Eligibility))?;
        let funding_table = crate::codes::table(crate::codes::TableId::Funding);
        let current = funding_table.get(self.value(page, FieldId::Funding));
        let typed = current.is_some() && !self.was_filled(i, FieldId::Funding);
        if typed || current.is_some_and(|f| f.eligibility.contains(&eligibility.code)) {
            return None;
        }
        let goes_with = match eligibility.code.as_str() {
            "V01" => "PHC70",
            "V02" | "V03" | "V04" | "V05" => "VXC51",
            _ => return None,
        };
        // The station's own funding, where it goes with this eligibility.
        let station = self
            .session
            .sticky
            .station
            .iter()
            .find(|(f, _)| *f == FieldId::Funding)
            .and_then(|(_, v)| funding_table.get(v))
            .filter(|f| f.eligibility.contains(&eligibility.code));
        let funding = station.map_or(goes_with, |f| f.code.as_str()).to_string();
        self.set_value(page, FieldId::Funding, funding.clone());
        self.mark_filled(i, FieldId::Funding);
        Some(text::funding_follows(&funding, &eligibility.code))
    }

    /// The lots on hand and this station's habits, as the store has them now.
    pub fn stock(&mut self, lots: Vec<Lot>, habits: Vec<Habit>) {
        self.session.inventory = lots;
        self.session.habits = habits;
    }

    /// When a vaccine is chosen, the amount, route and site this station last gave it
    /// with, and for a combination vaccine the VIS it handed out, go into those of the
    /// dose's fields that are empty; says which.
    pub(super) fn fill_habit(&mut self, vaccine: &str) -> Option<String> {
        let habit = self
            .session
            .habits
            .iter()
            .find(|h| h.vaccine == vaccine)?
            .clone();
        let page = self.focus.page;
        let mut filled = Vec::new();
        // CDC's usual VIS need not be named: only another choice (the Multi Pediatric
        // VIS) is filled in.
        let usual: Vec<&str> = crate::codes::vis::usual(vaccine)
            .iter()
            .map(|d| d.key.as_str())
            .collect();
        let vis = match habit.vis == usual.join(", ") {
            true => String::new(),
            false => habit.vis.clone(),
        };
        for (field, value) in [
            (FieldId::Amount, &habit.amount),
            (FieldId::Route, &habit.route),
            (FieldId::Site, &habit.site),
            (FieldId::Vis, &vis),
        ] {
            if !value.is_empty() && self.value(page, field).trim().is_empty() {
                self.set_value(page, field, value.clone());
                filled.push(value.as_str());
            }
        }
        (!filled.is_empty()).then(|| text::as_last_time(&filled.join(" ")))
    }

    /// When a vaccine is chosen for a dose with no lot, reuse the lot of another dose
    /// of that vaccine in this visit, else the lot on hand that expires first (not
    /// expired on the day the dose is given, nor taken off hand).
    pub(super) fn fill_remembered_lot(&mut self, vaccine: &str, now: ClinicTime) -> Option<String> {
        let Page::Dose(i) = self.focus.page else {
            return None;
        };
        let page = self.focus.page;
        if !self.value(page, FieldId::Lot).is_empty() {
            return None;
        }
        let from_this_visit = self.visit.doses.iter().enumerate().find_map(|(j, d)| {
            (j != i && d.get(FieldId::Vaccine) == vaccine && !d.get(FieldId::Lot).is_empty())
                .then(|| carried_values(d, Carry::WithVaccine))
        });
        if let Some(remembered) = from_this_visit {
            for (field, value) in remembered {
                self.set_value(page, field, value);
                self.mark_filled(i, field);
            }
            return Some(text::lot_filled(self.value(page, FieldId::Lot)));
        }
        let on = self
            .age_dates(i, now)
            .map_or(now.date_naive(), |(_, on)| on)
            .to_string();
        let mut usable = self
            .session
            .inventory
            .iter()
            .filter(|l| l.vaccine == vaccine && l.usable_on(&on));
        let lot = usable.next()?.clone();
        let others = usable.count();
        self.set_value(page, FieldId::Lot, lot.lot.clone());
        self.fill_lot_facts(page, &lot);
        // This clinic's stock: a dose switched to given elsewhere loses it.
        for field in [
            FieldId::Lot,
            FieldId::Manufacturer,
            FieldId::Expiration,
            FieldId::Ndc,
            FieldId::Amount,
        ] {
            if !self.value(page, field).is_empty() {
                self.mark_filled(i, field);
            }
        }
        Some(text::lot_from_inventory(&lot.lot, &lot.expiration, others))
    }

    /// A lot picked or typed that the inventory has: its maker, expiry and NDC go into
    /// the dose, replacing those of a lot typed before. Says what was filled.
    pub(super) fn fill_from_lot(&mut self, typed: &str) -> Option<String> {
        let page = self.focus.page;
        let vaccine = self.value(page, FieldId::Vaccine).to_string();
        let lot = self.session.lot_on_hand(&vaccine, typed)?.clone();
        self.fill_lot_facts(page, &lot);
        if let Page::Dose(i) = page {
            self.fill_from_pack(i, &vaccine);
        }
        Some(text::lot_from_inventory(&lot.lot, &lot.expiration, 0))
    }

    /// A lot's maker, expiry and NDC into dose `page`, and its dose volume where the
    /// amount is empty.
    fn fill_lot_facts(&mut self, page: Page, lot: &Lot) {
        for (field, value) in [
            (FieldId::Manufacturer, lot.manufacturer.clone()),
            (FieldId::Expiration, lot.expiration.clone()),
            (FieldId::Ndc, crate::codes::ndc::dashed(&lot.ndc)),
        ] {
            self.set_value(page, field, value);
        }
        if !lot.dose_ml.is_empty() && self.value(page, FieldId::Amount).trim().is_empty() {
            self.set_value(page, FieldId::Amount, lot.dose_ml.clone());
        }
    }

    /// The lot field of dose `page` was left, having held `before`: a lot on hand
    /// fills in its facts; a lot the inventory does not have clears the expiry and NDC
    /// that the lot before brought, since they are not this lot's.
    pub(super) fn lot_left(&mut self, page: Page, before: &str) -> Option<String> {
        let typed = self.value(page, FieldId::Lot).to_string();
        if crate::record::identity::lot_key(&typed) == crate::record::identity::lot_key(before) {
            return None;
        }
        if self.fill_from_lot(&typed).is_some() {
            return Some(text::lot_looked_up(&typed));
        }
        let vaccine = self.value(page, FieldId::Vaccine).to_string();
        let old = self.session.lot_on_hand(&vaccine, before)?.clone();
        let mut cleared = Vec::new();
        for (field, was) in [
            (FieldId::Expiration, old.expiration.clone()),
            (FieldId::Ndc, crate::codes::ndc::dashed(&old.ndc)),
        ] {
            if !was.is_empty() && self.value(page, field).trim() == was {
                self.set_value(page, field, String::new());
                cleared.push(field);
            }
        }
        (!cleared.is_empty()).then(|| text::new_lot_cleared(&typed, &labels(&cleared)))
    }
}
