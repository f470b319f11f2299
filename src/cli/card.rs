//! `vaxentry card`: a SMART Health Card of a patient's immunizations held here (or of
//! one visit's), drawn as a QR code in the terminal, written as files with `--out`, or
//! printed as its `shc:/` text; `--jwks` prints the public keys to publish.

use crate::card::key::IssuerKey;
use crate::card::{self, Card, Held, Issuer, qr};
use crate::clock::ClinicTime;
use crate::config::Config;
use crate::store::Store;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// What `vaxentry card` was asked.
pub struct Asked<'a> {
    pub target: Option<&'a str>,
    pub out: Option<&'a Path>,
    pub print: bool,
    pub jwks: bool,
}

pub fn run(store: &Store, config: &Config, asked: &Asked, now: ClinicTime) -> ExitCode {
    match issue_or_publish(store, config, asked, now) {
        Ok(code) => code,
        Err(e) => {
            err!("vaxentry card: {e}");
            ExitCode::from(super::UNREADABLE)
        }
    }
}

fn issue_or_publish(
    store: &Store,
    config: &Config,
    asked: &Asked,
    now: ClinicTime,
) -> Result<ExitCode, String> {
    let url = config
        .card
        .issuer()
        .map_err(|e| e.to_string())?
        .ok_or(card::NO_ISSUER)?;
    if asked.jwks {
        let key = IssuerKey::load_or_make(store.data_dir()).map_err(|e| format!("{e:#}"))?;
        out!("{:#}", key.jwks());
        return Ok(ExitCode::SUCCESS);
    }
    let target = asked
        .target
        .ok_or("give the patient's MRN or a visit's id")?
        .trim();
    let which = match store.patient(target).map_err(|e| e.to_string())? {
        Some(_) => Held::Patient(target.to_string()),
        None => Held::Visit(super::records::find(store, target).map_err(|_| {
            format!("no patient with MRN {target} and no visit with that id is stored here")
        })?),
    };
    let issuer = Issuer {
        url,
        organization: config.bundle_settings().clinic.unwrap_or_default(),
    };
    let card = card::issue_held(store, &which, &issuer, now)?;
    err!("{}", card::described(&card));
    if let Some(dir) = asked.out {
        for written in card::files::write_files(&card, dir, target)? {
            out!("{}", written.display());
        }
    }
    if asked.print {
        out!("{}", card.numeric);
    }
    if asked.out.is_none() && !asked.print {
        draw(&card);
    }
    Ok(ExitCode::SUCCESS)
}

/// The QR code on the terminal, black on white (the colours a camera reads, whatever
/// the terminal's own).
fn draw(card: &Card) {
    let colour = std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout().lock();
    for line in qr::half_blocks(&card.matrix) {
        let _ = match colour {
            true => writeln!(stdout, "\x1b[30;107m{line}\x1b[0m"),
            false => writeln!(stdout, "{line}"),
        };
    }
}
