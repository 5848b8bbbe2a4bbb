//! Errors the generator reports on a bad spec: each names the place (a file, a
//! JSON pointer) and what to do about it. The generator never panics on input.

use std::path::PathBuf;

/// Everything that can go wrong while turning the specs into Rust.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// A spec file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A spec file is not valid JSON, or not a shape the generator can read.
    #[error("{path}: {message}")]
    Parse {
        /// The file that failed to parse.
        path: PathBuf,
        /// What the parser said, with line and column where known.
        message: String,
    },
    /// A `$ref` points at nothing.
    #[error("{pointer}: $ref `{reference}` does not resolve; add the schema under #/components/schemas or fix the reference")]
    MissingRef {
        /// Where the reference stands.
        pointer: String,
        /// The reference text.
        reference: String,
    },
    /// A docs.json page names an operation the OpenAPI document lacks.
    #[error("docs.json {pointer}: page `{page}` has no matching operation in openapi.json; add the path or remove the page")]
    MissingOperation {
        /// Where the page stands in docs.json.
        pointer: String,
        /// The page text, e.g. `POST /generation/google/nano-banana-pro`.
        page: String,
    },
    /// A schema uses a construct the generator cannot map to a Rust type.
    #[error("{pointer}: unsupported schema construct: {what}; {hint}")]
    Unsupported {
        /// Where the schema stands.
        pointer: String,
        /// What was found.
        what: String,
        /// What to do instead.
        hint: String,
    },
    /// Two spec items would produce the same Rust name.
    #[error("name collision: `{name}` is produced by both {first} and {second}; rename one of them in the spec")]
    NameCollision {
        /// The colliding Rust name.
        name: String,
        /// The JSON pointer of the first item.
        first: String,
        /// The JSON pointer of the second item.
        second: String,
    },
    /// An operation lacks something every model route must have.
    #[error("{pointer}: {message}")]
    InvalidOperation {
        /// Where the operation stands.
        pointer: String,
        /// What is missing and what to do.
        message: String,
    },
    /// The generated tokens did not parse as Rust (a generator bug, reported, not panicked).
    #[error("internal error: generated code for {file} is not valid Rust: {message}")]
    Emit {
        /// The output file being produced.
        file: String,
        /// The parser's message.
        message: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = CodegenError> = std::result::Result<T, E>;

/// Escapes one JSON pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
