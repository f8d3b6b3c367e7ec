//! Integration tests: the binary as a user runs it, and its outputs read back by readers
//! that are not the writer.

mod util;

mod archive;
mod attack;
mod browser;
mod changes;
mod cli;
mod corpus;
mod emerging;
mod fields;
mod ingest;
mod layouts;
mod learned;
mod nightly;
mod out;
mod people;
mod privacy;
mod profile;
mod props;
mod who;
