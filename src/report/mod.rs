//! The only writer: CSV rows, charts, HTML report, run manifest.

pub mod charts;
pub mod csv_table;
pub mod detrend;
pub mod files;
pub mod horizon;
pub mod hotspots;
pub mod html;
pub mod invariants;
pub mod manifest;
pub mod review;
pub mod run_charts;
pub mod tables;
pub mod verdict;

use crate::metrics::PlanResult;
use crate::scenario::Scenario;
use std::fmt;

/// Why the charts or the report of a run could not be written.
#[derive(Debug)]
pub enum VisualsError {
    /// A chart failed to render (its name and the renderer's error).
    Chart(String, charts::ChartError),
    /// Writing a file into the run folder failed.
    Out(files::OutError),
}

impl fmt::Display for VisualsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VisualsError::Chart(name, e) => write!(f, "chart {name}: {e}"),
            VisualsError::Out(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VisualsError {}

impl From<files::OutError> for VisualsError {
    fn from(e: files::OutError) -> VisualsError {
        VisualsError::Out(e)
    }
}

/// Renders every chart of a run and the HTML report, and writes them into the run folder:
/// `charts/<name>.png`, `charts/<name>.svg` for each chart of [`run_charts::run_chart_specs`],
/// then `report.html`. Each file is written atomically through [`files::RunFolder::write`], so
/// the names land in [`files::RunFolder::written`] for the manifest.
pub fn write_visuals(
    folder: &mut files::RunFolder,
    scn: &Scenario,
    results: &[PlanResult],
    info: &html::ReportInfo,
) -> Result<(), VisualsError> {
    let charts = run_charts::render_run_charts(scn, results)
        .map_err(|(name, e)| VisualsError::Chart(name, e))?;
    for c in &charts {
        folder.write(&format!("charts/{}.png", c.name), &c.rendered.png)?;
        folder.write(&format!("charts/{}.svg", c.name), c.rendered.svg.as_bytes())?;
    }
    let page = html::report_html(scn, results, &charts, info);
    folder.write("report.html", page.as_bytes())?;
    Ok(())
}
