//! `--out DIR`: downloads output URLs with safe, never-overwriting names.
//!
//! The file name comes from the URL's last path segment (percent-decoded),
//! reduced to a safe name: no path separators, no `..`, no leading dot, no
//! control or shell-hostile characters, bounded length. Each file is written
//! to a temporary file inside DIR and then linked into place without
//! replacing anything (`name.png`, `name-1.png`, `name-2.png`, ...), so no
//! existing file is ever overwritten and no half-written file remains.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;

/// Longest file name produced (bytes, before a `-N` suffix).
const MAX_NAME: usize = 100;
/// Attempts at finding a free name.
const MAX_SUFFIX: u32 = 10_000;

/// A safe file name for `raw` (any text the server sent); `fallback` when
/// nothing usable is left.
pub fn sanitize_file_name(raw: &str, fallback: &str) -> String {
    // Keep only the last component, whatever the separator.
    let last = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Collapse runs of dots (no `..` anywhere) and strip leading dots/dashes.
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    let name = name
        .trim_start_matches(['.', '-', '_'])
        .trim_end_matches('.');
    let mut name = name.to_string();
    if name.len() > MAX_NAME {
        // Keep the extension when shortening.
        let (stem, ext) = split_ext(&name);
        let ext = if ext.len() <= 10 { ext } else { "" };
        let keep = MAX_NAME.saturating_sub(ext.len() + 1);
        name = if ext.is_empty() {
            stem[..keep.min(stem.len())].to_string()
        } else {
            format!("{}.{ext}", &stem[..keep.min(stem.len())])
        };
    }
    if name.is_empty() || name.chars().all(|c| c == '_' || c == '.') {
        return fallback.to_string();
    }
    name
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// The `i`-th candidate name: `name`, `name-1`, `name-2`, ... (before the extension).
pub fn candidate(name: &str, i: u32) -> String {
    if i == 0 {
        return name.to_string();
    }
    match split_ext(name) {
        (stem, "") => format!("{stem}-{i}"),
        (stem, ext) => format!("{stem}-{i}.{ext}"),
    }
}

/// The file name a URL suggests.
pub fn name_from_url(url: &str, index: usize) -> String {
    let fallback = format!("output-{}", index + 1);
    let Ok(parsed) = url::Url::parse(url) else {
        return fallback;
    };
    let segment = parsed
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_string))
        .unwrap_or_default();
    let decoded = percent_decode(&segment);
    sanitize_file_name(&decoded, &fallback)
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Moves a finished temporary file to the first free name in `dir`, never
/// replacing an existing file.
pub fn persist_new(
    tmp: tempfile::NamedTempFile,
    dir: &Path,
    name: &str,
) -> std::io::Result<PathBuf> {
    let mut tmp = tmp;
    for i in 0..MAX_SUFFIX {
        let path = dir.join(candidate(name, i));
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(e.error),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("no free file name for {name} in {}", dir.display()),
    ))
}

/// Downloads every URL into `dir` (created if missing), names prefixed by `prefix`; returns the paths in
/// URL order, or the first failure.
pub async fn download_all(
    urls: &[String],
    dir: &Path,
    prefix: &str,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Output URLs are CDN links: no Authorization header is sent with them.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut paths = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let name = sanitize_file_name(&format!("{prefix}{}", name_from_url(url, i)), "output");
        paths.push(download_one(&http, url, dir, &name).await?);
    }
    Ok(paths)
}

async fn download_one(
    http: &reqwest::Client,
    url: &str,
    dir: &Path,
    name: &str,
) -> Result<PathBuf, String> {
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("download of {url} failed: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("download of {url} answered HTTP {}", resp.status()));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".skills-video-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("download of {url} broke off: {e}"))?;
        tmp.write_all(&chunk)
            .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    // Temporary files are private (0600); a download is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    // On failure the temporary file is deleted when `tmp` drops.
    persist_new(tmp, dir, name).map_err(|e| format!("cannot save {name} in {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_neutralised() {
        let f = "output-1";
        assert_eq!(sanitize_file_name("../../etc/passwd", f), "passwd");
        assert_eq!(sanitize_file_name("..", f), f);
        assert_eq!(sanitize_file_name("...", f), f);
        assert_eq!(sanitize_file_name("", f), f);
        assert_eq!(sanitize_file_name("/", f), f);
        assert_eq!(sanitize_file_name("..\\..\\win.ini", f), "win.ini");
        assert_eq!(sanitize_file_name(".bashrc", f), "bashrc");
        assert_eq!(sanitize_file_name("a..b.png", f), "a.b.png");
        assert_eq!(
            sanitize_file_name("x\0y\n$(rm -rf).png", f),
            "x_y___rm_-rf_.png"
        );
        assert_eq!(sanitize_file_name("-rf", f), "rf");
        assert_eq!(sanitize_file_name("cat photo.png", f), "cat_photo.png");
        let long = format!("{}.png", "a".repeat(500));
        let s = sanitize_file_name(&long, f);
        assert!(s.len() <= MAX_NAME && s.ends_with(".png"), "{s}");
        for hostile in ["../x", "a/../../b", "C:\\x\\..\\y", "....//....//z"] {
            let s = sanitize_file_name(hostile, f);
            assert!(
                !s.contains('/') && !s.contains('\\') && !s.contains(".."),
                "{s}"
            );
        }
    }

    #[test]
    fn names_from_urls_are_decoded_then_sanitised() {
        assert_eq!(
            name_from_url("http://h/api/v1/files/abc/output.png", 0),
            "output.png"
        );
        assert_eq!(
            name_from_url("http://h/files/..%2F..%2Fevil.png?x=1", 0),
            "evil.png"
        );
        assert_eq!(name_from_url("http://h/files/%2e%2e", 1), "output-2");
        assert_eq!(name_from_url("http://h/", 0), "output-1");
        assert_eq!(name_from_url("not a url", 2), "output-3");
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("out.png"), b"old").unwrap();
        for expected in ["out-1.png", "out-2.png"] {
            let mut tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
            tmp.write_all(b"new").unwrap();
            let p = persist_new(tmp, dir.path(), "out.png").unwrap();
            assert_eq!(p.file_name().unwrap(), expected);
        }
        assert_eq!(std::fs::read(dir.path().join("out.png")).unwrap(), b"old");
        assert_eq!(candidate("noext", 3), "noext-3");
        // Only the three files: no temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
