//! Stage 1: read `openapi.json` and `docs.json`, normalise, and deserialise
//! into `openapiv3` types. The normalised JSON is kept beside the typed
//! document so later stages can quote schemas and point at places in it.

use std::path::{Path, PathBuf};

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::error::{CodegenError, Result};
use crate::normalize::normalize_document;

/// Both specs, loaded and normalised.
#[derive(Debug, Clone)]
pub struct Specs {
    /// The typed OpenAPI document.
    pub openapi: OpenAPI,
    /// The same document as normalised JSON.
    pub openapi_json: Value,
    /// The Mintlify docs config.
    pub docs: Value,
}

/// Reads and normalises both spec files.
pub fn load(openapi_path: &Path, docs_path: &Path) -> Result<Specs> {
    let openapi = read_json(openapi_path)?;
    let docs = read_json(docs_path)?;
    from_values(openapi, docs, openapi_path)
}

/// Builds [`Specs`] from already-parsed JSON; `origin` names the OpenAPI
/// document in error messages.
pub fn from_values(mut openapi: Value, docs: Value, origin: &Path) -> Result<Specs> {
    normalize_document(&mut openapi);
    let typed: OpenAPI =
        serde_path_to_error::deserialize(&openapi).map_err(|e| CodegenError::Parse {
            path: origin.to_path_buf(),
            message: format!(
                "not an OpenAPI 3.0 document the generator can read at #/{}: {}",
                e.path().to_string().replace('.', "/"),
                e.inner()
            ),
        })?;
    Ok(Specs {
        openapi: typed,
        openapi_json: openapi,
        docs,
    })
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Read {
        path: PathBuf::from(path),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| CodegenError::Parse {
        path: PathBuf::from(path),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    })
}
