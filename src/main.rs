use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    unheard::cli::main_with(unheard::cli::Cli::parse())
}
