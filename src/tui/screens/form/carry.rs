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
    /// Keeps what the visit being left has for the next ones: its last dose's station
    /// fields.
    pub fn remember(&mut self, visit: &Visit) {
        if let Some(last) = visit.doses.last() {
            self.sticky.dose_defaults = carried_values(last, Carry::ToNextVisit);
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
            self.touch();
            self.refresh(now);
        }
    }

    /// The station's defaults into the first dose's empty fields, marked as carried.
    pub(super) fn fill_station_defaults(&mut self) {
        let (Some(dose), Some(notes)) = (self.visit.doses.first_mut(), self.notes.first_mut())
        else {
            return;
        };
        carry_into(dose, notes, &self.session.sticky.station, true);
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
            .filter(|l| l.vaccine == vaccine && !l.retired)
            .filter(|l| l.expiration.is_empty() || l.expiration >= on);
        let lot = usable.next()?.clone();
        let others = usable.count();
        for (field, value) in [
            (FieldId::Lot, lot.lot.clone()),
            (FieldId::Manufacturer, lot.manufacturer.clone()),
            (FieldId::Expiration, lot.expiration.clone()),
            (FieldId::Ndc, crate::codes::ndc::dashed(&lot.ndc)),
        ] {
            self.set_value(page, field, value);
        }
        Some(text::lot_from_inventory(&lot.lot, &lot.expiration, others))
    }

    /// A lot picked or typed that the inventory has: its maker, expiry and NDC go into
    /// the dose, replacing those of a lot typed before. Says what was filled.
    pub(super) fn fill_from_lot(&mut self, typed: &str) -> Option<String> {
        let page = self.focus.page;
        let vaccine = self.value(page, FieldId::Vaccine).to_string();
        let lot = self.session.lot_on_hand(&vaccine, typed)?.clone();
        for (field, value) in [
            (FieldId::Manufacturer, lot.manufacturer.clone()),
            (FieldId::Expiration, lot.expiration.clone()),
            (FieldId::Ndc, crate::codes::ndc::dashed(&lot.ndc)),
        ] {
            self.set_value(page, field, value);
        }
        Some(text::lot_from_inventory(&lot.lot, &lot.expiration, 0))
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
