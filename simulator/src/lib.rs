//! A local simulator of the skills.video platform API, driven by
//! `specs/openapi.json`, with fault injection.
//!
//! The simulator serves the platform under the path prefix `/api/v1` on a
//! local address, so that the SDK, the CLI and their tests can run the whole
//! generation lifecycle (create over SSE, fall back to polling, fetch the
//! output file) without the network, and can be made to misbehave in every
//! way the tolerant client must survive.
//!
//! # Routes
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /api/v1/generation/sse/{provider}/{model...}` | `200 text/event-stream`: `queued`, `progress`…, then `completed` / `failed` / `canceled` events (see [`sse`]) |
//! | `POST /api/v1/generation/{provider}/{model...}` | `200 {"id","status":"IN_QUEUE","model","created_at"}` |
//! | `GET /api/v1/generation/{id}` | the current `GenerationResponse` |
//! | `GET /api/v1/credits` | `{"credits": <balance>}` |
//! | `GET /api/v1/files/{id}/{name}` | a PNG (`*.png`) or MP4 (`*.mp4`); no auth, like a CDN URL |
//! | `GET/POST /api/v1/_simulator/faults` | the fault plan (a JSON array of [`FaultRule`]); POST replaces it |
//! | `GET /api/v1/_simulator/requests` | the request log (a JSON array of [`RecordedRequest`]) |
//! | `GET /api/v1/_simulator/models` | the models read from the spec |
//! | `GET /api/v1/_simulator/stats` | counters of what faults produced (e.g. bytes of fault poll bodies written) |
//!
//! Every `/api/v1` route but the files needs `Authorization: Bearer <api_key>`
//! (else `401 {"message":"Invalid or missing API key"}`).
//!
//! # Create requests, in order of checks
//!
//! 1. auth (`401`);
//! 2. the model must be in the spec with that route (`404 {"message":"Model not found: ..."}`,
//!    or `404 {"message":"Not Found"}` for a missing twin route);
//! 3. [`Fault::CreateStatus`], then [`Fault::NoSseRoute`];
//! 4. the body must be JSON (`400 {"message":"Invalid JSON body: ..."}`), or
//!    `multipart/form-data` (local files as inputs: text parts typed by the
//!    schema, array fields from repeated parts, each file part hashed and
//!    replaced by `<base>/uploads/<sha256>` and logged as an [`UploadedFile`];
//!    over [`SimulatorConfig::max_upload_bytes`] it is `413`), and valid
//!    against the model's request schema (`422` with a FastAPI
//!    `{"detail": [{"loc": ["body", ...], "msg", "type"}]}`);
//! 5. an `Idempotency-Key` already used by an accepted job returns that job
//!    (no new job, no charge);
//! 6. the balance must cover `cost_per_generation` (`402 {"message":
//!    "Insufficient credits: ... recharge at https://skills.video/dashboard"}`);
//! 7. the job is created and charged; its timeline starts.
//!
//! # Jobs
//!
//! A job's state is a function of the time since its creation (see [`jobs`]):
//! `IN_QUEUE`, then `progress_steps` `IN_PROGRESS` steps, then the terminal
//! state, `step_delay` apart. With a zero `step_delay` a job is complete at
//! once, but its SSE stream still carries every event. No task runs per job.
//! On `COMPLETED`, image models (tag `Images`) have `output.images` and video
//! models (tag `Videos`) `output.videos`, each file with an absolute URL built
//! from the request's `Host` header.
//!
//! # Faults
//!
//! [`Fault`] lists the deviations. Select them with [`SimulatorConfig::faults`],
//! [`RunningSimulator::set_faults`], `POST /api/v1/_simulator/faults`, or per
//! request with the header `X-Simulator-Fault: {"kind":"drop_after_id"}` (one
//! fault or a JSON array). See [`faults`] for when a rule's `times` is spent.
//!
//! # Example
//!
//! ```no_run
//! use skills_video_simulator::{Fault, FaultRule, Simulator, SimulatorConfig};
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let config = SimulatorConfig {
//!     api_key: "test-key".into(),
//!     credits: 10.0,
//!     // The first SSE stream ends right after the event carrying the id.
//!     faults: vec![FaultRule::times(Fault::DropAfterId, 1)],
//!     ..SimulatorConfig::default()
//! };
//! let sim = Simulator::start(config, "127.0.0.1:0".parse()?).await?;
//! println!("base url: {}", sim.base_url()); // http://127.0.0.1:PORT/api/v1
//! // ... point the SDK at sim.base_url() with key "test-key" ...
//! assert_eq!(sim.creates(), 0);
//! sim.set_faults(vec![FaultRule::always(Fault::Outcome { status: "FAILED".into() })
//!     .for_model("google/nano-banana-pro")]);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! From a shell, with the binary:
//!
//! ```text
//! $ skills-video-simulator --api-key k --delay-ms 200
//! listening on http://127.0.0.1:40123/api/v1
//! $ curl -N -H 'Authorization: Bearer k' -H 'X-Simulator-Fault: {"kind":"crlf_only"}' \
//!     -d '{"prompt":"a cat"}' http://127.0.0.1:40123/api/v1/generation/sse/google/nano-banana-pro
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod faults;
pub mod files;
pub mod jobs;
pub mod log;
mod multipart;
mod server;
pub mod spec;
pub mod sse;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::{SimulatorConfig, EMBEDDED_SPEC};
pub use faults::{Fault, FaultRule};
pub use log::{RecordedRequest, RouteKind, UploadedFile};

/// Starts simulators; see [`Simulator::start`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulator;

impl Simulator {
    /// Loads the spec of `config`, binds `addr` (port 0 picks a free port)
    /// and serves in the background on the current tokio runtime.
    ///
    /// Also raises the process's soft open-file limit to its hard limit (best
    /// effort), so that many concurrent streams fit.
    pub async fn start(
        config: SimulatorConfig,
        addr: SocketAddr,
    ) -> anyhow::Result<RunningSimulator> {
        let started = server::start(config, addr).await?;
        Ok(RunningSimulator {
            shared: started.shared,
            addr: started.addr,
            stop: started.stop,
            task: Some(started.task),
        })
    }
}

/// A simulator serving in the background. Dropping it stops the server too
/// (without waiting); [`RunningSimulator::shutdown`] stops it and waits.
pub struct RunningSimulator {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    /// The API base URL, e.g. `http://127.0.0.1:40123/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", server::display_addr(self.addr))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request seen, in order (the newest [`log::MAX_RECORDS`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Number of create requests (SSE or polling route) seen, whatever their
    /// outcome (401, 404, 422, faults and idempotent replays included).
    pub fn creates(&self) -> usize {
        self.shared.creates()
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, faults: Vec<FaultRule>) {
        self.shared.set_faults(faults);
    }

    /// The fault plan as it stands (rules with `times` left).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.faults()
    }

    /// The current balance.
    pub fn credits(&self) -> f64 {
        self.shared.credits()
    }

    /// Number of jobs in the store.
    pub fn job_count(&self) -> usize {
        self.shared.job_count()
    }

    /// The model ids read from the spec, sorted.
    pub fn models(&self) -> Vec<String> {
        self.shared.model_ids()
    }

    /// Stops accepting connections, ends open event streams, and waits (at
    /// most 5 s) for open connections to close.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
