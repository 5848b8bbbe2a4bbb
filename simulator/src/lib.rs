//! A local simulator of the skills.video platform API, driven by `specs/openapi.json`.
