//! # unheard
//!
//! Who is missing from this conversation? `unheard` reads NHS patient feedback and notes of
//! community conversations, codes each piece of text into themes, breaks the themes down by
//! demographic group and writes Parquet that BI tools open.
//!
//! Data flows one way: [`ingest`] → [`text`] → [`code`] → `people` → [`analyse`] →
//! [`output`], orchestrated by [`pipeline::run`]. [`config`] turns a pipeline file into
//! [`config::Settings`] once; stages see only settings.
//!
//! No two modules import each other. [`record`] (the canonical record, and the few values every
//! stage reads), `table` (a published table as plain data: its columns, their names, types
//! and documentation) and `fingerprints` (the ids a run has seen, in memory and then on disk)
//! import nothing of the crate; [`config`], `files`, [`messages`] and [`text`]
//! (analyzer, redaction) import at most record and files; each stage imports those and the
//! stages before it ([`code`]'s learned model also reads [`evaluate`]'s scores).
//! [`archive`] reads the outputs of many runs back (it imports files and analyse's
//! disclosure control). [`pipeline`] runs the stages in order, `commands` serve the other subcommands from plain
//! requests, and [`cli`] turns arguments into settings and requests.
//!
//! ```no_run
//! use unheard::config::{Overrides, Settings};
//! let overrides = Overrides { inputs: vec!["feedback.csv".into()], out: Some("out/x".into()), ..Overrides::default() };
//! let settings = Settings::from_overrides(&overrides)?;
//! let outcome = unheard::pipeline::run(&settings, &unheard::messages::Messages::silent())?;
//! println!("{} records", outcome.records);
//! # Ok::<(), anyhow::Error>(())
//! ```
#![warn(missing_docs)]

pub mod analyse;
pub mod archive;
pub mod cli;
pub mod code;
pub(crate) mod commands;
pub mod config;
pub mod evaluate;
pub(crate) mod files;
pub(crate) mod fingerprints;
pub mod ingest;
pub mod messages;
pub mod output;
pub(crate) mod people;
pub mod pipeline;
pub mod record;
pub(crate) mod state;
pub(crate) mod synth;
pub(crate) mod table;
pub mod text;
