//! What `--out` may replace, the lock on an output, the commit under kills and signals.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{canonical_csv, canonical_csv_after, manifest, unheard, BIN};

/// Every path under `dir` (dot files included) with its bytes (`None` for a folder).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if p.is_dir() {
                out.insert(rel, None);
                stack.push(p);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// The dot files and folders in `dir` (staging, previous, lock).
fn dot_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    // what is staged is one level down, in the work folder
    if let Ok(work) = std::fs::read_dir(dir.join(".unheard-work")) {
        v.extend(work.map(|e| format!(".unheard-work/{}", e.unwrap().file_name().to_string_lossy())));
    }
    v.sort();
    v
}

/// The number of rows the run at `out` read; panics unless `out` holds a complete run: the
/// marker, every file it lists, and nothing else.
fn complete_run(out: &Path) -> u64 {
    let marker = std::fs::read_to_string(out.join(".unheard-run")).expect("the marker is there");
    let listed: Vec<&str> = marker.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert!(listed.contains(&"manifest.json") && listed.iter().any(|l| l.starts_with("records/")), "{marker}");
    for f in &listed {
        assert!(out.join(f).is_file(), "{f} is listed and present");
    }
    let files = snapshot(out).into_iter().filter(|(_, b)| b.is_some()).count();
    assert_eq!(files, listed.len() + 1, "nothing but the listed files and the marker");
    manifest(out)["counts"]["rows_read"].as_u64().unwrap()
}

fn refused(dir: &Path, args: &[&str], why: &str) {
    let before = snapshot(dir);
    let r = unheard(dir, args);
    assert_eq!(r.code, 2, "{args:?} is refused: {}", r.stderr);
    assert!(r.stderr.contains(why) && r.stderr.contains("nothing was touched"), "{args:?}: {}", r.stderr);
    assert_eq!(snapshot(dir), before, "{args:?} left every byte in place");
}

#[test]
fn out_that_unheard_did_not_write_is_refused_touching_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("data/survey")).unwrap();
    std::fs::write(d.join("data/survey/feedback.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("notes.txt"), "my notes").unwrap();
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/report.docx"), "report").unwrap();
    std::fs::create_dir(d.join("empty")).unwrap();
    let input = "data/survey/feedback.csv";
    for (out, why) in [
        ("data/survey", "holds the input data/survey/feedback.csv"),
        ("data", "holds the input data/survey/feedback.csv"),
        ("notes.txt", "is a file"),
        ("mine", "no .unheard-run marker"),
        ("empty", "no .unheard-run marker"),
        (".", "is the current folder"),
        ("..", "is the current folder or one of its parents"),
    ] {
        refused(d, &["run", "--input", input, "--out", out, "-q"], why);
        refused(d, &["validate", "--input", input, "--out", out], why);
    }
    // the same rule for a pipeline's [run] out
    std::fs::write(d.join("p.toml"), "[run]\nout = \"data\"\n[[source]]\npath = \"data/survey/feedback.csv\"\n")
        .unwrap();
    refused(d, &["run", "p.toml", "-q"], "holds the input");
    std::fs::write(d.join("p.toml"), "[run]\nout = \".\"\n[[source]]\npath = \"data/survey/feedback.csv\"\n").unwrap();
    refused(d, &["run", "p.toml", "-q"], "output .: is the current folder");
    // an earlier run someone added a file to is not replaced either
    assert_eq!(unheard(d, &["run", "--input", input, "--out", "o", "-q"]).code, 0);
    std::fs::write(d.join("o/records/my-notes.txt"), "notes").unwrap();
    refused(
        d,
        &["run", "--input", input, "--out", "o", "-q"],
        "holds records/my-notes.txt, which no unheard run wrote",
    );
}

/// `--out` pointed at a run's state (`--out o.state`, found trying careless flags): the folder
/// passed as "an earlier run's" (unheard wrote it, it has a marker and a manifest) and the
/// archive of every night so far was replaced by one run's outputs. A state and a run's
/// outputs each replace only their own kind; the other way round too (`--state` at a run).
#[test]
fn out_at_a_state_or_state_at_a_run_is_refused_touching_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("f.csv"), canonical_csv(10)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "o", "-q"]).code, 0);
    assert!(d.join("o.state/manifest.json").is_file());
    let state = "is a state (the records nightly runs keep), not a run's outputs";
    refused(d, &["run", "--input", "f.csv", "--out", "o.state", "-q"], state);
    refused(d, &["validate", "--input", "f.csv", "--out", "o.state"], state);
    let run = "is a run's outputs, not a state";
    refused(d, &["run", "--input", "f.csv", "--out", "p", "--state", "o", "-q"], run);
    refused(d, &["validate", "--input", "f.csv", "--out", "p", "--state", "o"], run);
    // each still replaces its own kind
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "o", "-q"]).code, 0);
    // (another output's state: warned, exit 1)
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "p", "--state", "o.state", "-q"]).code, 1);
}

/// `--out` or `--state` where nothing can be made (found trying careless flags: `--out /proc/x`
/// said only "/proc/.x.lock: No such file or directory", twice, under `run "run" failed`).
#[test]
fn out_or_state_where_nothing_can_be_written_says_so_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("f.csv"), canonical_csv(10)).unwrap();
    for (args, role, path) in [
        (vec!["--out", "/proc/unheard-x"], "output", "/proc/unheard-x"),
        (vec!["--out", "/proc/unheard-x/y"], "output", "/proc/unheard-x/y"),
        (vec!["--out", "o", "--state", "/proc/unheard-s"], "state", "/proc/unheard-s"),
    ] {
        let mut a = vec!["run", "--input", "f.csv", "-q", "-q"];
        a.extend(args);
        let r = unheard(d, &a);
        assert_eq!(r.code, 2, "{a:?}: {}", r.stderr);
        let said = format!("{role} {path}: cannot be written there (");
        assert!(
            r.stderr.contains(&said) && r.stderr.contains("choose a folder you can write to"),
            "{a:?}: {}",
            r.stderr
        );
        assert!(r.stderr.starts_with("error: the run failed; nothing was committed"), "{a:?}: {}", r.stderr);
        assert_eq!(r.stderr.matches("(os error").count(), 1, "the cause is said once: {}", r.stderr);
        assert!(!d.join("o").exists(), "{a:?}");
    }
}

#[test]
fn an_earlier_run_is_replaced_and_nothing_is_left_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("b.csv"), canonical_csv_after(10, 24)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0);
    assert_eq!(complete_run(&d.join("o")), 10);
    let v = unheard(d, &["validate", "--input", "b.csv", "--out", "o"]);
    assert!(v.code == 0 && v.stdout.contains("output o: replaces an earlier run"), "{}{}", v.stdout, v.stderr);
    let r = unheard(d, &["run", "--input", "b.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(complete_run(&d.join("o")), 24, "the new run replaced the earlier one");
    assert_eq!(dot_entries(d), Vec::<String>::new(), "no staging, previous or lock file left");
}

/// Starts a run paused at `step` and waits (reading its stderr, no timing) until it is there.
fn paused(dir: &Path, input: &str, step: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(["run", "--input", input, "--out", "o", "-q"])
        .current_dir(dir)
        .env("UNHEARD_TEST_FAULT", format!("pause@{step}"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut seen = String::new();
    let mut reader = BufReader::new(child.stderr.as_mut().unwrap());
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the child paused at {step}: {seen}");
        if line.contains(&format!("unheard: test pause at {step} (pid {pid})")) {
            break;
        }
        seen.push_str(&line);
    }
    child
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signals a child process this test started
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn a_second_run_into_the_same_out_exits_2_naming_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    let mut first = paused(d, "a.csv", "locked");
    let second = unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(second.stderr.contains(&format!("another unheard run (PID {})", first.id())), "{}", second.stderr);
    signal(&first, libc::SIGTERM);
    assert_eq!(first.wait().unwrap().code(), Some(143));
    assert!(!d.join("o").exists() && dot_entries(d).is_empty(), "{:?}", dot_entries(d));
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0, "the lock went with the process");
}

#[test]
fn sigterm_and_sigint_remove_the_staging_folder_and_exit_143_and_130() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("b.csv"), canonical_csv_after(10, 24)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0);
    for (sig, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let mut child = paused(d, "b.csv", "staged");
        assert!(
            dot_entries(d).iter().any(|n| n.starts_with(".unheard-work/o.staging-")),
            "the staging folder is complete and waiting: {:?}",
            dot_entries(d)
        );
        signal(&child, sig);
        assert_eq!(child.wait().unwrap().code(), Some(code));
        assert_eq!(dot_entries(d), Vec::<String>::new(), "staging folder and lock file removed");
        assert_eq!(complete_run(&d.join("o")), 10, "the previous run is untouched");
    }
}

/// Kills a run at `step` (as SIGKILL does), checks the output path then holds a complete run
/// that read `expect` rows, and that the next run tidies everything.
fn killed_at(faults: &str, expect: Option<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("b.csv"), canonical_csv_after(10, 24)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0);
    let status = Command::new(BIN)
        .args(["run", "--input", "b.csv", "--out", "o", "-q"])
        .current_dir(d)
        .env("UNHEARD_TEST_FAULT", faults)
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{faults}: the fault fired");
    match expect {
        Some(rows) => assert_eq!(complete_run(&d.join("o")), rows, "{faults}: a complete run at the path"),
        None => assert!(!d.join("o").exists(), "{faults}: the fallback's moment with no output"),
    }
    assert!(!dot_entries(d).is_empty(), "{faults}: the killed run left something to tidy");
    // a failing run still tidies (and puts back a run left aside) and keeps what is there
    std::fs::write(
        d.join("p.toml"),
        "[run]\nout = \"o\"\n[[source]]\npath = \"a.csv\"\n[source.columns]\nsex = \"Nope\"\n",
    )
    .unwrap();
    assert_eq!(unheard(d, &["run", "p.toml", "-q"]).code, 2);
    assert_eq!(complete_run(&d.join("o")), expect.unwrap_or(10), "{faults}: the next run restored or kept the run");
    assert_eq!(dot_entries(d), Vec::<String>::new(), "{faults}: the next run left no leftovers");
    assert_eq!(unheard(d, &["run", "--input", "b.csv", "--out", "o", "-q"]).code, 0);
    assert_eq!(complete_run(&d.join("o")), 24);
    assert_eq!(dot_entries(d), Vec::<String>::new());
}

#[test]
fn a_kill_at_each_commit_step_leaves_a_complete_run_and_the_next_run_tidies() {
    // the output's steps (`:o`): the state, kept first, has its own (tests/nightly.rs)
    killed_at("kill@locked", Some(10));
    killed_at("kill@staged:o", Some(10));
    killed_at("kill@exchanged:o", Some(24));
    killed_at("no-exchange,kill@staged:o", Some(10));
    killed_at("no-exchange,kill@moved-aside:o", None);
    killed_at("no-exchange,kill@exchanged:o", Some(24));
}

#[test]
fn failing_to_remove_the_previous_run_is_a_warning_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("b.csv"), canonical_csv_after(10, 24)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0);
    let r = Command::new(BIN)
        .args(["run", "--input", "b.csv", "--out", "o"])
        .current_dir(d)
        .env("UNHEARD_TEST_FAULT", "fail@tidy")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: the run was committed to o, but the previous run could not be removed"),
        "{stderr}"
    );
    assert_eq!(complete_run(&d.join("o")), 24);
    assert_eq!(unheard(d, &["run", "--input", "b.csv", "--out", "o", "-q"]).code, 0);
    assert_eq!(dot_entries(d), Vec::<String>::new(), "the next run removed the old run");
}

#[test]
fn threads_beyond_four_per_core_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.csv"), canonical_csv(10)).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "a.csv", "--out", "o", "--threads", "10000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("key `--threads`: 10000 threads is more than 4 × the"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!tmp.path().join("o").exists());
}

/// Places unheard made for itself and then refused every night after, and files of the user's
/// it took over (each found by a reader in the twenty-sixth session on issue 9): an output inside
/// another run's outputs or a state (`--out o.state/archive/extra`, `--out o/records/sub`: the
/// next run into `o` refused it, and a glob over `o/records` read its rows too), a log inside the
/// state, a file of the user's under the lock's name (emptied and removed), and a log named as a
/// script (`--log nightly.sh`: appended to).
#[test]
fn unheard_writes_nothing_inside_its_own_folders_and_takes_over_no_file_of_the_user_s() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("f.csv"), canonical_csv(10)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "o", "-q"]).code, 0);
    for inside in ["o.state/archive/extra", "o/records/sub"] {
        refused(d, &["run", "--input", "f.csv", "--out", inside, "-q"], "a folder unheard writes");
    }
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--log", "o.state/x.log", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("inside the state"), "{}", r.stderr);
    assert!(!d.join("o.state/x.log").exists());
    // the output's next run is not refused
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "o", "-q"]).code, 0);
    std::fs::write(d.join(".p.lock"), "my notes\n").unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "p", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("a file unheard did not write"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(d.join(".p.lock")).unwrap(), "my notes\n", "left as it is");
    std::fs::write(d.join("nightly.sh"), "#!/bin/sh\nunheard run nightly.toml\n").unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "q", "--log", "nightly.sh", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("not a log"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(d.join("nightly.sh")).unwrap(), "#!/bin/sh\nunheard run nightly.toml\n");
    // another program's log is appended to, a rotated one too
    std::fs::write(d.join("cron.log"), "cron: started\n").unwrap();
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "q", "--log", "cron.log", "-q"]).code, 0);
    assert!(std::fs::read_to_string(d.join("cron.log")).unwrap().starts_with("cron: started\n=== "));
    std::fs::write(d.join("nightly.log.1"), "old lines\n").unwrap();
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "q", "--log", "nightly.log.1", "-q"]).code, 0);

    // the ways round these a second reader found: a link into the folder, a script of no
    // extension, a log that is a state's file under another name, a link under the lock's name;
    // and `..` in a path outside it, which was refused
    std::os::unix::fs::symlink(d.join("o/records"), d.join("lr")).unwrap();
    refused(d, &["run", "--input", "f.csv", "--out", "lr/sub", "--no-state", "-q"], "a folder unheard writes");
    assert_eq!(unheard(d, &["run", "--input", "f.csv", "--out", "o/../o2", "--state", "o/../o2.state", "-q"]).code, 0);
    std::fs::write(d.join("unheard-nightly"), "#!/bin/sh\nunheard run\n").unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "q", "--log", "unheard-nightly", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("not a log"), "{}", r.stderr);
    std::fs::hard_link(d.join("o.state/manifest.json"), d.join("hl.log")).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "q", "--log", "hl.log", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("not a log"), "{}", r.stderr);
    std::fs::write(d.join("notes.txt"), "42\n").unwrap();
    std::os::unix::fs::symlink(d.join("notes.txt"), d.join(".r.lock")).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "r", "-q"]);
    assert!(r.code == 2 && r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(d.join("notes.txt")).unwrap(), "42\n");
}

/// A signal in the last moments of a night said "stopped" alone, where the state had been kept
/// (found by a reader in the twenty-sixth session on issue 9): the message now says what was.
#[test]
fn a_signal_after_the_state_is_kept_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.csv"), canonical_csv(10)).unwrap();
    std::fs::write(d.join("b.csv"), canonical_csv_after(10, 24)).unwrap();
    assert_eq!(unheard(d, &["run", "--input", "a.csv", "--out", "o", "-q"]).code, 0);
    let mut child = paused(d, "b.csv", "exchanged:o.state");
    signal(&child, libc::SIGTERM);
    let out = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut rest).unwrap();
    assert_eq!(out.code(), Some(143));
    assert!(rest.contains("stopped by SIGTERM after the state was kept, before the output was replaced"), "{rest}");
    assert_eq!(complete_run(&d.join("o")), 10, "the output is the night before's");
}
