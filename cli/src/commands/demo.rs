//! `demo`: the whole lifecycle against an in-process simulator on
//! 127.0.0.1: no key, no network. One image over SSE, one through a
//! mid-stream drop and the polling fall-back; both outputs downloaded.

use std::time::Duration;

use serde_json::{json, Value};
use skills_video::catalog::MODELS;
use skills_video::model::find_model;
use skills_video::{Category, Client, GenerateOptions, ModelDescriptor, Source};
use skills_video_simulator::{Fault, FaultRule, Simulator, SimulatorConfig};

use crate::args::DemoArgs;
use crate::download::DownloadPolicy;
use crate::exit::{self, CliError};
use crate::output::Output;
use crate::run::{drive, RunOptions, RunOutcome};

const PROMPT: &str =
    "A minimal product photo of a matte black coffee grinder on a white background";

/// The demo's image model: a real one from the catalog, with an SSE route.
pub fn demo_model() -> Option<&'static ModelDescriptor> {
    find_model("google/nano-banana-pro")
        .filter(|m| m.sse_route.is_some())
        .or_else(|| {
            MODELS
                .iter()
                .copied()
                .find(|m| m.category == Category::Images && m.sse_route.is_some())
        })
}

struct Step {
    title: &'static str,
    outcome: RunOutcome,
    creates: usize,
}

impl Step {
    fn source(&self) -> Option<Source> {
        self.outcome.generation.as_ref().map(|g| g.source())
    }

    fn to_json(&self) -> Value {
        let g = self.outcome.generation.as_ref();
        json!({
            "run": self.title,
            "ok": self.outcome.code == exit::OK,
            "generation_id": g.and_then(|g| g.id()),
            "status": g.map(|g| g.status().as_str().to_string()),
            "source": self.source().map(|s| s.as_str()),
            "fell_back_to_polling": self.outcome.fell_back,
            "create_requests": self.creates,
            "error": self.outcome.error.as_ref().map(|e| e.message.clone()),
            "files": self.outcome.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        })
    }
}

fn fail(out: &Output, message: String) -> u8 {
    let e = CliError {
        category: "unknown".into(),
        message,
        guidance: "The demo needs no key and no network; run it again with -v for details.".into(),
        code: exit::UNKNOWN,
        generation_id: None,
        extra: Default::default(),
    };
    out.error(&e);
    e.code
}

/// Runs the command.
pub async fn run(args: &DemoArgs, out: &Output) -> u8 {
    let Some(model) = demo_model() else {
        return fail(
            out,
            "the catalog has no image model with an SSE route".into(),
        );
    };
    let config = SimulatorConfig {
        step_delay: Duration::from_millis(100),
        // Only the demo's model: the simulator compiles a request validator
        // for every model it serves, seconds for the whole catalog.
        spec: skills_video_simulator::config::embedded_spec_serving(&[model.id]),
        ..SimulatorConfig::default()
    };
    let key = config.api_key.clone();
    let addr = ([127, 0, 0, 1], 0).into();
    let sim = match Simulator::start(config, addr).await {
        Ok(s) => s,
        Err(e) => return fail(out, format!("cannot start the simulator: {e}")),
    };
    let base = sim.base_url();
    out.note(&format!(
        "{} simulator at {base} (in-process: no key, no network)",
        out.paint("skills-video demo:", "1")
    ));
    let client = match Client::builder()
        .api_key(key)
        .base_url(&base)
        .sse_timeout(Duration::from_secs(30))
        .poll_timeout(Duration::from_secs(60))
        .poll_interval(Duration::from_millis(200))
        .build()
    {
        Ok(c) => c,
        Err(e) => return fail(out, format!("cannot build the client: {e}")),
    };
    let body = json!({"prompt": PROMPT});

    let mut steps = Vec::new();
    for (title, prefix, fault) in [
        ("sse", "sse-", None),
        ("fallback", "fallback-", Some(Fault::DropAfterId)),
    ] {
        sim.set_faults(
            fault
                .map(|f| vec![FaultRule::times(f, 1).for_model(model.id)])
                .unwrap_or_default(),
        );
        out.note(&match title {
            "sse" => format!("\n1. {} over SSE", model.id),
            _ => format!(
                "\n2. {} with the stream dropped right after the generation id (fault drop_after_id)",
                model.id
            ),
        });
        let before = sim.creates();
        let events = client.events_json(model, body.clone(), GenerateOptions::default());
        let outcome = drive(
            out,
            events,
            &RunOptions {
                out_dir: Some(&args.out),
                sse_timeout_secs: Some(30.0),
                file_prefix: Some(prefix),
                // The simulator serves its outputs on 127.0.0.1, like its API.
                download: DownloadPolicy {
                    base_url: Some(base.clone()),
                    ..DownloadPolicy::default()
                },
            },
        )
        .await;
        steps.push(Step {
            title,
            outcome,
            creates: sim.creates() - before,
        });
    }
    sim.shutdown().await;

    let ok = steps[0].outcome.code == exit::OK
        && steps[0].source() == Some(Source::Sse)
        && steps[1].outcome.code == exit::OK
        && steps[1].source() == Some(Source::Poll)
        && steps[1].outcome.fell_back
        && steps
            .iter()
            .all(|s| s.creates == 1 && !s.outcome.files.is_empty());

    out.line(&json!({
        "event": "demo",
        "ok": ok,
        "model": model.id,
        "simulator": base,
        "runs": steps.iter().map(Step::to_json).collect::<Vec<_>>(),
    }));
    let mut text = format!("\ndemo summary ({}):", model.id);
    for (i, s) in steps.iter().enumerate() {
        let status = s
            .outcome
            .generation
            .as_ref()
            .map(|g| g.status().as_str().to_string())
            .unwrap_or_else(|| "no result".into());
        let how = match s.title {
            "sse" => "over SSE",
            _ => "stream dropped after the id, then polled by id",
        };
        text.push_str(&format!(
            "\n  {}. {how}: {status}, terminal result delivered by {}; create requests seen by the simulator: {}",
            i + 1,
            s.source().map(|s| s.as_str()).unwrap_or("-"),
            s.creates,
        ));
        for f in &s.outcome.files {
            text.push_str(&format!("\n     file: {}", f.display()));
        }
    }
    text.push_str(&format!(
        "\n{}\nNext, with a real key: export SKILLS_VIDEO_API_KEY=...; skills-video generate {} --prompt \"...\" --out out/",
        if ok {
            "every check passed: one create per job (no double charge), SSE first, polling only as the fall-back"
        } else {
            "SOMETHING DID NOT GO AS EXPECTED (see above)"
        },
        model.id
    ));
    out.summary(&text);
    if ok {
        exit::OK
    } else {
        exit::UNKNOWN
    }
}
