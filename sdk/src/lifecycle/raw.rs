//! Any model, in the catalog or not: [`Client::generate_raw`] sends a JSON
//! payload as given (no typed checks) to a model path's routes, on the same
//! lifecycle as the typed calls, with the same guarantees: SSE first, polling
//! by id as the fall-back, one `Idempotency-Key` for every create attempt,
//! and the money rule (a create is repeated only when the platform cannot
//! have accepted it).
//!
//! The lifecycle itself takes a [`Target`]: the model id and its two create
//! routes. A catalog model converts into one without allocating; a raw model
//! path derives its routes (`/generation/sse/{id}` and `/generation/{id}`, the
//! platform's convention), or takes the catalog's when the path names a
//! catalog model.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use futures::Stream;
use serde_json::Value;

use super::{finish, Event, GenerateOptions};
use crate::client::Client;
use crate::error::Error;
use crate::generation::Generation;
use crate::media::RequestBody;
use crate::model::{find_model, model_id_of, ModelDescriptor};

/// What the lifecycle needs to know about the model it creates a job for.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The model id, e.g. `google/nano-banana-pro` (reported in [`Event::Started`]).
    pub(crate) id: &'static str,
    /// The SSE create route relative to the API base, if any.
    pub(crate) sse_route: Option<Cow<'static, str>>,
    /// The polling create route relative to the API base, if any.
    pub(crate) create_route: Option<Cow<'static, str>>,
}

impl From<&'static ModelDescriptor> for Target {
    fn from(model: &'static ModelDescriptor) -> Self {
        Target {
            id: model.id,
            sse_route: model.sse_route.map(Cow::Borrowed),
            create_route: model.create_route.map(Cow::Borrowed),
        }
    }
}

/// Longest model id a raw path may name.
const MAX_MODEL_ID: usize = 200;

/// Distinct raw model ids kept for [`Event::Started`], whose `model` is a
/// `&'static str`: each distinct id is allocated once and kept for the
/// process's life, at most this many (at most `MAX_IDS * MAX_MODEL_ID`
/// bytes). Past the bound, `Started` names [`UNLISTED_MODEL`] instead; the
/// request still goes to the right routes.
const MAX_IDS: usize = 1024;

/// The `Started` model of a raw call once 1,024 distinct raw model ids were seen.
pub const UNLISTED_MODEL: &str = "(raw model)";

fn intern(id: &str) -> &'static str {
    static IDS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut ids = IDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = ids.get(id) {
        return known;
    }
    if ids.len() >= MAX_IDS {
        return UNLISTED_MODEL;
    }
    let kept: &'static str = Box::leak(id.to_owned().into_boxed_str());
    ids.insert(kept);
    kept
}

impl Target {
    /// The target of a model path: `provider/model`, or an endpoint path
    /// (`/generation/provider/model`, `POST /generation/sse/...`, `/v1/...`).
    /// A catalog model keeps its catalog routes; any other gets the
    /// platform's two routes. The id must be path segments of unreserved URL
    /// characters (`A-Z a-z 0-9 - . _ ~`), at least `provider/model`, none of
    /// them `.` or `..`: it becomes the URL path, so nothing else is sent.
    pub(crate) fn raw(model_path: &str) -> Result<Target, Error> {
        if let Some(model) = find_model(model_path) {
            return Ok(Target::from(model));
        }
        let id = model_id_of(model_path);
        check_model_id(model_path, id)?;
        Ok(Target {
            id: intern(id),
            sse_route: Some(Cow::Owned(format!("/generation/sse/{id}"))),
            create_route: Some(Cow::Owned(format!("/generation/{id}"))),
        })
    }
}

fn check_model_id(given: &str, id: &str) -> Result<(), Error> {
    let fail = |why: &str| {
        Err(Error::Config(format!(
            "invalid model path {given:?}: {why} (write provider/model, e.g. acme/new-model, or an endpoint path such as /generation/acme/new-model)"
        )))
    };
    if id.is_empty() {
        return fail("no model named");
    }
    if id.len() > MAX_MODEL_ID {
        return fail(&format!("over {MAX_MODEL_ID} bytes"));
    }
    let segments: Vec<&str> = id.split('/').collect();
    if segments.len() < 2 {
        return fail("it names no provider");
    }
    for segment in segments {
        if segment.is_empty() || segment == "." || segment == ".." {
            return fail("empty, `.` or `..` path segment");
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c)))
        {
            return fail(&format!("{c:?} is not allowed in a model path"));
        }
    }
    Ok(())
}

impl Client {
    /// Runs a generation for any model path with a JSON payload sent as
    /// given: no typed checks, so a model the catalog does not know yet can
    /// be called today. Same lifecycle and guarantees as
    /// [`generate`](Self::generate); the platform's own validation (422)
    /// is the only check.
    pub async fn generate_raw(&self, model_path: &str, body: Value) -> Result<Generation, Error> {
        finish(self.events_raw(model_path, body, GenerateOptions::default())).await
    }

    /// [`generate_raw`](Self::generate_raw) with options and a
    /// [`RequestBody`] (local files are sent as `multipart/form-data`).
    pub async fn generate_raw_body(
        &self,
        model_path: &str,
        body: RequestBody,
        options: GenerateOptions,
    ) -> Result<Generation, Error> {
        finish(self.events_raw_body(model_path, body, options)).await
    }

    /// [`generate_raw`](Self::generate_raw) as a stream of events (the same
    /// events as [`events`](Self::events)).
    pub fn events_raw(
        &self,
        model_path: &str,
        body: Value,
        options: GenerateOptions,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        self.events_raw_body(model_path, RequestBody::json(body), options)
    }

    /// [`events_raw`](Self::events_raw) with a [`RequestBody`].
    pub fn events_raw_body(
        &self,
        model_path: &str,
        body: RequestBody,
        options: GenerateOptions,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        let (target, prepared) = match Target::raw(model_path) {
            Ok(target) => (target, Ok(body)),
            // Refused before anything is sent: the stream's only item is the error.
            Err(e) => (
                Target {
                    id: UNLISTED_MODEL,
                    sse_route: None,
                    create_route: None,
                },
                Err(e),
            ),
        };
        self.lifecycle(target, prepared, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_path_keeps_its_routes_and_a_new_one_gets_the_platforms() {
        let known = Target::raw("POST /generation/sse/google/nano-banana-pro").unwrap();
        assert_eq!(known.id, "google/nano-banana-pro");
        assert!(matches!(known.sse_route, Some(Cow::Borrowed(_))));
        for spelling in [
            "acme/brand-new-model",
            "/generation/acme/brand-new-model",
            "POST /v1/generation/sse/acme/brand-new-model",
        ] {
            let t = Target::raw(spelling).unwrap();
            assert_eq!(t.id, "acme/brand-new-model");
            assert_eq!(
                t.sse_route.as_deref(),
                Some("/generation/sse/acme/brand-new-model")
            );
            assert_eq!(
                t.create_route.as_deref(),
                Some("/generation/acme/brand-new-model")
            );
        }
        // One allocation per distinct id.
        let a = Target::raw("acme/brand-new-model").unwrap().id;
        let b = Target::raw("/generation/acme/brand-new-model").unwrap().id;
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn paths_that_are_not_plain_segments_are_refused() {
        for bad in [
            "",
            "acme",
            "acme/../credits",
            "acme/./x",
            "acme//x",
            "acme/x?y=1",
            "acme/x#f",
            "acme/{id}",
            "acme/x y",
            "acme/caf\u{e9}",
            &format!("acme/{}", "x".repeat(300)),
        ] {
            assert!(matches!(Target::raw(bad), Err(Error::Config(_))), "{bad:?}");
        }
    }
}
