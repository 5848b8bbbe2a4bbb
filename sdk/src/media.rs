//! Media inputs: a URL, a local file, or bytes in memory, and the request
//! body that carries them.
//!
//! The platform takes inputs such as `image_url` or `image_urls` either as
//! URLs in a JSON body or as local files in a `multipart/form-data` body, each
//! file under the field name its schema gives (an array field repeats the
//! name, mixing files and URLs). A [`Media`] is any of the three; a
//! [`RequestBody`] is the JSON of a request plus the local files it refers to.
//! The runtime sends JSON when there are no local files, else multipart
//! (see [`crate::multipart`]).
//!
//! A local [`Media`] serialises only inside the runtime (while
//! [`RequestBody::from_request`] runs): there it becomes a private placeholder
//! string that the encoder turns back into a file part. Serialised anywhere
//! else it fails with a clear error, so a file is never sent as a bogus string.
//!
//! ```
//! use serde_json::json;
//! use skills_video::{Media, RequestBody};
//!
//! let body = RequestBody::json(json!({"prompt": "a cat", "image_urls": ["https://example.com/a.png"]}))
//!     .with_file("image_urls", Media::file("./photo.png"), true);
//! assert!(body.is_multipart());
//! ```

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::Error;

/// The message of the serde error raised when a local file is serialised
/// outside the runtime.
pub const LOCAL_FILE_OUTSIDE_CLIENT: &str =
    "a local file can only be sent by the skills-video client (it becomes a multipart file part; it has no JSON form)";

/// A media input: a URL, a local file (streamed from disk when sent), or
/// bytes in memory with a file name and a content type.
#[derive(Clone, PartialEq)]
pub struct Media(Repr);

#[derive(Clone, PartialEq)]
enum Repr {
    Url(String),
    File(PathBuf),
    Bytes {
        file_name: String,
        content_type: String,
        bytes: Bytes,
    },
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Url(u) => f.debug_tuple("Media::Url").field(u).finish(),
            Repr::File(p) => f.debug_tuple("Media::File").field(p).finish(),
            Repr::Bytes {
                file_name,
                content_type,
                bytes,
            } => f
                .debug_struct("Media::Bytes")
                .field("file_name", file_name)
                .field("content_type", content_type)
                .field("len", &bytes.len())
                .finish(),
        }
    }
}

impl Media {
    /// A URL the platform fetches itself.
    pub fn url(url: impl Into<String>) -> Self {
        Media(Repr::Url(url.into()))
    }

    /// A local file, uploaded as a multipart file part (streamed, not read
    /// whole); its content type is guessed from the extension.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Media(Repr::File(path.into()))
    }

    /// Bytes in memory, uploaded as a file part named `file_name` with this
    /// content type (e.g. `image/png`).
    pub fn bytes(
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Bytes,
    ) -> Self {
        Media(Repr::Bytes {
            file_name: file_name.into(),
            content_type: content_type.into(),
            bytes,
        })
    }

    /// The URL, when this is one.
    pub fn as_url(&self) -> Option<&str> {
        match &self.0 {
            Repr::Url(u) => Some(u),
            _ => None,
        }
    }

    /// Whether this is a local file or in-memory bytes (sent as multipart).
    pub fn is_local(&self) -> bool {
        !matches!(self.0, Repr::Url(_))
    }

    /// The path, when this is a local file.
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Repr::File(p) => Some(p),
            _ => None,
        }
    }

    /// The file name sent with the part: the path's last component, or the
    /// name given to [`Media::bytes`]; `None` for a URL.
    pub fn file_name(&self) -> Option<String> {
        match &self.0 {
            Repr::Url(_) => None,
            Repr::File(p) => Some(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "file".to_string()),
            ),
            Repr::Bytes { file_name, .. } => Some(file_name.clone()),
        }
    }

    /// The content type sent with the part: the one given to
    /// [`Media::bytes`], else guessed from the file name's extension;
    /// `None` for a URL.
    pub fn content_type(&self) -> Option<String> {
        match &self.0 {
            Repr::Url(_) => None,
            Repr::File(p) => Some(guess_content_type(&p.to_string_lossy()).to_string()),
            Repr::Bytes { content_type, .. } => Some(content_type.clone()),
        }
    }

    /// The bytes, when in memory.
    pub(crate) fn in_memory(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Bytes { bytes, .. } => Some(bytes),
            _ => None,
        }
    }
}

/// The content type of a file name by its extension: png, jpg/jpeg, webp,
/// gif, mp4, mov, webm, mp3, wav, m4a; else `application/octet-stream`.
pub fn guess_content_type(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        _ => "application/octet-stream",
    }
}

impl From<&str> for Media {
    fn from(url: &str) -> Self {
        Media::url(url)
    }
}

impl From<String> for Media {
    fn from(url: String) -> Self {
        Media::url(url)
    }
}

thread_local! {
    /// The files recorded while the runtime serialises a request.
    static COLLECTOR: RefCell<Option<Vec<Media>>> = const { RefCell::new(None) };
}

/// A per-process nonce, so a user's string can never pass for a placeholder.
fn nonce() -> &'static str {
    static NONCE: OnceLock<String> = OnceLock::new();
    NONCE.get_or_init(|| format!("{:016x}", rand::random::<u64>()))
}

const PLACEHOLDER_PREFIX: &str = "skills-video-local-file:";

fn placeholder(index: usize) -> String {
    format!("{PLACEHOLDER_PREFIX}{}:{index}", nonce())
}

/// The file index a placeholder string stands for.
fn placeholder_index(s: &str) -> Option<usize> {
    let rest = s.strip_prefix(PLACEHOLDER_PREFIX)?;
    let (n, index) = rest.split_once(':')?;
    if n != nonce() {
        return None;
    }
    index.parse().ok()
}

/// Runs `f` with a fresh collector installed on this thread, restoring the
/// previous one afterwards (even if `f` panics).
fn collecting<R>(f: impl FnOnce() -> R) -> (R, Vec<Media>) {
    struct Restore(Option<Option<Vec<Media>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                COLLECTOR.with(|c| *c.borrow_mut() = previous);
            }
        }
    }
    let previous = COLLECTOR.with(|c| c.borrow_mut().replace(Vec::new()));
    let mut restore = Restore(Some(previous));
    let result = f();
    let collected = COLLECTOR
        .with(|c| c.borrow_mut().take())
        .unwrap_or_default();
    if let Some(previous) = restore.0.take() {
        COLLECTOR.with(|c| *c.borrow_mut() = previous);
    }
    (result, collected)
}

impl Serialize for Media {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Repr::Url(url) = &self.0 {
            return serializer.serialize_str(url);
        }
        let index = COLLECTOR.with(|c| {
            c.borrow_mut().as_mut().map(|files| {
                files.push(self.clone());
                files.len() - 1
            })
        });
        match index {
            Some(i) => serializer.serialize_str(&placeholder(i)),
            None => Err(serde::ser::Error::custom(LOCAL_FILE_OUTSIDE_CLIENT)),
        }
    }
}

impl<'de> Deserialize<'de> for Media {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Media::url)
    }
}

/// Where a local file sits in a request: the top-level field and, for an
/// array field, the item's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSlot {
    /// The field (the multipart part name).
    pub field: String,
    /// The index in the field's array, if it is an array.
    pub index: Option<usize>,
}

impl fmt::Display for FileSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.field),
            None => f.write_str(&self.field),
        }
    }
}

/// A request's JSON plus the local files it refers to. Without local files it
/// is sent as JSON; with them, as `multipart/form-data`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    json: Value,
    files: Vec<Media>,
}

impl RequestBody {
    /// Serialises a request, collecting its local [`Media`] (a local file may
    /// be a top-level field or an item of a top-level array).
    pub fn from_request<T: Serialize + ?Sized>(request: &T) -> Result<Self, Error> {
        let (json, files) = collecting(|| serde_json::to_value(request));
        let json = json.map_err(|e| Error::Serialize {
            message: e.to_string(),
        })?;
        let body = RequestBody { json, files };
        body.check_placement()?;
        Ok(body)
    }

    /// A body of plain JSON (URLs only, until [`with_file`](Self::with_file)).
    pub fn json(json: Value) -> Self {
        RequestBody {
            json,
            files: Vec::new(),
        }
    }

    /// Sets `field` to `media` or, with `is_array`, appends it to the field's
    /// array (a missing or null field starts one; a single value becomes the
    /// first item). A URL is stored as its string; a local file as a
    /// placeholder that becomes a file part. A body that is not a JSON object
    /// becomes one.
    pub fn with_file(
        mut self,
        field: impl Into<String>,
        media: impl Into<Media>,
        is_array: bool,
    ) -> Self {
        let media = media.into();
        let value = match media.as_url() {
            Some(url) => Value::String(url.to_string()),
            None => {
                self.files.push(media);
                Value::String(placeholder(self.files.len() - 1))
            }
        };
        if !self.json.is_object() {
            self.json = Value::Object(Map::new());
        }
        let Value::Object(map) = &mut self.json else {
            return self;
        };
        let field = field.into();
        if !is_array {
            map.insert(field, value);
            return self;
        }
        match map.get_mut(&field) {
            Some(Value::Array(items)) => items.push(value),
            Some(Value::Null) | None => {
                map.insert(field, Value::Array(vec![value]));
            }
            Some(other) => {
                let first = other.take();
                *other = Value::Array(vec![first, value]);
            }
        }
        self
    }

    /// Whether the body refers to a local file (and is sent as multipart).
    pub fn is_multipart(&self) -> bool {
        !self.local_files().is_empty()
    }

    /// The JSON, local files as placeholders.
    pub fn as_json(&self) -> &Value {
        &self.json
    }

    /// Every local file the JSON refers to, with where it sits, in field order.
    pub fn local_files(&self) -> Vec<(FileSlot, &Media)> {
        let mut out = Vec::new();
        let Value::Object(map) = &self.json else {
            return out;
        };
        for (field, value) in map {
            match value {
                Value::String(s) => {
                    if let Some(m) = self.media_of(s) {
                        out.push((
                            FileSlot {
                                field: field.clone(),
                                index: None,
                            },
                            m,
                        ));
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(m) = item.as_str().and_then(|s| self.media_of(s)) {
                            out.push((
                                FileSlot {
                                    field: field.clone(),
                                    index: Some(i),
                                },
                                m,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The local file a JSON string stands for, if it is a placeholder of this body.
    pub(crate) fn media_of(&self, s: &str) -> Option<&Media> {
        placeholder_index(s).and_then(|i| self.files.get(i))
    }

    /// A copy of the JSON where each local file is a dummy
    /// `https://upload.invalid/<file name>` URL, for the client-side schema
    /// check (a file is a valid value of a `format: uri` field).
    pub fn validation_json(&self) -> Value {
        let mut json = self.json.clone();
        if let Value::Object(map) = &mut json {
            for value in map.values_mut() {
                match value {
                    Value::String(_) => self.replace_placeholder(value),
                    Value::Array(items) => {
                        items.iter_mut().for_each(|v| self.replace_placeholder(v))
                    }
                    _ => {}
                }
            }
        }
        json
    }

    fn replace_placeholder(&self, value: &mut Value) {
        let Some(media) = value.as_str().and_then(|s| self.media_of(s)) else {
            return;
        };
        let name = media.file_name().unwrap_or_else(|| "file".to_string());
        let mut url = url::Url::parse("https://upload.invalid/").expect("a valid constant URL");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(&name);
        }
        *value = Value::String(url.into());
    }

    /// A local file nested deeper than a top-level field or an item of a
    /// top-level array cannot be sent as a part: refuse it.
    fn check_placement(&self) -> Result<(), Error> {
        fn nested(body: &RequestBody, v: &Value, path: &str, top: bool) -> Option<String> {
            match v {
                Value::String(s) if !top && body.media_of(s).is_some() => Some(path.to_string()),
                Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                    let p = format!("{path}[{i}]");
                    match item {
                        Value::String(_) if top => None,
                        other => nested(body, other, &p, false),
                    }
                }),
                Value::Object(map) => map.iter().find_map(|(k, item)| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    nested(body, item, &p, false)
                }),
                _ => None,
            }
        }
        let found = match &self.json {
            Value::Object(map) => map.iter().find_map(|(k, v)| nested(self, v, k, true)),
            other => nested(self, other, "(root)", false),
        };
        match found {
            None => Ok(()),
            Some(path) => Err(Error::Config(format!(
                "a local file at {path} cannot be sent: files must be a top-level field or an item of a top-level array"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Req {
        prompt: String,
        image_url: Option<Media>,
        image_urls: Vec<Media>,
    }

    #[test]
    fn urls_serialise_as_strings_anywhere() {
        let v = serde_json::to_value(Media::url("https://x.test/a.png")).unwrap();
        assert_eq!(v, json!("https://x.test/a.png"));
        let m: Media = serde_json::from_value(json!("https://x.test/b.png")).unwrap();
        assert_eq!(m.as_url(), Some("https://x.test/b.png"));
        assert!(!m.is_local());
        assert_eq!(Media::from("u"), Media::url("u"));
    }

    #[test]
    fn a_local_file_outside_the_collector_is_a_clear_error() {
        let err = serde_json::to_value(Media::file("/tmp/a.png")).unwrap_err();
        assert!(
            err.to_string()
                .contains("a local file can only be sent by the skills-video client"),
            "{err}"
        );
        let err = serde_json::to_string(&Req {
            prompt: "p".into(),
            image_url: Some(Media::bytes("a.png", "image/png", Bytes::from_static(b"x"))),
            image_urls: vec![],
        })
        .unwrap_err();
        assert!(err.to_string().contains("skills-video client"), "{err}");
    }

    #[test]
    fn from_request_collects_files_in_place() {
        let req = Req {
            prompt: "a cat".into(),
            image_url: Some(Media::file("dir/first.png")),
            image_urls: vec![Media::url("https://x.test/1.png"), Media::file("two.jpg")],
        };
        let body = RequestBody::from_request(&req).unwrap();
        assert!(body.is_multipart());
        let files = body.local_files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0.to_string(), "image_url");
        assert_eq!(files[0].1.path(), Some(Path::new("dir/first.png")));
        assert_eq!(files[1].0.to_string(), "image_urls[1]");
        assert_eq!(body.as_json()["image_urls"][0], "https://x.test/1.png");
        let checked = body.validation_json();
        assert_eq!(checked["image_url"], "https://upload.invalid/first.png");
        assert_eq!(checked["image_urls"][1], "https://upload.invalid/two.jpg");
        assert_eq!(checked["prompt"], "a cat");
        // Outside from_request, the collector is gone again.
        assert!(serde_json::to_value(Media::file("x")).is_err());
    }

    #[test]
    fn urls_only_is_plain_json() {
        let req = Req {
            prompt: "p".into(),
            image_url: None,
            image_urls: vec!["https://x.test/1.png".into()],
        };
        let body = RequestBody::from_request(&req).unwrap();
        assert!(!body.is_multipart());
        assert_eq!(body.validation_json(), *body.as_json());
    }

    #[test]
    fn nested_files_are_refused() {
        #[derive(Serialize)]
        struct Nested {
            inner: Req,
        }
        let err = RequestBody::from_request(&Nested {
            inner: Req {
                prompt: "p".into(),
                image_url: Some(Media::file("a.png")),
                image_urls: vec![],
            },
        })
        .unwrap_err();
        assert!(err.to_string().contains("inner.image_url"), "{err}");
    }

    #[test]
    fn with_file_sets_or_appends() {
        let body =
            RequestBody::json(json!({"prompt": "p", "image_urls": ["https://x.test/1.png"]}))
                .with_file("image_urls", Media::file("a.png"), true)
                .with_file("image_urls", "https://x.test/2.png", true)
                .with_file("image_url", Media::file("b.webp"), false)
                .with_file("reference", Media::file("c.png"), true);
        let v = body.validation_json();
        assert_eq!(
            v["image_urls"],
            json!([
                "https://x.test/1.png",
                "https://upload.invalid/a.png",
                "https://x.test/2.png"
            ])
        );
        assert_eq!(v["image_url"], "https://upload.invalid/b.webp");
        assert_eq!(v["reference"], json!(["https://upload.invalid/c.png"]));
        assert_eq!(body.local_files().len(), 3);
        // A placeholder-looking string from elsewhere is just a string.
        let forged = RequestBody::json(json!({"image_url": "skills-video-local-file:0:0"}));
        assert!(!forged.is_multipart());
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(guess_content_type("a.PNG"), "image/png");
        assert_eq!(guess_content_type("a.jpeg"), "image/jpeg");
        assert_eq!(guess_content_type("clip.mov"), "video/quicktime");
        assert_eq!(guess_content_type("voice.m4a"), "audio/mp4");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(
            Media::file("x/y.webp").content_type().as_deref(),
            Some("image/webp")
        );
        assert_eq!(Media::url("https://x.test/a.png").content_type(), None);
    }
}
