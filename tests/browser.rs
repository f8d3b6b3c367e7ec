//! The report in a real browser (issue 11, part 6): headless Chromium (Debian's package, driven by
//! playwright-core from `tests/browser/report.js`) opens the report of a run whose comments carry
//! `<script>` and `<img onerror>`: no console error, no request leaves the file, no script or image
//! in the page, nothing run, every chart drawn with its marks, the markup shown as text. A
//! screenshot is kept in the target folder (`report-screenshot.png`), and the page printed to PDF
//! beside it (`report-screenshot.pdf`). `.ci/run` installs Chromium
//! and playwright-core; without them the test fails saying how to install them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::project;

/// Where playwright-core is installed: `UNHEARD_NODE_MODULES`, else `target/node` (installed
/// there with npm when missing).
fn node_modules() -> PathBuf {
    let dir = std::env::var_os("UNHEARD_NODE_MODULES").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| project().join("target"), PathBuf::from);
            target.join("node")
        },
        PathBuf::from,
    );
    if !dir.join("node_modules").join("playwright-core").is_dir() {
        let ok = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("playwright-core@1")
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "playwright-core is needed: npm install --prefix {} playwright-core@1 (.ci/run does)",
            dir.display()
        );
    }
    dir.join("node_modules")
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&path).exists(),
        "headless Chromium is needed at {path}: apt-get install chromium (.ci/run does)"
    );
    path
}

#[test]
fn the_report_opens_in_a_browser_draws_every_chart_and_runs_nothing() {
    let (modules, chromium) = (node_modules(), chromium());
    let tmp = tempfile::tempdir().unwrap();
    let csv = crate::util::markup_csv(12);
    std::fs::write(tmp.path().join("f.csv"), csv).unwrap();
    let r = crate::util::run_with_sample_baseline(tmp.path(), "o", &["--no-state", "--change", "c=2025-07-01"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let report = tmp.path().join("o").join("report.html");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| project().join("target"), PathBuf::from);
    std::fs::create_dir_all(&target).unwrap();
    let shot = target.join("report-screenshot.png");
    let out = Command::new("node")
        .arg(project().join("tests/browser/report.js"))
        .arg(&report)
        .arg(&shot)
        .env("NODE_PATH", &modules)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(seen["errors"], serde_json::json!([]), "console errors");
    assert_eq!(seen["requests"], serde_json::json!([]), "requests that leave the file");
    assert_eq!(seen["dialogs"], serde_json::json!([]), "a comment's script ran");
    assert_eq!(
        (seen["scripts"].as_u64(), seen["images"].as_u64()),
        (Some(0), Some(0)),
        "markup from a comment became live"
    );
    let text = seen["text"].as_str().unwrap();
    assert!(
        text.contains("<script>alert(1)</script><img src=x onerror=alert(2)>"),
        "the comment's markup is shown as text"
    );
    let charts = seen["charts"].as_array().unwrap();
    assert!(charts.len() >= 3, "{charts:?}");
    for c in charts {
        let label = c["label"].as_str().unwrap_or_default();
        assert!(!label.is_empty() && c["width"].as_f64().unwrap_or(0.0) > 100.0, "{c}");
        let drawn = c["marks"].as_u64().unwrap_or(0) + c["points"].as_u64().unwrap_or(0);
        assert!(drawn > 0, "chart {label:?} drew nothing");
        if label.starts_with("Representation by ethnicity") {
            // a mark per group of the baseline: Asian and White wrote; Black, Mixed and Other, who
            // did not, are the most missing of all
            assert_eq!(c["marks"].as_u64(), Some(5), "a mark per baseline group");
        }
    }
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000), "the screenshot is kept at {}", shot.display());
    // printed to PDF (print styles): a document of several pages, kept beside the screenshot
    let pdf = std::fs::read(shot.with_extension("pdf")).expect("the report prints to PDF");
    assert!(
        pdf.starts_with(b"%PDF") && pdf.windows(b"/Type /Page".len()).filter(|w| *w == b"/Type /Page").count() >= 2
    );
}
