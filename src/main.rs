//! The `vaxentry` binary: parses the command line and runs a command or the form.

use clap::Parser;
use std::process::ExitCode;
use vaxentry::cli::{self, Cli};
use vaxentry::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            return ExitCode::from(2);
        }
    };
    if cli.command.is_some() {
        return cli::run(&cli, &config);
    }
    match vaxentry::tui::run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vaxentry: {e:#}");
            ExitCode::FAILURE
        }
    }
}
