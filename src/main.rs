use std::process::ExitCode;

use clap::Parser;

/// mimalloc: a run allocates and frees millions of small strings from several threads; glibc's
/// allocator spent a third of the CPU doing it (README, "Dependencies").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    unheard::output::interrupt::install();
    unheard::cli::main_with(unheard::cli::Cli::parse())
}
