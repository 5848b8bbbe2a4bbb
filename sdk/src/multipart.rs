//! Encodes a [`RequestBody`] with local files as `multipart/form-data`.
//!
//! Each top-level key of the JSON object becomes parts named after it:
//! `null` is skipped; a string is a text part (a local file's placeholder is
//! a file part); a number or boolean is a text part with its JSON text; an
//! array is one part per item under the same name (files as file parts,
//! strings as text, objects and arrays as JSON text); an object is JSON text.
//!
//! File parts are streamed from disk with their length declared (the whole
//! body has a `Content-Length`), named after the file, with a content type
//! guessed from the extension. A file that is missing, not a regular file, or
//! over the upload cap is an [`Error::InvalidRequest`] naming the field and
//! the path; [`check`] finds it before any request is sent, and [`form`]
//! checks again each time it reopens the files (once per create attempt).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::error::Error;
use crate::media::{FileSlot, Media, RequestBody};
use crate::validation::{ValidationErrors, Violation};

/// The default cap on one uploaded file: 512 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// One planned part.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannedPart {
    /// A text part.
    Text {
        /// The part name (the field).
        name: String,
        /// Its text.
        value: String,
    },
    /// A file part.
    File {
        /// The part name (the field).
        name: String,
        /// Where the file sits in the request (for errors).
        slot: FileSlot,
        /// The file.
        media: Media,
        /// The file name sent.
        file_name: String,
        /// The content type sent.
        content_type: String,
        /// Its length in bytes, as checked.
        len: u64,
    },
}

impl PlannedPart {
    /// The part's name.
    pub fn name(&self) -> &str {
        match self {
            PlannedPart::Text { name, .. } | PlannedPart::File { name, .. } => name,
        }
    }
}

fn invalid(model: &str, slot: &FileSlot, message: String) -> Error {
    Error::InvalidRequest {
        model: model.to_string(),
        errors: ValidationErrors {
            violations: vec![Violation {
                field: slot.to_string(),
                rule: "file",
                message,
            }],
        },
    }
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
}

/// The length of a local media, checked: present, a regular file, within the cap.
fn checked_len(model: &str, slot: &FileSlot, media: &Media, max: u64) -> Result<u64, Error> {
    let len = match (media.in_memory(), media.path()) {
        (Some(bytes), _) => bytes.len() as u64,
        (None, Some(path)) => {
            let meta = std::fs::metadata(path).map_err(|e| {
                let what = if e.kind() == std::io::ErrorKind::NotFound {
                    "does not exist".to_string()
                } else {
                    format!("cannot be read ({e})")
                };
                invalid(model, slot, format!("local file {} {what}", path.display()))
            })?;
            if !meta.is_file() {
                return Err(invalid(
                    model,
                    slot,
                    format!("local file {} is not a regular file", path.display()),
                ));
            }
            meta.len()
        }
        (None, None) => return Ok(0),
    };
    if len > max {
        let what = media
            .path()
            .map(|p| format!("local file {}", p.display()))
            .unwrap_or_else(|| format!("in-memory file {}", media.file_name().unwrap_or_default()));
        return Err(invalid(
            model,
            slot,
            format!(
                "{what} is {} ({len} bytes), over the upload cap of {} ({max} bytes; ClientBuilder::max_upload_bytes)",
                mib(len),
                mib(max)
            ),
        ));
    }
    Ok(len)
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The parts of a body, in order, with every local file checked (exists, is a
/// regular file, within `max_upload_bytes`). `model` names the model in errors.
pub fn plan(
    body: &RequestBody,
    model: &str,
    max_upload_bytes: u64,
) -> Result<Vec<PlannedPart>, Error> {
    let mut parts = Vec::new();
    let Value::Object(map) = body.as_json() else {
        return Err(Error::Config(
            "a multipart request body must be a JSON object".into(),
        ));
    };
    let file_part = |name: &str, slot: FileSlot, media: &Media| -> Result<PlannedPart, Error> {
        let len = checked_len(model, &slot, media, max_upload_bytes)?;
        Ok(PlannedPart::File {
            name: name.to_string(),
            slot,
            media: media.clone(),
            file_name: media.file_name().unwrap_or_else(|| "file".into()),
            content_type: media
                .content_type()
                .unwrap_or_else(|| "application/octet-stream".into()),
            len,
        })
    };
    for (name, value) in map {
        match value {
            Value::Null => {}
            Value::String(s) => match body.media_of(s) {
                Some(media) => parts.push(file_part(
                    name,
                    FileSlot {
                        field: name.clone(),
                        index: None,
                    },
                    media,
                )?),
                None => parts.push(PlannedPart::Text {
                    name: name.clone(),
                    value: s.clone(),
                }),
            },
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().and_then(|s| body.media_of(s)) {
                        Some(media) => parts.push(file_part(
                            name,
                            FileSlot {
                                field: name.clone(),
                                index: Some(i),
                            },
                            media,
                        )?),
                        None => parts.push(PlannedPart::Text {
                            name: name.clone(),
                            value: json_text(item),
                        }),
                    }
                }
            }
            other => parts.push(PlannedPart::Text {
                name: name.clone(),
                value: other.to_string(),
            }),
        }
    }
    Ok(parts)
}

/// Checks every local file of a body before any request is sent.
pub fn check(body: &RequestBody, model: &str, max_upload_bytes: u64) -> Result<(), Error> {
    plan(body, model, max_upload_bytes).map(drop)
}

/// Tracks whether every file part of a form was handed to the connection
/// whole. While one was not, the body is incomplete, so the platform cannot
/// have accepted the create: a send error then is safe to retry.
#[derive(Debug, Clone, Default)]
pub struct UploadProgress {
    pending: Arc<AtomicUsize>,
}

impl UploadProgress {
    /// Whether every file part was read to its end by the HTTP client.
    pub fn is_complete(&self) -> bool {
        self.pending.load(Ordering::SeqCst) == 0
    }

    /// A body streaming `chunks`, counted done when it ends.
    fn track<S>(&self, chunks: S) -> reqwest::Body
    where
        S: futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let pending = Arc::clone(&self.pending);
        reqwest::Body::wrap_stream(async_stream::stream! {
            let mut chunks = std::pin::pin!(chunks);
            while let Some(chunk) = chunks.next().await {
                yield chunk;
            }
            pending.fetch_sub(1, Ordering::SeqCst);
        })
    }
}

/// Builds the multipart form, opening (again) every local file and streaming
/// it. Called once per create attempt.
pub async fn form(body: &RequestBody, model: &str, max_upload_bytes: u64) -> Result<Form, Error> {
    form_tracked(body, model, max_upload_bytes)
        .await
        .map(|(form, _)| form)
}

/// [`form`], with the progress of its file parts.
pub async fn form_tracked(
    body: &RequestBody,
    model: &str,
    max_upload_bytes: u64,
) -> Result<(Form, UploadProgress), Error> {
    let progress = UploadProgress::default();
    let mut form = Form::new();
    for part in plan(body, model, max_upload_bytes)? {
        match part {
            PlannedPart::Text { name, value } => form = form.text(name, value),
            PlannedPart::File {
                name,
                slot,
                media,
                file_name,
                content_type,
                len,
            } => {
                let data = match (media.in_memory(), media.path()) {
                    (Some(bytes), _) => {
                        let bytes = bytes.clone();
                        progress.track(futures::stream::once(async move { Ok(bytes) }))
                    }
                    (None, Some(path)) => {
                        let file = tokio::fs::File::open(path).await.map_err(|e| {
                            invalid(
                                model,
                                &slot,
                                format!("local file {} cannot be opened ({e})", path.display()),
                            )
                        })?;
                        // Never more than the length declared, even if the file grows.
                        let reader = file.take(len);
                        progress.track(tokio_util::io::ReaderStream::new(reader))
                    }
                    (None, None) => reqwest::Body::from(Vec::new()),
                };
                let part = Part::stream_with_length(data, len)
                    .file_name(file_name)
                    .mime_str(&content_type)
                    .map_err(|e| {
                        invalid(
                            model,
                            &slot,
                            format!("content type {content_type:?} is not valid ({e})"),
                        )
                    })?;
                form = form.part(name, part);
            }
        }
    }
    Ok((form, progress))
}

/// Attaches a body to a create request: JSON when it has no local file, else
/// a freshly built multipart form and its upload progress.
pub(crate) async fn attach(
    request: reqwest::RequestBuilder,
    body: &RequestBody,
    model: &str,
    max_upload_bytes: u64,
) -> Result<(reqwest::RequestBuilder, Option<UploadProgress>), Error> {
    if body.is_multipart() {
        let (form, progress) = form_tracked(body, model, max_upload_bytes).await?;
        Ok((request.multipart(form), Some(progress)))
    } else {
        Ok((request.json(body.as_json()), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;
    use tokio::io::AsyncWriteExt;

    fn png(dir: &tempfile::TempDir, name: &str, len: usize) -> std::path::PathBuf {
        let path = dir.path().join(name);
        let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
        data.resize(len.max(8), 7);
        std::fs::write(&path, data).unwrap();
        path
    }

    #[test]
    fn parts_names_and_repeated_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let a = png(&dir, "a.png", 100);
        let body = RequestBody::json(json!({
            "prompt": "a cat",
            "seed": 42,
            "loop": true,
            "negative_prompt": null,
            "image_urls": ["https://x.test/1.png"],
            "size": {"w": 1, "h": 2},
        }))
        .with_file("image_urls", Media::file(&a), true)
        .with_file("image_urls", "https://x.test/2.png", true)
        .with_file(
            "mask",
            Media::bytes("m.webp", "image/webp", Bytes::from_static(b"RIFF")),
            false,
        );
        let parts = plan(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        let names: Vec<&str> = parts.iter().map(PlannedPart::name).collect();
        assert_eq!(
            names,
            [
                "prompt",
                "seed",
                "loop",
                "image_urls",
                "image_urls",
                "image_urls",
                "size",
                "mask"
            ]
        );
        let text = |i: usize| match &parts[i] {
            PlannedPart::Text { value, .. } => value.clone(),
            other => panic!("part {i} is {other:?}"),
        };
        assert_eq!(text(0), "a cat");
        assert_eq!(text(1), "42");
        assert_eq!(text(2), "true");
        assert_eq!(text(3), "https://x.test/1.png");
        assert_eq!(text(5), "https://x.test/2.png");
        assert_eq!(
            serde_json::from_str::<Value>(&text(6)).unwrap(),
            json!({"w": 1, "h": 2})
        );
        match &parts[4] {
            PlannedPart::File {
                file_name,
                content_type,
                len,
                slot,
                ..
            } => {
                assert_eq!(file_name, "a.png");
                assert_eq!(content_type, "image/png");
                assert_eq!(*len, 100);
                assert_eq!(slot.to_string(), "image_urls[1]");
            }
            other => panic!("{other:?}"),
        }
        match &parts[7] {
            PlannedPart::File {
                file_name,
                content_type,
                len,
                ..
            } => {
                assert_eq!(
                    (file_name.as_str(), content_type.as_str(), *len),
                    ("m.webp", "image/webp", 4)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_directory_and_oversized_files_name_field_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.png");
        let body = RequestBody::json(json!({"prompt": "p"})).with_file(
            "image_url",
            Media::file(&missing),
            false,
        );
        let err = check(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.category(), crate::ErrorCategory::Validation);
        assert!(
            text.contains("image_url")
                && text.contains("nope.png")
                && text.contains("does not exist"),
            "{text}"
        );

        let body =
            RequestBody::json(json!({})).with_file("image_urls", Media::file(dir.path()), true);
        let text = check(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("image_urls[0]") && text.contains("not a regular file"),
            "{text}"
        );

        let big = png(&dir, "big.png", 2048);
        let body = RequestBody::json(json!({})).with_file("image_url", Media::file(&big), false);
        let text = check(&body, "m/x", 1024).unwrap_err().to_string();
        assert!(
            text.contains("image_url") && text.contains("big.png") && text.contains("upload cap"),
            "{text}"
        );
        // The size and the cap, each in MiB and in bytes, and where to raise it.
        assert!(
            text.contains(
                "is 0.0 MiB (2048 bytes), over the upload cap of 0.0 MiB (1024 bytes; ClientBuilder::max_upload_bytes)"
            ),
            "{text}"
        );
        assert_eq!(mib(3 << 19), "1.5 MiB");
        assert!(check(&body, "m/x", 2048).is_ok());

        let body = RequestBody::json(json!({})).with_file(
            "image_url",
            Media::bytes("b.png", "image/png", Bytes::from(vec![0u8; 10])),
            false,
        );
        assert!(check(&body, "m/x", 9)
            .unwrap_err()
            .to_string()
            .contains("upload cap"));
    }

    /// A one-shot HTTP server that answers 200 and hands back the raw request.
    async fn capture(form: Form) -> (String, Vec<u8>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .expect("a Content-Length: every part has a known length");
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            buf
        });
        let resp = reqwest::Client::new()
            .post(format!("http://{addr}/"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let raw = server.await.unwrap();
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&raw[..end]).into_owned(),
            raw[end + 4..].to_vec(),
        )
    }

    #[tokio::test]
    async fn the_wire_form_streams_files_under_their_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let a = png(&dir, "photo one.png", 300);
        let file_bytes = std::fs::read(&a).unwrap();
        let body = RequestBody::json(json!({"prompt": "p", "n": 2}))
            .with_file("image_urls", Media::file(&a), true)
            .with_file("image_urls", "https://x.test/2.png", true);
        let (head, raw) =
            capture(form(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES).await.unwrap()).await;
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: multipart/form-data; boundary="),
            "{head}"
        );
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("Content-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n"),
            "{text}"
        );
        assert!(text.contains("name=\"n\"\r\n\r\n2\r\n"), "{text}");
        assert!(
            text.contains("Content-Disposition: form-data; name=\"image_urls\"; filename=\"photo one.png\"\r\nContent-Type: image/png\r\n\r\n"),
            "{text}"
        );
        assert!(
            text.contains("name=\"image_urls\"\r\n\r\nhttps://x.test/2.png\r\n"),
            "{text}"
        );
        assert_eq!(text.matches("name=\"image_urls\"").count(), 2);
        assert!(raw
            .windows(file_bytes.len())
            .any(|w| w == file_bytes.as_slice()));
        // Built again (a retry), the file is reopened and sent whole again.
        let (_, again) = capture(form(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES).await.unwrap()).await;
        assert!(again
            .windows(file_bytes.len())
            .any(|w| w == file_bytes.as_slice()));
    }

    #[tokio::test]
    async fn progress_completes_only_when_every_file_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let a = png(&dir, "a.png", 5000);
        let body = RequestBody::json(json!({"prompt": "p"}))
            .with_file("image_url", Media::file(&a), false)
            .with_file(
                "mask",
                Media::bytes("m.png", "image/png", Bytes::from_static(b"x")),
                false,
            );
        let (form, progress) = form_tracked(&body, "m/x", DEFAULT_MAX_UPLOAD_BYTES)
            .await
            .unwrap();
        assert!(!progress.is_complete());
        let (_, raw) = capture(form).await;
        assert!(raw.len() > 5000);
        assert!(progress.is_complete());
    }

    /// A model with a polling route, a `format: uri` string field, and no
    /// required field but `prompt`.
    fn uri_model() -> (&'static crate::ModelDescriptor, &'static str) {
        crate::catalog::MODELS
            .iter()
            .copied()
            .filter(|m| m.create_route.is_some())
            .find_map(|m| {
                let field = m
                    .fields
                    .iter()
                    .find(|f| f.kind == crate::FieldKind::String && f.format == Some("uri"))?;
                m.fields
                    .iter()
                    .filter(|f| f.required)
                    .all(|f| f.name == "prompt")
                    .then_some((m, field.name))
            })
            .expect("a model with an optional URI field")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_upload_cut_by_the_server_is_retried_not_ambiguous() {
        let (model, field) = uri_model();
        let dir = tempfile::tempdir().unwrap();
        // Large enough not to fit in the loopback socket buffers.
        let big = png(&dir, "big.png", 48 * 1024 * 1024);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            // First connection: read the head, then hang up mid-upload.
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            drop(sock);
            // Second: read the whole request and accept it.
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut chunk = vec![0u8; 1 << 16];
            let mut need = None;
            loop {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&chunk[..n]);
                if need.is_none() {
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap();
                        need = Some(end + 4 + len);
                    }
                }
                if need.is_some_and(|n| raw.len() >= n) {
                    break;
                }
            }
            let body = r#"{"id":"gen-1","status":"COMPLETED","output":{"videos":[{"url":"https://x.test/o.mp4"}]}}"#;
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(resp.as_bytes()).await.unwrap();
            raw.len()
        });
        let client = crate::Client::builder()
            .api_key("k")
            .base_url(format!("http://{addr}/api/v1"))
            .retry_policy(crate::RetryPolicy {
                max_retries: 2,
                initial_delay: std::time::Duration::from_millis(10),
                max_delay: std::time::Duration::from_millis(20),
                max_retry_after: std::time::Duration::from_secs(1),
                jitter: false,
            })
            .build()
            .unwrap();
        let body =
            RequestBody::json(json!({"prompt": "p"})).with_file(field, Media::file(&big), false);
        let generation = client
            .generate_body(
                model,
                body,
                crate::GenerateOptions {
                    no_sse: true,
                    ..Default::default()
                },
            )
            .await
            .expect("the cut upload is retried, then accepted");
        assert_eq!(generation.id(), Some("gen-1"));
        assert!(server.await.unwrap() > 48 * 1024 * 1024);
    }
}
