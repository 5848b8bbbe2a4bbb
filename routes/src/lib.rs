//! The platform's route and catalog rules, defined once and used by the
//! generator (`skills-video-codegen`), the SDK (`skills-video`) and the
//! simulator (`skills-video-simulator`):
//!
//! - [`route`]: how a model id, its polling create route, its SSE twin and
//!   the `/v1`-prefixed spellings relate.
//! - [`docs`]: which models docs.json lists, and under which category.

#![warn(missing_docs)]

pub mod docs;
pub mod route;

pub use docs::Category;
