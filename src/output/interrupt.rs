//! SIGINT and SIGTERM: the run removes its own staging folder and lock file and exits 130 / 143.
//!
//! [`install`] blocks both signals in every thread and waits for them on a thread of its own
//! (`sigwait`), so no code runs in a signal handler. The commit holds [`cleanup`] while it
//! renames, so a signal never removes a folder that has just become the output.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a signal must remove (a run may hold two outputs: its tables and its state).
#[derive(Debug)]
pub struct Cleanup {
    /// The run's staging folders, until each is committed.
    pub staging: Vec<PathBuf>,
    /// The run's lock files.
    pub lock_files: Vec<PathBuf>,
}

static CLEANUP: Mutex<Cleanup> = Mutex::new(Cleanup { staging: Vec::new(), lock_files: Vec::new() });
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// What the run has committed: [`STATE_KEPT`], [`OUTPUT_COMMITTED`].
static COMMITTED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
/// The run's state was swapped in.
pub(crate) const STATE_KEPT: u8 = 1;
/// The run's output was swapped in.
pub(crate) const OUTPUT_COMMITTED: u8 = 2;

/// Notes that `what` ([`STATE_KEPT`], [`OUTPUT_COMMITTED`]) is done, for a signal's message.
pub(crate) fn committed(what: u8) {
    COMMITTED.fetch_or(what, Ordering::SeqCst);
}

/// The paths a signal removes (held while the commit renames).
pub fn cleanup() -> MutexGuard<'static, Cleanup> {
    CLEANUP.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Handles SIGINT and SIGTERM from now on. Call first in `main`, before any thread starts
/// (threads inherit the blocked signals).
pub fn install() {
    #[cfg(unix)]
    {
        // SAFETY: plain libc calls on a local, initialised signal set
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return;
            }
            set
        };
        let spawned = std::thread::Builder::new().name("signals".to_owned()).spawn(move || loop {
            let mut sig = 0;
            // SAFETY: `set` is initialised and `sig` is a valid out-pointer
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                stop(sig);
            }
        });
        if spawned.is_err() {
            // SAFETY: as above
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}

/// Removes the run's staging folders and lock files and ends the process with 128 + `sig`.
#[cfg(unix)]
fn stop(sig: i32) -> ! {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // waits for a commit in progress, then keeps the lock until the process ends
    let c = cleanup();
    for dir in &c.staging {
        let _ = std::fs::remove_dir_all(dir);
        // the work folder that held it, when nothing else is in it
        if let Some(work) = dir.parent() {
            let _ = std::fs::remove_dir(work);
        }
    }
    for lock in &c.lock_files {
        let _ = std::fs::remove_file(lock);
    }
    let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
    // a signal in the last moments of a run said "stopped" alone, where the state, or the state
    // and the output, had been committed (found by a reader in the twenty-sixth session on issue 9)
    let done = COMMITTED.load(Ordering::SeqCst);
    let said = if done & OUTPUT_COMMITTED != 0 {
        " after the run was committed (its output and state are complete)"
    } else if done & STATE_KEPT != 0 {
        " after the state was kept, before the output was replaced (the next run writes it from the state)"
    } else {
        ""
    };
    eprintln!("unheard: stopped by {name}{said}");
    std::process::exit(128 + sig);
}

/// When a signal is being handled, waits for its thread to end the process (so the main thread
/// does not exit first with another code).
pub fn settle() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}
