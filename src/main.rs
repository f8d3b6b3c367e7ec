use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    unheard::output::interrupt::install();
    unheard::cli::main_with(unheard::cli::Cli::parse())
}
