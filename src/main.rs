//! The `vaxentry` binary: parses the command line and runs a command or the form.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use std::process::ExitCode;
use vaxentry::cli::{self, Cli};
use vaxentry::clock::Clock;
use vaxentry::config::Config;
use vaxentry::store::data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            return ExitCode::from(2);
        }
    };
    let clock = match config
        .zone()
        .and_then(|zone| Clock::from_env(zone).map_err(anyhow::Error::msg))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            return ExitCode::from(2);
        }
    };
    if cli.command.is_some() {
        for warning in config.warnings() {
            eprintln!("vaxentry: warning: {warning}");
        }
        return cli::run(&cli, &config, clock);
    }
    let opened = data_dir(cli.data_dir.as_deref())
        .and_then(|dir| Ok((vaxentry::cli::open_store(&dir)?, dir)));
    let (mut store, dir) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            return ExitCode::from(2);
        }
    };
    store.author.station = config.clinic.station.clone().unwrap_or_default();
    match vaxentry::tui::run(&config, clock, &mut store, &dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            ExitCode::FAILURE
        }
    }
}
