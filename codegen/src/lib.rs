//! Reads `specs/openapi.json` and `specs/docs.json` and emits the typed Rust
//! module that the `skills-video` SDK ships as `sdk/src/generated`.
//!
//! The pipeline has one stage per module:
//! [`load`] (read and normalise) → [`catalog`] (docs.json model list, routes) →
//! [`convert`] (schemas → [`ir`]) → [`emit`] (tokens, formatted) → [`write`]
//! (write or check the files). [`generate`] runs the first four; the `xtask`
//! binary adds the last, and [`diff`] reports what a spec change does to the
//! generated API.

pub mod catalog;
pub mod convert;
pub mod diff;
pub mod emit;
pub mod error;
pub mod inline;
pub mod ir;
pub mod load;
pub mod naming;
pub mod normalize;
pub mod write;

use std::path::Path;

pub use emit::Files;
pub use error::{CodegenError, Result};

/// Time spent in each stage of one generation, for the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    /// Reading, parsing and normalising both specs.
    pub load: std::time::Duration,
    /// The docs.json walk and route pairing.
    pub catalog: std::time::Duration,
    /// Schemas to IR.
    pub ir: std::time::Duration,
    /// Tokens, parsing and formatting (wall time).
    pub emit: std::time::Duration,
    /// Inside emit, summed over files (more than `emit` when files run in parallel).
    pub emit_parts: emit::EmitTimings,
}

/// Runs load, catalog, IR and emit on two spec files and returns the files to write.
pub fn generate(openapi: &Path, docs: &Path) -> Result<Files> {
    generate_timed(openapi, docs).map(|(files, _)| files)
}

/// [`generate`], also returning how long each stage took.
pub fn generate_timed(openapi: &Path, docs: &Path) -> Result<(Files, StageTimings)> {
    let mut timings = StageTimings::default();
    let start = std::time::Instant::now();
    let specs = load::load(openapi, docs)?;
    timings.load = start.elapsed();
    let (files, rest) = generate_from_specs(&specs)?;
    timings.catalog = rest.catalog;
    timings.ir = rest.ir;
    timings.emit = rest.emit;
    timings.emit_parts = rest.emit_parts;
    Ok((files, timings))
}

/// Runs catalog and IR on already-loaded specs (for the change report).
pub fn ir_from_specs(specs: &load::Specs) -> Result<ir::Ir> {
    let catalog = catalog::build(&specs.openapi, &specs.docs)?;
    convert::build(&specs.openapi, &specs.openapi_json, &catalog)
}

/// Runs catalog, IR and emit on already-loaded specs.
pub fn generate_from_specs(specs: &load::Specs) -> Result<(Files, StageTimings)> {
    generate_from_specs_reusing(specs, &|_| None)
}

/// [`generate_timed`], reusing the files already in `out` whose header shows
/// the same input (see [`emit::emit_timed`]): what `cargo xtask codegen` and
/// its `--check` run, so an unchanged or slightly changed spec costs little.
/// [`generate`] always formats everything (the `generated_is_current` test
/// uses it, so a formatter upgrade is still caught).
pub fn generate_reusing(openapi: &Path, docs: &Path, out: &Path) -> Result<(Files, StageTimings)> {
    let mut timings = StageTimings::default();
    let start = std::time::Instant::now();
    let specs = load::load(openapi, docs)?;
    timings.load = start.elapsed();
    let previous = |rel: &str| std::fs::read_to_string(out.join(rel)).ok();
    let (files, rest) = generate_from_specs_reusing(&specs, &previous)?;
    Ok((
        files,
        StageTimings {
            load: timings.load,
            ..rest
        },
    ))
}

/// [`generate_from_specs`] with the previous files to reuse.
pub fn generate_from_specs_reusing(
    specs: &load::Specs,
    previous: &emit::Previous<'_>,
) -> Result<(Files, StageTimings)> {
    let mut timings = StageTimings::default();
    let start = std::time::Instant::now();
    let catalog = catalog::build(&specs.openapi, &specs.docs)?;
    timings.catalog = start.elapsed();
    let start = std::time::Instant::now();
    let ir = convert::build(&specs.openapi, &specs.openapi_json, &catalog)?;
    timings.ir = start.elapsed();
    let start = std::time::Instant::now();
    let (files, parts) = emit::emit_timed(&ir, previous)?;
    timings.emit = start.elapsed();
    timings.emit_parts = parts;
    Ok((files, timings))
}
