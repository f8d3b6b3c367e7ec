use std::process::ExitCode;

use clap::Parser;

/// mimalloc: a run allocates and frees millions of small strings from several threads; glibc's
/// allocator spent a third of the CPU doing it (README, "Dependencies").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` (v3's option 15; `libmimalloc-sys` names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // A run frees each batch's memory and allocates the next one's at once: purging freed
    // pages back to the OS made the kernel zero them again on every batch (a quarter of the
    // CPU at 300,000 records). Kept, they are reused; the peak is the same.
    // SAFETY: sets a plain integer option of the allocator; no pointer is involved.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // Transparent huge pages made the kernel zero 2 MiB for every region a thread touched,
    // most of it never used: 4 KiB pages cost 10–15% less CPU at 300,000 records (README).
    // SAFETY: a process attribute; no pointer is involved.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
    unheard::output::interrupt::install();
    // (parsed as given: a path that is not UTF-8 stays the path it is)
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match unheard::cli::Cli::try_parse_from(&args) {
        Ok(cli) => unheard::cli::main_with(cli),
        Err(e) => {
            let said: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            unheard::cli::refused(&e, &said)
        }
    }
}
