//! The only writer: CSV rows, charts, HTML report, run manifest.

pub mod charts;
pub mod files;
pub mod manifest;
pub mod tables;
