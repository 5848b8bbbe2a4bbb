//! Typed async Rust SDK for the [skills.video](https://skills.video) image and
//! video generation platform.
//!
//! Every model is a typed request and an async function, generated from the
//! platform's specs, on one runtime that creates over SSE, falls back to
//! polling by id, retries only what is safe to retry, and returns only a
//! terminal result:
//!
//! ```no_run
//! # async fn run() -> Result<(), skills_video::Error> {
//! use skills_video::models::{google_nano_banana_pro::AspectRatio, GoogleNanoBananaProRequest};
//! use skills_video::Client;
//!
//! let client = Client::from_env()?; // SKILLS_VIDEO_API_KEY
//! let request = GoogleNanoBananaProRequest::new("a cat in a spacesuit")
//!     .num_images(2)
//!     .aspect_ratio(AspectRatio::V16_9);
//! let generation = client.images().google_nano_banana_pro(request).await?;
//! println!("{:?}", generation.output_urls());
//! # Ok(()) }
//! ```
//!
//! Modules: [`client`] (configuration), [`lifecycle`] (SSE-then-poll),
//! [`retry`], [`error`], [`sse`] (the event-stream parser), [`status`],
//! [`validation`], [`media`] and [`multipart`] (local files as inputs),
//! [`model`] and the generated [`models`] and [`catalog`].

//! # Stability across spec changes
//!
//! Generated request structs and value enums are `#[non_exhaustive]`: a
//! model that gains an optional field or an allowed value is a minor
//! release, not a break. Build requests with `new(...)` and the setters,
//! and give `match`es on value enums a wildcard arm. Server-sent statuses
//! (`schemas::QueueState`, `schemas::PredictionStatus`) keep values this
//! version does not know as `Unknown(text)`.
//!
//! ```compile_fail
//! // A struct literal would break when the spec adds a field, so it does not compile:
//! let _ = skills_video::models::BlackForestLabsKontextRequest {
//!     prompt: "a cat".into(),
//!     n: None,
//!     aspect_ratio: None,
//!     resolution: None,
//!     image_urls: None,
//! };
//! ```
//!
//! ```compile_fail
//! // Neither does a match without a wildcard arm.
//! use skills_video::models::black_forest_labs_kontext::Resolution;
//! fn pixels(r: Resolution) -> u32 {
//!     match r {
//!         Resolution::V1k => 1024,
//!         Resolution::V2k => 2048,
//!         Resolution::V4k => 4096,
//!     }
//! }
//! ```

#![warn(missing_docs)]

/// What most programs need in one `use skills_video::prelude::*;`: the
/// client, its errors and events, local files, and `StreamExt` for
/// `events(...).next()`.
pub mod prelude {
    pub use crate::{Client, Error, ErrorCategory, Event, GenerateOptions, Generation, Media};
    pub use futures::StreamExt;
}

pub mod client;
pub mod credits;
pub mod error;
// Formatted by prettyplease at generation time; rustfmt must not touch it,
// or `cargo xtask codegen --check` would see it as stale.
#[rustfmt::skip]
mod generated;
pub mod generation;
mod id;
mod json_path;
#[cfg(feature = "ledger")]
pub mod ledger;
mod lenient;
pub mod lifecycle;
pub mod media;
pub mod model;
pub mod multipart;
mod request_de;
pub mod retry;
pub mod sse;
pub mod status;
pub mod validation;
mod wire_enum;

pub use client::{ApiKey, Client, ClientBuilder, Config, Images, Videos};
pub use credits::Credits;
pub use error::{Error, ErrorCategory};
pub use generated::catalog;
pub use generated::models;
pub use generated::schemas;
pub use generation::{Generation, SkippedOutput, Source, Usage};
pub use lifecycle::{Event, FallbackReason, GenerateOptions, Mode, Phase, SseMessage};
pub use media::{Media, RequestBody};
pub use model::{Category, FieldInfo, FieldKind, GenerationRequest, ModelDescriptor, WorkflowInfo};
pub use retry::RetryPolicy;
pub use status::Status;
pub use validation::{ValidationErrors, Violation};
