//! `--out DIR`: downloads output URLs with safe, never-overwriting names,
//! within a size cap, and only from addresses a download may reach.
//!
//! The file name comes from the URL's last path segment (percent-decoded),
//! reduced to a safe name: no path separators, no `..`, no leading dot, no
//! control or shell-hostile characters, bounded length. Each file is written
//! to a temporary file inside DIR and then linked into place without
//! replacing anything (`name.png`, `name-1.png`, `name-2.png`, ...), so no
//! existing file is ever overwritten and no half-written file remains: a
//! download that fails, or passes the cap, deletes its temporary file.
//!
//! Size: a declared `Content-Length` over `--max-download-bytes` is refused
//! before the body is read; a body that grows past it is stopped there.
//!
//! Addresses: the host of every URL (and of every redirect) is resolved
//! first and each address checked; loopback, link-local (cloud metadata at
//! 169.254.169.254), private and unspecified addresses are refused unless
//! the API base URL itself is such an address (the simulator on 127.0.0.1)
//! or `--allow-private-downloads` is given. The connection then goes to the
//! checked addresses only (no second DNS answer, no proxy), so a rebinding
//! DNS server cannot swap the address. A refused URL is reported with the
//! reason, like an output that is not `http(s)`.
//!
//! Downloads never carry the API key: their client has no default headers.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use skills_video::generation::SkippedOutput;

/// The default `--max-download-bytes`: 4 GiB, enough for long videos.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 4 << 30;
/// Redirects followed per download (each one checked like the first URL).
const MAX_REDIRECTS: usize = 10;

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
    // Nothing usable: a name of only dots, dashes and underscores was
    // trimmed to nothing above (and shortening keeps the first character).
    if name.is_empty() {
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

/// Where an IP address sits, for the download rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    /// Anything routable on the internet.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16 (cloud metadata at 169.254.169.254), fe80::/10.
    LinkLocal,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7.
    Private,
    /// 0.0.0.0/8, :: (reaches the local host on most systems).
    Unspecified,
}

impl AddrClass {
    /// In words, for a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            AddrClass::Public => "a public address",
            AddrClass::Loopback => "a loopback address",
            AddrClass::LinkLocal => "a link-local address (cloud metadata lives there)",
            AddrClass::Private => "a private-network address",
            AddrClass::Unspecified => "an unspecified address (0.0.0.0 or ::)",
        }
    }
}

/// The class of `ip`; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
/// classified as its IPv4 address.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => {
            let [a, ..] = v4.octets();
            if v4.is_loopback() {
                AddrClass::Loopback
            } else if v4.is_link_local() {
                AddrClass::LinkLocal
            } else if v4.is_private() {
                AddrClass::Private
            } else if a == 0 {
                AddrClass::Unspecified
            } else {
                AddrClass::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                AddrClass::Loopback
            } else if v6.is_unspecified() {
                AddrClass::Unspecified
            } else if first & 0xffc0 == 0xfe80 {
                AddrClass::LinkLocal
            } else if first & 0xfe00 == 0xfc00 {
                AddrClass::Private
            } else {
                AddrClass::Public
            }
        }
    }
}

/// Whether a download may connect to an address of `class`: public ones
/// always; the others only when the API base URL's host is of the same class
/// (`base_classes`: the simulator on 127.0.0.1 serves its outputs there) or
/// when the user opted in (`allow_private`). `Err` holds the reason.
pub fn decide(
    class: AddrClass,
    base_classes: &[AddrClass],
    allow_private: bool,
) -> Result<(), String> {
    if class == AddrClass::Public || allow_private || base_classes.contains(&class) {
        return Ok(());
    }
    Err(format!(
        "{} is not downloaded unless the API base URL is one too or --allow-private-downloads is given",
        class.describe()
    ))
}

/// Checks every address a host resolved to (one refused address refuses
/// the host: the connection could go to any of them). `Err` holds the reason.
pub fn check_addrs(
    domain: Option<&str>,
    addrs: &[SocketAddr],
    base_classes: &[AddrClass],
    allow_private: bool,
) -> Result<(), String> {
    for addr in addrs {
        decide(classify(addr.ip()), base_classes, allow_private).map_err(
            |reason| match domain {
                Some(d) => format!("{d} resolves to {}: {reason}", addr.ip()),
                None => format!("{}: {reason}", addr.ip()),
            },
        )?;
    }
    Ok(())
}

/// How downloads are bounded and where they may go.
#[derive(Debug, Clone)]
pub struct DownloadPolicy {
    /// `--max-download-bytes`.
    pub max_bytes: u64,
    /// `--allow-private-downloads`.
    pub allow_private: bool,
    /// The API base URL: its host's address class is allowed for downloads.
    pub base_url: Option<String>,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        DownloadPolicy {
            max_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            allow_private: false,
            base_url: None,
        }
    }
}

/// The address classes of `base_url`'s host (an IP literal, or what its
/// name resolves to); empty when it cannot be told.
pub async fn base_classes(base_url: &str) -> Vec<AddrClass> {
    let Ok(url) = url::Url::parse(base_url.trim()) else {
        return Vec::new();
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(d)) => match tokio::net::lookup_host((d, port)).await {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut classes: Vec<AddrClass> = addrs.into_iter().map(classify).collect();
    classes.dedup();
    classes
}

/// What `download_all` did.
#[derive(Debug, Default)]
pub struct Downloads {
    /// Saved files, in URL order.
    pub files: Vec<PathBuf>,
    /// URLs not downloaded because of where they point, with the reason.
    pub refused: Vec<SkippedOutput>,
    /// The first failure (the downloads stop there).
    pub error: Option<String>,
}

/// Why one download did not produce a file.
#[derive(Debug)]
enum Failure {
    /// Not attempted: the rule on addresses or schemes said no.
    Refused(String),
    /// Attempted and failed (network, HTTP status, size cap, disk).
    Failed(String),
}

/// `1073741824 bytes (1 GiB)`.
pub fn describe_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            let value = n as f64 / size as f64;
            return if n.is_multiple_of(size) {
                format!("{n} bytes ({} {unit})", n / size)
            } else {
                format!("{n} bytes ({value:.1} {unit})")
            };
        }
    }
    format!("{n} bytes")
}

// ledger hook (issue 15): told (url, path) of every file saved, so that the
// CLI records it (size, SHA-256) in the job ledger; unset without a ledger.
type SavedHook = Box<dyn Fn(&str, &Path) + Send + Sync>;
static ON_SAVED: std::sync::Mutex<Option<SavedHook>> = std::sync::Mutex::new(None);

/// Sets (or clears) the hook told of every saved file.
pub fn set_saved_hook(hook: Option<SavedHook>) {
    *ON_SAVED.lock().unwrap_or_else(|e| e.into_inner()) = hook;
}

fn saved(url: &str, path: &Path) {
    if let Some(hook) = ON_SAVED.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        hook(url, path);
    }
}

/// Downloads every URL into `dir` (created if missing), names prefixed by
/// `prefix`: the saved paths in URL order, the URLs refused because of their
/// address, and the first failure, after which nothing more is downloaded.
pub async fn download_all(
    urls: &[String],
    dir: &Path,
    prefix: &str,
    policy: &DownloadPolicy,
) -> Downloads {
    let mut report = Downloads::default();
    if let Err(e) = std::fs::create_dir_all(dir) {
        report.error = Some(format!("cannot create {}: {e}", dir.display()));
        return report;
    }
    let base = match (&policy.base_url, urls.is_empty()) {
        (Some(b), false) => base_classes(b).await,
        _ => Vec::new(),
    };
    for (i, url) in urls.iter().enumerate() {
        let name = sanitize_file_name(&format!("{prefix}{}", name_from_url(url, i)), "output");
        match download_one(url, dir, &name, policy, &base).await {
            Ok(path) => {
                saved(url, &path);
                report.files.push(path)
            }
            Err(Failure::Refused(reason)) => {
                tracing::warn!(url, %reason, "download refused");
                report.refused.push(SkippedOutput::new(url.clone(), reason));
            }
            Err(Failure::Failed(e)) => {
                report.error = Some(e);
                break;
            }
        }
    }
    report
}

/// A client that connects to `url`'s host only at addresses checked
/// against the rule, never through a proxy, never following a redirect
/// by itself, with no default headers (no key).
async fn checked_client(
    url: &url::Url,
    policy: &DownloadPolicy,
    base: &[AddrClass],
) -> Result<reqwest::Client, Failure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::Refused(format!(
            "{}: URLs are not downloaded; only http and https are",
            url.scheme()
        )));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let (addrs, domain): (Vec<SocketAddr>, Option<&str>) = match url.host() {
        Some(url::Host::Ipv4(ip)) => (vec![SocketAddr::new(IpAddr::V4(ip), port)], None),
        Some(url::Host::Ipv6(ip)) => (vec![SocketAddr::new(IpAddr::V6(ip), port)], None),
        Some(url::Host::Domain(d)) => {
            let addrs = tokio::net::lookup_host((d, port))
                .await
                .map_err(|e| {
                    Failure::Failed(format!("download of {url} failed: cannot resolve {d}: {e}"))
                })?
                .collect::<Vec<_>>();
            (addrs, Some(d))
        }
        None => return Err(Failure::Refused("the URL has no host".into())),
    };
    if addrs.is_empty() {
        return Err(Failure::Failed(format!(
            "download of {url} failed: its host has no address"
        )));
    }
    check_addrs(domain, &addrs, base, policy.allow_private).map_err(Failure::Refused)?;
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(d) = domain {
        builder = builder.resolve_to_addrs(d, &addrs);
    }
    builder
        .build()
        .map_err(|e| Failure::Failed(format!("cannot build the HTTP client: {e}")))
}

async fn download_one(
    url: &str,
    dir: &Path,
    name: &str,
    policy: &DownloadPolicy,
    base: &[AddrClass],
) -> Result<PathBuf, Failure> {
    let cap = policy.max_bytes;
    let mut current =
        url::Url::parse(url).map_err(|e| Failure::Refused(format!("not a valid URL ({e})")))?;
    let mut hops = 0;
    let resp = loop {
        let http = checked_client(&current, policy, base)
            .await
            .map_err(|f| match f {
                Failure::Refused(r) if hops > 0 => {
                    Failure::Refused(format!("redirected to {current}: {r}"))
                }
                other => other,
            })?;
        let resp = http
            .get(current.clone())
            .send()
            .await
            .map_err(|e| Failure::Failed(format!("download of {url} failed: {e}")))?;
        if !resp.status().is_redirection() {
            break resp;
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| current.join(l).ok());
        match location {
            Some(next) if hops < MAX_REDIRECTS => {
                hops += 1;
                current = next;
            }
            Some(_) => {
                return Err(Failure::Failed(format!(
                    "download of {url} failed: more than {MAX_REDIRECTS} redirects"
                )))
            }
            None => {
                return Err(Failure::Failed(format!(
                    "download of {url} answered HTTP {} without a usable Location",
                    resp.status()
                )))
            }
        }
    };
    if !resp.status().is_success() {
        return Err(Failure::Failed(format!(
            "download of {url} answered HTTP {}",
            resp.status()
        )));
    }
    // Refused before reading a byte of the body.
    if let Some(len) = resp.content_length().filter(|&len| len > cap) {
        return Err(Failure::Failed(format!(
            "download of {url} refused: its Content-Length of {} is over the download cap of {}; raise it with --max-download-bytes",
            describe_bytes(len),
            describe_bytes(cap)
        )));
    }
    // Never under the final name until complete: deleted when dropped.
    let mut tmp = tempfile::Builder::new()
        .prefix(".skills-video-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot create a temporary file in {}: {e}",
                dir.display()
            ))
        })?;
    let mut written: u64 = 0;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| Failure::Failed(format!("download of {url} broke off: {e}")))?;
        written = written.saturating_add(chunk.len() as u64);
        if written > cap {
            return Err(Failure::Failed(format!(
                "download of {url} stopped: the body passed the download cap of {} (nothing was saved); raise it with --max-download-bytes",
                describe_bytes(cap)
            )));
        }
        tmp.write_all(&chunk)
            .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", dir.display())))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", dir.display())))?;
    // Temporary files are private (0600); a download is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    // On failure the temporary file is deleted when `tmp` drops.
    persist_new(tmp, dir, name)
        .map_err(|e| Failure::Failed(format!("cannot save {name} in {}: {e}", dir.display())))
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_are_classified() {
        use AddrClass::*;
        for (addr, class) in [
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("0.0.0.0", Unspecified),
            ("::", Unspecified),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("8.8.8.8", Public),
            ("172.32.0.1", Public),
            ("172.15.255.255", Public),
            ("169.255.0.1", Public),
            ("192.169.0.1", Public),
            ("2606:4700::1111", Public),
            ("fec0::1", Public),
        ] {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
    }

    #[test]
    fn only_public_addresses_unless_the_base_is_alike_or_the_user_opts_in() {
        use AddrClass::*;
        let non_public = [Loopback, LinkLocal, Private, Unspecified];
        // A public (or unknown) base URL: every non-public address refused.
        for class in non_public {
            for base in [&[][..], &[Public][..]] {
                let reason = decide(class, base, false).unwrap_err();
                assert!(reason.contains("--allow-private-downloads"), "{reason}");
                assert!(reason.contains(class.describe()), "{reason}");
            }
            // Opt-in.
            assert!(decide(class, &[Public], true).is_ok());
        }
        assert!(decide(Public, &[], false).is_ok());
        // The simulator case: a loopback base allows loopback outputs, and
        // nothing else (cloud metadata stays refused).
        assert!(decide(Loopback, &[Loopback], false).is_ok());
        assert!(decide(LinkLocal, &[Loopback], false).is_err());
        assert!(decide(Private, &[Loopback], false).is_err());
        // A base on a private network allows that network.
        assert!(decide(Private, &[Private], false).is_ok());
        assert!(decide(LinkLocal, &[Private], false).is_err());
    }

    #[test]
    fn every_resolved_address_is_checked() {
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let metadata: SocketAddr = "169.254.169.254:443".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:443".parse().unwrap();
        assert!(check_addrs(Some("cdn.example"), &[public], &[], false).is_ok());
        for addrs in [[public, metadata], [metadata, public]] {
            let reason = check_addrs(Some("cdn.example"), &addrs, &[], false).unwrap_err();
            assert!(
                reason.starts_with("cdn.example resolves to 169.254.169.254: a link-local"),
                "{reason}"
            );
        }
        // A loopback base allows the loopback address, not the metadata one next to it.
        assert!(check_addrs(Some("localhost"), &[local], &[AddrClass::Loopback], false).is_ok());
        assert!(check_addrs(Some("x"), &[local, metadata], &[AddrClass::Loopback], false).is_err());
        assert!(check_addrs(None, &[local, metadata], &[], true).is_ok());
    }

    #[tokio::test]
    async fn a_metadata_url_is_refused_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let urls = [
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "http://[fe80::1]/x.png".to_string(),
            "http://10.1.2.3/x.png".to_string(),
            "http://0.0.0.0:9/x.png".to_string(),
            "http://[::ffff:169.254.169.254]/x.png".to_string(),
            "http://2852039166/x.png".to_string(), // 169.254.169.254 in decimal
        ];
        let policy = DownloadPolicy {
            base_url: Some("http://127.0.0.1:9/api/v1".into()),
            ..DownloadPolicy::default()
        };
        let report = download_all(&urls, dir.path(), "", &policy).await;
        assert_eq!(report.error, None);
        assert!(report.files.is_empty());
        let refused: Vec<&str> = report.refused.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(refused, urls.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            report.refused[0].reason.contains("link-local"),
            "{:?}",
            report.refused[0]
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn sizes_are_described() {
        assert_eq!(describe_bytes(1 << 30), "1073741824 bytes (1 GiB)");
        assert_eq!(describe_bytes(1536), "1536 bytes (1.5 KiB)");
        assert_eq!(describe_bytes(10), "10 bytes");
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

    /// Only a taken name moves on to the next candidate: any other error
    /// (here, a directory that does not exist) is the answer at once, with
    /// its own cause, not 10,000 attempts ending in "no free file name".
    #[test]
    fn a_save_error_other_than_a_taken_name_is_reported_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        tmp.write_all(b"new").unwrap();
        let missing = dir.path().join("missing");
        let error = persist_new(tmp, &missing, "out.png").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}");
        // The temporary file is removed with the failed save.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn names_of_only_separators_take_the_fallback() {
        for raw in ["___", "_._", "-_-", "._.", "/__/"] {
            assert_eq!(sanitize_file_name(raw, "output-2"), "output-2", "{raw:?}");
        }
        // Shortening keeps the name's first character.
        let long = format!("x{}", "_".repeat(300));
        assert!(sanitize_file_name(&long, "f").starts_with('x'));
    }
}
