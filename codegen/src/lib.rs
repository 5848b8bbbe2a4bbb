//! Reads `specs/openapi.json` and `specs/docs.json` and emits the typed Rust
//! module that the `skills-video` SDK ships as `sdk/src/generated`.
