//! Issue 18's comparison: oxidecomputer's progenitor and `skills-video-codegen`
//! generating Rust from the same copy of `specs/openapi.json`, in one process,
//! interleaved, N runs each; prints the medians, the ratio and our per-stage
//! figures.
//!
//! progenitor refuses the spec as it is, so the copy gets the edits it needs,
//! applied by code below and listed on every run ([`edit_for_progenitor`]).
//! Our generator runs on the same edited copy (plus `specs/docs.json`).
//!
//! Both sides are timed from the file on disk to formatted Rust text in
//! memory: progenitor as its README's `build.rs` does it (`serde_json` →
//! `Generator::generate_tokens` → `syn::parse2` → `prettyplease::unparse`),
//! ours through `skills_video_codegen::generate_timed` (load → catalog → IR →
//! emit). Nothing is written to disk in the timed part.
//!
//! With `--compile` (or `--compile-rounds N`, default 3), the run then times
//! the clean and the after-an-edit compile of both outputs (see [`compile`]).
//!
//! Run: `cargo xtask bench-codegen --vs-progenitor [--iterations N] [--compile]`, or
//! `CARGO_TARGET_DIR=target/vs-progenitor cargo run --release --manifest-path
//! benches/vs-progenitor/Cargo.toml -- [--iterations N] [--minimize]`.
//! Our generator formats files on rayon's pool: `RAYON_NUM_THREADS=1` runs
//! it on one thread. Every figure is a median of N interleaved runs; the CPU
//! figures sum all threads of the process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

mod compile;

fn main() {
    let mut iterations = 20usize;
    let mut compile_rounds = None;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" | "-n" => {
                iterations = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--iterations takes a number")
            }
            "--root" => root = PathBuf::from(args.next().expect("--root takes a directory")),
            "--compile" => compile_rounds = Some(compile_rounds.unwrap_or(3)),
            "--compile-rounds" => {
                compile_rounds = Some(
                    args.next()
                        .and_then(|v| v.parse::<usize>().ok())
                        .expect("--compile-rounds takes a number")
                        .max(1),
                )
            }
            "--minimize" => {
                minimize(&root.join("specs/openapi.json"));
                return;
            }
            other => {
                eprintln!(
                    "unknown argument {other}; usage: vs-progenitor [--iterations N] [--root DIR] [--compile] [--compile-rounds N] [--minimize]"
                );
                std::process::exit(2);
            }
        }
    }
    let iterations = iterations.max(1);
    let openapi_path = root.join("specs/openapi.json");
    let docs_path = root.join("specs/docs.json");

    // The edited copy, written once; both generators read it from disk.
    let original: Value = serde_json::from_str(
        &std::fs::read_to_string(&openapi_path).expect("specs/openapi.json reads"),
    )
    .expect("specs/openapi.json is JSON");
    let mut edited = original.clone();
    let edits = edit_for_progenitor(&mut edited);
    let dir = std::env::temp_dir().join(format!("vs-progenitor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let copy = dir.join("openapi.json");
    std::fs::write(&copy, serde_json::to_string_pretty(&edited).unwrap()).expect("write the copy");

    println!(
        "edits applied to the copy for progenitor ({}):",
        edits.len()
    );
    for e in &edits {
        println!("  - {e}");
    }
    println!("  (`--minimize` lists which of the removed defaults progenitor strictly rejects)");
    // Ours takes the spec as it is: check that too (outside the timing).
    let unedited = skills_video_codegen::generate(&openapi_path, &docs_path);
    println!(
        "skills-video-codegen on the unedited spec: {}",
        match &unedited {
            Ok(files) => format!("ok ({} files)", files.len()),
            Err(e) => format!("FAILED: {e}"),
        }
    );
    let refused = progenitor_once(&openapi_path);
    println!(
        "progenitor on the unedited spec: {}",
        match &refused {
            Ok(bytes) => format!("ok ({bytes} bytes)"),
            Err(e) => format!("refused: {}", one_line(e)),
        }
    );

    // Warm-up (one of each), which also checks both succeed on the copy.
    let p_bytes = match progenitor_once(&copy) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("progenitor fails on the edited copy: {e}");
            std::process::exit(1);
        }
    };
    let (ours_files, _) =
        skills_video_codegen::generate_timed(&copy, &docs_path).expect("ours generates the copy");
    let o_bytes: usize = ours_files.values().map(String::len).sum();
    println!(
        "output: progenitor 1 file, {p_bytes} bytes; skills-video-codegen {} files, {o_bytes} bytes",
        ours_files.len()
    );

    let mut prog = Vec::with_capacity(iterations);
    let mut ours = Vec::with_capacity(iterations);
    let mut stages = Vec::with_capacity(iterations);
    let (mut prog_cpu, mut ours_cpu) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        // Alternate which goes first, so neither always runs on a warm cache.
        let run_ours = |ours: &mut Vec<Duration>, stages: &mut Vec<_>, cpu: &mut Vec<Duration>| {
            let (start, cpu_start) = (Instant::now(), cpu_time());
            let (files, timings) = skills_video_codegen::generate_timed(&copy, &docs_path)
                .expect("ours generates the copy");
            ours.push(start.elapsed());
            cpu.push(cpu_time().saturating_sub(cpu_start));
            stages.push(timings);
            std::hint::black_box(files);
        };
        let run_prog = |prog: &mut Vec<Duration>, cpu: &mut Vec<Duration>| {
            let (start, cpu_start) = (Instant::now(), cpu_time());
            let bytes = progenitor_once(&copy).expect("progenitor generates the copy");
            prog.push(start.elapsed());
            cpu.push(cpu_time().saturating_sub(cpu_start));
            std::hint::black_box(bytes);
        };
        if i % 2 == 0 {
            run_prog(&mut prog, &mut prog_cpu);
            run_ours(&mut ours, &mut stages, &mut ours_cpu);
        } else {
            run_ours(&mut ours, &mut stages, &mut ours_cpu);
            run_prog(&mut prog, &mut prog_cpu);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let summary = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (pm, pmin, pmax) = summary(&prog);
    let (om, omin, omax) = summary(&ours);
    println!(
        "\n{iterations} interleaved runs each, release={}, {} threads available",
        !cfg!(debug_assertions),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "  progenitor 0.15           median {:8.2} ms   min {:8.2}   max {:8.2}",
        ms(pm),
        ms(pmin),
        ms(pmax)
    );
    println!(
        "  skills-video-codegen       median {:8.2} ms   min {:8.2}   max {:8.2}",
        ms(om),
        ms(omin),
        ms(omax)
    );
    let stage = |f: fn(&skills_video_codegen::StageTimings) -> Duration| {
        summary(&stages.iter().map(f).collect::<Vec<_>>()).0
    };
    println!("    load    median {:8.2} ms", ms(stage(|s| s.load)));
    println!("    catalog median {:8.2} ms", ms(stage(|s| s.catalog)));
    println!("    ir      median {:8.2} ms", ms(stage(|s| s.ir)));
    println!("    emit    median {:8.2} ms (wall)", ms(stage(|s| s.emit)));
    println!(
        "      summed over files: tokens {:.2} ms, syn parse {:.2} ms, prettyplease {:.2} ms",
        ms(stage(|s| s.emit_parts.tokens)),
        ms(stage(|s| s.emit_parts.parse)),
        ms(stage(|s| s.emit_parts.print))
    );
    println!(
        "  ratio (wall): progenitor / ours = {:.2}x (ours is {})",
        ms(pm) / ms(om),
        if om < pm { "faster" } else { "slower" }
    );
    let (pc, oc) = (summary(&prog_cpu).0, summary(&ours_cpu).0);
    println!(
        "  CPU per run (all threads, /proc/self/task/*/schedstat): progenitor median {:.2} ms, ours {:.2} ms; ratio {:.2}x",
        ms(pc),
        ms(oc),
        ms(pc) / ms(oc)
    );
    println!("  load average at the end: {}", load_average());

    if let Some(rounds) = compile_rounds {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/vs-progenitor"));
        let target = if target.is_absolute() {
            target
        } else {
            root.join(target)
        };
        let code = match progenitor_text(&openapi_copy_text(&edited)) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("progenitor fails on the edited copy: {e}");
                std::process::exit(1);
            }
        };
        if let Err(e) = compile::run(&root, &target, &code, &ours_files, rounds) {
            eprintln!("--compile failed: {e}");
            std::process::exit(1);
        }
    }
}

/// The edited copy as text (for the compile part, after the timed part removed its file).
fn openapi_copy_text(edited: &Value) -> String {
    serde_json::to_string_pretty(edited).unwrap_or_default()
}

/// progenitor's formatted output for a spec given as text (as [`progenitor_once`]).
fn progenitor_text(spec: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI = serde_json::from_str(spec).map_err(|e| e.to_string())?;
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| e.to_string())?;
    let ast: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
    Ok(prettyplease::unparse(&ast))
}

/// One progenitor generation, as its README's `build.rs`: parse the document,
/// generate tokens, parse them with `syn` and print them with `prettyplease`.
/// Returns the size of the text.
fn progenitor_once(path: &Path) -> Result<usize, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let spec: openapiv3::OpenAPI = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| format!("not an OpenAPI document progenitor reads: {e}"))?;
    let mut generator = progenitor::Generator::default();
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| e.to_string())?;
    let ast: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
    Ok(prettyplease::unparse(&ast).len())
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    if line.len() > 200 {
        format!("{}…", &line[..line.floor_char_boundary_compat(200)])
    } else {
        line.to_string()
    }
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// CPU time of the whole process so far: the sum of every thread's run time
/// (nanoseconds, first field of `/proc/self/task/*/schedstat`; rayon's idle
/// workers add nothing). Zero where there is no /proc.
fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The edits progenitor needs, applied to `doc`; returns one line per kind of
/// edit with where it was applied.
///
/// 1. One error response type per operation: progenitor requires every error
///    answer (4xx, 5xx, `default`) of an operation to share one body type.
///    Where they differ, each answer whose type is not the most common one
///    is replaced by a copy of itself with the most common type.
/// 2. No `default` on enum-valued request properties (see [`strip_enum_defaults`]).
pub fn edit_for_progenitor(doc: &mut Value) -> Vec<String> {
    let mut edits = Vec::new();
    edits.extend(one_error_type_per_operation(doc));
    edits.extend(strip_enum_defaults(doc));
    edits
}

fn one_error_type_per_operation(doc: &mut Value) -> Vec<String> {
    let components = doc
        .pointer("/components/responses")
        .cloned()
        .unwrap_or(Value::Null);
    // (status, from type, to type) → operations.
    let mut changes: std::collections::BTreeMap<(String, String, String), usize> =
        Default::default();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let errors: Vec<(String, Option<String>, Value)> = responses
                .iter()
                .filter(|(code, _)| {
                    code.starts_with('4') || code.starts_with('5') || code.as_str() == "default"
                })
                .map(|(code, r)| {
                    let resolved = resolve_response(r, &components);
                    (code.clone(), body_type(&resolved), resolved)
                })
                .collect();
            let mut counts: Vec<(Option<String>, usize)> = Vec::new();
            for (_, ty, _) in &errors {
                match counts.iter_mut().find(|(t, _)| t == ty) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((ty.clone(), 1)),
                }
            }
            if counts.len() < 2 {
                continue;
            }
            let majority = counts.iter().max_by_key(|(_, n)| *n).unwrap().0.clone();
            let Some(target) = majority else { continue };
            for (code, ty, mut resolved) in errors {
                if ty.as_deref() == Some(target.as_str()) {
                    continue;
                }
                let schema = json!({ "$ref": format!("#/components/schemas/{target}") });
                let obj = resolved.as_object_mut().unwrap();
                obj.insert(
                    "content".into(),
                    json!({ "application/json": { "schema": schema } }),
                );
                responses.insert(code.clone(), resolved);
                *changes
                    .entry((code, ty.unwrap_or_else(|| "no body".into()), target.clone()))
                    .or_default() += 1;
            }
        }
    }
    changes
        .into_iter()
        .map(|((code, from, to), n)| {
            format!("error type: the {code} answer of {n} operation(s) now returns `{to}` instead of `{from}` (progenitor takes one error type per operation)")
        })
        .collect()
}

fn resolve_response(r: &Value, components: &Value) -> Value {
    match r.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            components.get(name).cloned().unwrap_or_else(|| r.clone())
        }
        None => r.clone(),
    }
}

/// The schema name (or the JSON of an inline schema) of a response's JSON body.
fn body_type(r: &Value) -> Option<String> {
    let content = r.get("content")?.as_object()?;
    let schema = content
        .get("application/json")
        .or_else(|| content.values().next())?
        .get("schema")?;
    Some(match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference.rsplit('/').next().unwrap_or_default().to_string(),
        None => schema.to_string(),
    })
}

/// Removes `default` from every property whose values are an enumeration
/// (`enum`, or `anyOf`/`oneOf` of `const`s, or `allOf` of one `$ref` to an
/// enum schema) in the schemas that request bodies use.
fn strip_enum_defaults(doc: &mut Value) -> Vec<String> {
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let request = request_schemas(doc, &schemas);
    let mut removed: Vec<String> = Vec::new();
    if let Some(all) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in all.iter_mut() {
            if request.contains(name) {
                strip_in(
                    schema,
                    &schemas,
                    &format!("#/components/schemas/{name}"),
                    &mut removed,
                );
            }
        }
    }
    if removed.is_empty() {
        return Vec::new();
    }
    let mut sample: Vec<&str> = removed.iter().map(String::as_str).take(3).collect();
    if removed.len() > 3 {
        sample.push("…");
    }
    vec![format!(
        "`default` removed from {} enum-valued request properties ({})",
        removed.len(),
        sample.join(", ")
    )]
}

fn strip_in(schema: &mut Value, schemas: &Value, at: &str, removed: &mut Vec<String>) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get_mut("properties") {
                for (key, prop) in props.iter_mut() {
                    if let Value::Object(p) = prop {
                        if p.contains_key("default") && is_enum_valued(p, schemas) {
                            p.remove("default");
                            removed.push(format!("{at}/properties/{key}"));
                        }
                    }
                }
            }
            for (k, v) in obj.iter_mut() {
                strip_in(v, schemas, &format!("{at}/{k}"), removed);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                strip_in(v, schemas, &format!("{at}/{i}"), removed);
            }
        }
        _ => {}
    }
}

fn is_enum_valued(p: &Map<String, Value>, schemas: &Value) -> bool {
    if p.contains_key("enum") {
        return true;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = p.get(key) {
            if !alts.is_empty()
                && alts
                    .iter()
                    .all(|a| a.get("const").is_some() || a.get("enum").is_some())
            {
                return true;
            }
        }
    }
    let reference = p
        .get("$ref")
        .or_else(|| {
            p.get("allOf")
                .and_then(|a| a.get(0))
                .and_then(|a| a.get("$ref"))
        })
        .and_then(Value::as_str);
    if let Some(r) = reference {
        let name = r.rsplit('/').next().unwrap_or_default();
        return schemas.get(name).is_some_and(|s| s.get("enum").is_some());
    }
    false
}

fn request_schemas(doc: &Value, schemas: &Value) -> std::collections::BTreeSet<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.push(name.to_string());
                    }
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(body) = op.get("requestBody") {
                    refs(body, &mut todo);
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            if let Some(s) = schemas.get(&name) {
                refs(s, &mut todo);
            }
        }
    }
    seen
}

/// `--minimize`: which of the removed defaults progenitor really rejects
/// (each restored alone on the edited copy); prints the ones it needs gone.
fn minimize(openapi: &Path) {
    let original: Value = serde_json::from_str(&std::fs::read_to_string(openapi).unwrap()).unwrap();
    let mut edited = original.clone();
    one_error_type_per_operation(&mut edited);
    let mut stripped = edited.clone();
    let schemas = edited.pointer("/components/schemas").cloned().unwrap();
    let request = request_schemas(&edited, &schemas);
    let mut removed = Vec::new();
    for (name, schema) in stripped
        .pointer_mut("/components/schemas")
        .unwrap()
        .as_object_mut()
        .unwrap()
    {
        if request.contains(name) {
            strip_in(
                schema,
                &schemas,
                &format!("/components/schemas/{name}"),
                &mut removed,
            );
        }
    }
    let dir = std::env::temp_dir().join(format!("vs-progenitor-min-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("openapi.json");
    let mut needed = Vec::new();
    for at in &removed {
        let mut trial = stripped.clone();
        let default = edited.pointer(&format!("{at}/default")).cloned().unwrap();
        trial
            .pointer_mut(at)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("default".into(), default.clone());
        std::fs::write(&copy, serde_json::to_string(&trial).unwrap()).unwrap();
        if progenitor_once(&copy).is_err() {
            let prop = edited.pointer(at).unwrap();
            println!("needed: {at} default={default} {}", prop);
            needed.push(at.clone());
        }
    }
    println!("{} of {} removals needed", needed.len(), removed.len());
    let _ = std::fs::remove_dir_all(&dir);
}
