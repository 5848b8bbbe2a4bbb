//! `multipart/form-data` create bodies: local files as inputs.
//!
//! The platform accepts a create as multipart, each file under the field name
//! its schema gives; an array field repeats its name, mixing files and URLs.
//! The simulator turns such a body into the JSON the request schema
//! describes, then validates it like a JSON body:
//!
//! - a text part is converted by the type of its property in the request
//!   schema: `integer`, `number` and `boolean` are parsed (a text that does
//!   not parse stays a string, so validation answers 422 as FastAPI would),
//!   `object` and `array` texts are parsed as JSON, anything else is a string;
//! - an array-typed property collects its repeated parts, in order;
//! - a file part (one with a file name) is hashed with SHA-256 and replaced
//!   by the URL `<base>/uploads/<sha256>` (the simulator does not keep or
//!   serve uploaded bytes), and is recorded in the request log as an
//!   [`UploadedFile`];
//! - the whole body is capped ([`SimulatorConfig::max_upload_bytes`]); over
//!   the cap the create is answered `413`.
//!
//! [`SimulatorConfig::max_upload_bytes`]: crate::SimulatorConfig::max_upload_bytes

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::log::UploadedFile;

/// The JSON kind of a request property, as far as form text conversion needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array(Box<Kind>),
    Any,
}

/// Most `$ref` / combinator levels followed when typing a property.
const MAX_DEPTH: usize = 32;

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..MAX_DEPTH {
        let Some(r) = s.get("$ref").and_then(Value::as_str) else {
            return s;
        };
        let target = r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
            .or_else(|| r.strip_prefix('#').and_then(|p| root.pointer(p)));
        match target {
            Some(t) => s = t,
            None => return s,
        }
    }
    s
}

fn kind_of(schema: &Value, root: &Value, depth: usize) -> Kind {
    if depth > MAX_DEPTH {
        return Kind::Any;
    }
    let schema = resolve(schema, root);
    let named = |t: &str| match t {
        "string" => Some(Kind::String),
        "integer" => Some(Kind::Integer),
        "number" => Some(Kind::Number),
        "boolean" => Some(Kind::Boolean),
        "object" => Some(Kind::Object),
        "array" => Some(Kind::Array(Box::new(
            schema
                .get("items")
                .map_or(Kind::Any, |items| kind_of(items, root, depth + 1)),
        ))),
        _ => None,
    };
    match schema.get("type") {
        Some(Value::String(t)) => {
            if let Some(k) = named(t) {
                return k;
            }
        }
        Some(Value::Array(types)) => {
            if let Some(k) = types.iter().filter_map(Value::as_str).find_map(named) {
                return k;
            }
        }
        _ => {}
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(members)) = schema.get(key) {
            if let Some(k) = members
                .iter()
                .map(|m| kind_of(m, root, depth + 1))
                .find(|k| *k != Kind::Any)
            {
                return k;
            }
        }
    }
    let literal = schema.get("const").filter(|v| !v.is_null()).or_else(|| {
        schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().find(|v| !v.is_null()))
    });
    match literal {
        Some(Value::String(_)) => Kind::String,
        Some(Value::Bool(_)) => Kind::Boolean,
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Kind::Integer,
        Some(Value::Number(_)) => Kind::Number,
        _ => Kind::Any,
    }
}

/// The kind of every property of a (converted, `$defs`-carrying) request
/// schema, following `$ref` and `allOf`.
pub(crate) fn property_kinds(root: &Value) -> HashMap<String, Kind> {
    fn collect(schema: &Value, root: &Value, out: &mut HashMap<String, Kind>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = resolve(schema, root);
        if let Some(Value::Object(props)) = schema.get("properties") {
            for (name, prop) in props {
                out.entry(name.clone())
                    .or_insert_with(|| kind_of(prop, root, 0));
            }
        }
        if let Some(Value::Array(members)) = schema.get("allOf") {
            for m in members {
                collect(m, root, out, depth + 1);
            }
        }
    }
    let mut out = HashMap::new();
    collect(root, root, &mut out, 0);
    out
}

/// A form text converted by its property's kind.
pub(crate) fn convert_text(kind: &Kind, text: &str) -> Value {
    let t = text.trim();
    let parsed = match kind {
        Kind::String => None,
        Kind::Integer => t.parse::<i64>().ok().map(Value::from),
        Kind::Number => t.parse::<i64>().ok().map(Value::from).or_else(|| {
            t.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }),
        Kind::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(Value::Bool(true)),
            "false" | "0" | "no" | "off" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Object | Kind::Array(_) => serde_json::from_str(t).ok(),
        Kind::Any => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

/// Why a multipart body was refused.
#[derive(Debug)]
pub(crate) enum FormError {
    /// Over the upload cap: 413.
    TooLarge(String),
    /// Malformed: 400.
    Bad(String),
}

/// What a multipart body came to.
#[derive(Debug, Default)]
pub(crate) struct ParsedForm {
    /// The body as JSON.
    pub json: Map<String, Value>,
    /// Every file part, in order.
    pub files: Vec<UploadedFile>,
}

/// Whether a request's `Content-Type` is `multipart/form-data`.
pub(crate) fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

fn multer_error(e: axum::extract::multipart::MultipartError) -> FormError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        FormError::TooLarge(e.body_text())
    } else {
        FormError::Bad(format!("Invalid multipart body: {}", e.body_text()))
    }
}

/// Reads a multipart create body, streaming file parts through SHA-256.
/// `uploads_base` is the URL prefix of the uploaded-file URLs. Files seen
/// before an error are still returned (the log records them).
pub(crate) async fn read_form(
    req: Request,
    kinds: &HashMap<String, Kind>,
    max_bytes: u64,
    uploads_base: &str,
) -> (ParsedForm, Result<(), FormError>) {
    let mut parsed = ParsedForm::default();
    let result = read_into(req, kinds, max_bytes, uploads_base, &mut parsed).await;
    (parsed, result)
}

async fn read_into(
    req: Request,
    kinds: &HashMap<String, Kind>,
    max_bytes: u64,
    uploads_base: &str,
    parsed: &mut ParsedForm,
) -> Result<(), FormError> {
    let too_large = || {
        FormError::TooLarge(format!(
            "Request body too large: the upload cap is {max_bytes} bytes"
        ))
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| FormError::Bad(format!("Invalid multipart body: {}", e.body_text())))?;
    let mut total: u64 = 0;
    while let Some(mut field) = form.next_field().await.map_err(multer_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let kind = kinds.get(&name).cloned().unwrap_or(Kind::Any);
        let value = match file_name {
            Some(file_name) => {
                let mut hasher = Sha256::new();
                let mut size: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                    size += chunk.len() as u64;
                    total += chunk.len() as u64;
                    if total > max_bytes {
                        return Err(too_large());
                    }
                    hasher.update(&chunk);
                }
                let sha256 = format!("{:x}", hasher.finalize());
                let url = format!("{uploads_base}/{sha256}");
                parsed.files.push(UploadedFile {
                    field: name.clone(),
                    file_name,
                    content_type,
                    size,
                    sha256,
                });
                Value::String(url)
            }
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                    total += chunk.len() as u64;
                    if total > max_bytes {
                        return Err(too_large());
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8_lossy(&text);
                match &kind {
                    Kind::Array(item) => {
                        // One item per part; a part holding a JSON array adds its items.
                        match serde_json::from_str::<Value>(text.trim()) {
                            Ok(Value::Array(items)) if text.trim_start().starts_with('[') => {
                                let entry = parsed
                                    .json
                                    .entry(name.clone())
                                    .or_insert_with(|| Value::Array(Vec::new()));
                                if let Value::Array(all) = entry {
                                    all.extend(items);
                                }
                                continue;
                            }
                            _ => convert_text(item, &text),
                        }
                    }
                    other => convert_text(other, &text),
                }
            }
        };
        if matches!(kind, Kind::Array(_)) {
            let entry = parsed
                .json
                .entry(name)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(all) = entry {
                all.push(value);
            }
        } else {
            // A repeated scalar field keeps its last value, as form parsers do.
            parsed.json.insert(name, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> Value {
        json!({
            "$ref": "#/$defs/Req",
            "$defs": {
                "Req": {
                    "type": "object",
                    "properties": {
                        "prompt": {"type": "string"},
                        "image_url": {"type": ["string", "null"], "format": "uri"},
                        "image_urls": {"anyOf": [{"type": "array", "items": {"type": "string", "format": "uri"}}, {"type": "null"}]},
                        "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                        "strength": {"type": "number"},
                        "loop": {"type": "boolean"},
                        "size": {"$ref": "#/$defs/Size"},
                        "mode": {"enum": ["fast", "slow"]},
                        "n": {"const": 2}
                    }
                },
                "Size": {"type": "object", "properties": {"w": {"type": "integer"}}}
            }
        })
    }

    #[test]
    fn kinds_follow_refs_and_unions() {
        let k = property_kinds(&root());
        assert_eq!(k["prompt"], Kind::String);
        assert_eq!(k["image_url"], Kind::String);
        assert_eq!(k["image_urls"], Kind::Array(Box::new(Kind::String)));
        assert_eq!(k["seed"], Kind::Integer);
        assert_eq!(k["strength"], Kind::Number);
        assert_eq!(k["loop"], Kind::Boolean);
        assert_eq!(k["size"], Kind::Object);
        assert_eq!(k["mode"], Kind::String);
        assert_eq!(k["n"], Kind::Integer);
    }

    #[test]
    fn texts_convert_by_kind() {
        assert_eq!(convert_text(&Kind::Integer, "42"), json!(42));
        assert_eq!(convert_text(&Kind::Integer, "4.5"), json!("4.5"));
        assert_eq!(convert_text(&Kind::Number, "0.25"), json!(0.25));
        assert_eq!(convert_text(&Kind::Boolean, "true"), json!(true));
        assert_eq!(convert_text(&Kind::Boolean, "maybe"), json!("maybe"));
        assert_eq!(convert_text(&Kind::Object, r#"{"w": 1}"#), json!({"w": 1}));
        assert_eq!(convert_text(&Kind::String, "123"), json!("123"));
    }

    /// A part: name, optional (file name, content type), data.
    type TestPart<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

    fn multipart_request(parts: &[TestPart<'_>]) -> Request {
        let boundary = "XyZbOuNdArY";
        let mut body = Vec::new();
        for (name, file, data) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some((file_name, ct)) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/generation/t/m")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("content-length", body.len())
            .body(axum::body::Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_form_becomes_typed_json_with_hashed_files() {
        let png = crate::files::png_bytes("t/upload.png");
        let req = multipart_request(&[
            ("prompt", None, b"a cat"),
            ("seed", None, b"7"),
            ("loop", None, b"false"),
            ("strength", None, b"0.5"),
            ("size", None, br#"{"w": 3}"#),
            ("image_urls", Some(("a.png", "image/png")), &png),
            ("image_urls", None, b"https://x.test/2.png"),
            ("image_url", Some(("b.png", "image/png")), b"tiny"),
        ]);
        assert!(is_multipart(req.headers()));
        let (parsed, result) = read_form(
            req,
            &property_kinds(&root()),
            1 << 20,
            "http://h/api/v1/uploads",
        )
        .await;
        result.unwrap();
        let sha = format!("{:x}", Sha256::digest(&png));
        let tiny = format!("{:x}", Sha256::digest(b"tiny"));
        assert_eq!(
            Value::Object(parsed.json),
            json!({
                "prompt": "a cat",
                "seed": 7,
                "loop": false,
                "strength": 0.5,
                "size": {"w": 3},
                "image_urls": [format!("http://h/api/v1/uploads/{sha}"), "https://x.test/2.png"],
                "image_url": format!("http://h/api/v1/uploads/{tiny}"),
            })
        );
        assert_eq!(parsed.files.len(), 2);
        assert_eq!(parsed.files[0].field, "image_urls");
        assert_eq!(parsed.files[0].file_name, "a.png");
        assert_eq!(parsed.files[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(parsed.files[0].size, png.len() as u64);
        assert_eq!(parsed.files[0].sha256, sha);
        assert_eq!(parsed.files[1].size, 4);
    }

    #[tokio::test]
    async fn over_the_cap_is_too_large_and_garbage_is_bad() {
        let big = vec![1u8; 4096];
        let req = multipart_request(&[("image_url", Some(("a.png", "image/png")), &big)]);
        let (_, result) = read_form(req, &property_kinds(&root()), 1000, "u").await;
        assert!(matches!(result, Err(FormError::TooLarge(_))), "{result:?}");

        // No Content-Length: the cap is enforced while streaming.
        let mut req = multipart_request(&[("image_url", Some(("a.png", "image/png")), &big)]);
        req.headers_mut().remove("content-length");
        let (parsed, result) = read_form(req, &property_kinds(&root()), 1000, "u").await;
        assert!(matches!(result, Err(FormError::TooLarge(_))), "{result:?}");
        assert!(parsed.files.is_empty());

        let req = axum::http::Request::builder()
            .header("content-type", "multipart/form-data; boundary=zz")
            .body(axum::body::Body::from("not a form"))
            .unwrap();
        let (_, result) = read_form(req, &HashMap::new(), 1000, "u").await;
        assert!(matches!(result, Err(FormError::Bad(_))), "{result:?}");
    }

    /// A one-model spec: prompt, a URI image, an array of URIs, an integer seed.
    fn spec() -> Value {
        let schema = json!({"$ref": "#/components/schemas/Req"});
        let op = |sse: bool| {
            json!({"post": {"tags": ["Videos"], "operationId": if sse { "sse" } else { "poll" },
                "requestBody": {"content": {"application/json": {"schema": schema}}}}})
        };
        json!({
            "openapi": "3.0.3",
            "paths": {
                "/generation/test/img2vid": op(false),
                "/generation/sse/test/img2vid": op(true),
            },
            "components": {"schemas": {"Req": {
                "type": "object",
                "required": ["prompt"],
                "additionalProperties": false,
                "properties": {
                    "prompt": {"type": "string", "minLength": 1},
                    "image_url": {"type": "string", "format": "uri", "nullable": true},
                    "image_urls": {"type": "array", "items": {"type": "string", "format": "uri"}, "maxItems": 3},
                    "seed": {"type": "integer", "nullable": true}
                }
            }}}
        })
    }

    async fn sim(max_upload_bytes: u64) -> crate::RunningSimulator {
        let config = crate::SimulatorConfig {
            api_key: "k".into(),
            spec: spec(),
            max_upload_bytes,
            ..crate::SimulatorConfig::default()
        };
        crate::Simulator::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    }

    fn form(png: &[u8], seed: &str) -> reqwest::multipart::Form {
        reqwest::multipart::Form::new()
            .text("prompt", "a kite")
            .text("seed", seed.to_string())
            .part(
                "image_urls",
                reqwest::multipart::Part::bytes(png.to_vec())
                    .file_name("photo.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
            .text("image_urls", "https://x.test/2.png")
    }

    #[tokio::test]
    async fn the_server_validates_and_logs_multipart_creates() {
        let sim = sim(1 << 20).await;
        let http = reqwest::Client::new();
        let png = crate::files::png_bytes("t/in.png");
        let sha = format!("{:x}", Sha256::digest(&png));
        let url = |sse: bool| {
            format!(
                "{}/generation/{}test/img2vid",
                sim.base_url(),
                if sse { "sse/" } else { "" }
            )
        };
        // Polling route: accepted, the file's URL points at the upload.
        let resp = http
            .post(url(false))
            .bearer_auth("k")
            .multipart(form(&png, "7"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        // SSE route: the stream opens.
        let resp = http
            .post(url(true))
            .bearer_auth("k")
            .multipart(form(&png, "8"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("COMPLETED"));
        // A text that is not an integer fails validation like JSON would.
        let resp = http
            .post(url(false))
            .bearer_auth("k")
            .multipart(form(&png, "seven"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["detail"][0]["loc"], json!(["body", "seed"]));
        // A JSON create is logged as such.
        let resp = http
            .post(url(false))
            .bearer_auth("k")
            .json(&json!({"prompt": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        let log = sim.requests();
        assert_eq!(log.len(), 4);
        for record in &log[..3] {
            assert!(record.multipart);
            assert_eq!(record.files.len(), 1);
            let f = &record.files[0];
            assert_eq!(
                (f.field.as_str(), f.file_name.as_str()),
                ("image_urls", "photo.png")
            );
            assert_eq!(f.content_type.as_deref(), Some("image/png"));
            assert_eq!(f.size, png.len() as u64);
            assert_eq!(f.sha256, sha);
        }
        assert!(!log[3].multipart && log[3].files.is_empty());
        // The log is exposed over HTTP too.
        let shown: Value = http
            .get(format!("{}/_simulator/requests", sim.base_url()))
            .bearer_auth("k")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown[0]["multipart"], true);
        assert_eq!(shown[0]["files"][0]["sha256"], sha);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn an_upload_over_the_cap_is_413() {
        let sim = sim(1024).await;
        let resp = reqwest::Client::new()
            .post(format!("{}/generation/test/img2vid", sim.base_url()))
            .bearer_auth("k")
            .multipart(form(&[0u8; 4096], "1"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413);
        assert_eq!(sim.job_count(), 0);
        let log = sim.requests();
        assert!(log[0].multipart);
        assert_eq!(log[0].status, 413);
        sim.shutdown().await;
    }
}
