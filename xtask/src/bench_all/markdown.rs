//! Generated blocks of BENCHMARKS.md: found between marker comments
//! `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`, replaced whole,
//! the prose around them left alone; the file is written atomically.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

use super::stats::Spread;

/// The begin marker's start (the rest of its line may carry a note).
fn begin(name: &str) -> String {
    format!("<!-- bench:{name}:begin")
}

/// The end marker.
fn end(name: &str) -> String {
    format!("<!-- bench:{name}:end -->")
}

/// The byte range of block `name`'s content (between the begin marker's
/// line and the end marker), or an error naming what is missing.
fn content_range(doc: &str, name: &str) -> anyhow::Result<std::ops::Range<usize>> {
    let (b, e) = (begin(name), end(name));
    let starts: Vec<usize> = doc.match_indices(&b).map(|(i, _)| i).collect();
    match starts.len() {
        0 => bail!(
            "no `{b} -->` marker: put `{b} -->` and `{e}` around the place of the {name} table"
        ),
        1 => {}
        n => bail!("`{b} -->` appears {n} times; each block must appear once"),
    }
    let after_begin = doc[starts[0]..]
        .find('\n')
        .map_or(doc.len(), |i| starts[0] + i + 1);
    let Some(end_at) = doc[after_begin..].find(&e).map(|i| after_begin + i) else {
        bail!("`{b} -->` has no `{e}` after it");
    };
    if doc.matches(&e).count() != 1 {
        bail!("`{e}` appears more than once");
    }
    Ok(after_begin..end_at)
}

/// Checks that every block of `names` has its two markers, once each.
pub fn check_markers(doc: &str, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        content_range(doc, name)?;
    }
    Ok(())
}

/// `doc` with block `name`'s content replaced by `body` (a trailing newline added).
pub fn replace_block(doc: &str, name: &str, body: &str) -> anyhow::Result<String> {
    let range = content_range(doc, name)?;
    let mut out = String::with_capacity(doc.len() + body.len());
    out.push_str(&doc[..range.start]);
    out.push_str(body.trim_end_matches('\n'));
    out.push('\n');
    out.push_str(&doc[range.end..]);
    Ok(out)
}

/// The content of block `name`.
pub fn block<'a>(doc: &'a str, name: &str) -> anyhow::Result<&'a str> {
    Ok(&doc[content_range(doc, name)?])
}

/// The data comment a block carries (`<!-- bench:data {json} -->`): every
/// figure as `key: [median, min, max, runs]`, for the summary to read when
/// its section was not re-run.
pub fn data_comment(spreads: &BTreeMap<String, Spread>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = spreads
        .iter()
        .map(|(k, s)| {
            (
                k.clone(),
                serde_json::json!([round4(s.median), round4(s.min), round4(s.max), s.n]),
            )
        })
        .collect();
    format!("<!-- bench:data {} -->", serde_json::Value::Object(map))
}

/// A figure at the precision the data comment keeps (4 decimals).
pub fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The figures of the data comment in block `name` (empty when it has none).
pub fn read_data(doc: &str, name: &str) -> BTreeMap<String, Spread> {
    let Ok(text) = block(doc, name) else {
        return BTreeMap::new();
    };
    let Some(json) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("<!-- bench:data "))
        .and_then(|l| l.strip_suffix("-->"))
    else {
        return BTreeMap::new();
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(json.trim()) else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| {
            let a = v.as_array()?;
            let get = |i: usize| a.get(i).and_then(serde_json::Value::as_f64);
            Some((
                k,
                Spread {
                    median: get(0)?,
                    min: get(1)?,
                    max: get(2)?,
                    n: get(3)? as usize,
                },
            ))
        })
        .collect()
}

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over `path`.
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<()> {
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Title\n\nProse before.\n\n<!-- bench:sse:begin (generated) -->\nold table\n<!-- bench:sse:end -->\n\nProse after.\n<!-- bench:e2e:begin -->\n<!-- bench:e2e:end -->\n";

    #[test]
    fn a_block_is_replaced_and_the_prose_kept() {
        let out = replace_block(DOC, "sse", "| new |\n|---|\n").unwrap();
        assert_eq!(
            out,
            "# Title\n\nProse before.\n\n<!-- bench:sse:begin (generated) -->\n| new |\n|---|\n<!-- bench:sse:end -->\n\nProse after.\n<!-- bench:e2e:begin -->\n<!-- bench:e2e:end -->\n"
        );
        // Replacing again with the same body changes nothing.
        assert_eq!(replace_block(&out, "sse", "| new |\n|---|").unwrap(), out);
        // An empty block can be filled.
        let out = replace_block(&out, "e2e", "x").unwrap();
        assert!(out.ends_with("<!-- bench:e2e:begin -->\nx\n<!-- bench:e2e:end -->\n"));
        assert_eq!(block(&out, "e2e").unwrap(), "x\n");
    }

    #[test]
    fn missing_or_doubled_markers_are_clear_errors() {
        let e = replace_block(DOC, "codegen", "x").unwrap_err().to_string();
        assert!(
            e.contains("no `<!-- bench:codegen:begin -->` marker"),
            "{e}"
        );
        let no_end = "<!-- bench:sse:begin -->\nx\n";
        let e = replace_block(no_end, "sse", "y").unwrap_err().to_string();
        assert!(e.contains("has no `<!-- bench:sse:end -->`"), "{e}");
        let twice = format!("{DOC}{DOC}");
        let e = replace_block(&twice, "sse", "y").unwrap_err().to_string();
        assert!(e.contains("appears 2 times"), "{e}");
        let end_first = "<!-- bench:sse:end -->\n<!-- bench:sse:begin -->\n";
        assert!(replace_block(end_first, "sse", "y").is_err());
        assert!(check_markers(DOC, &["sse", "e2e"]).is_ok());
        assert!(check_markers(DOC, &["sse", "ledger"]).is_err());
    }

    #[test]
    fn data_comments_round_trip() {
        let spreads: BTreeMap<String, Spread> = [(
            "sse.small".to_string(),
            Spread::of(&[818.0, 790.5, 840.25]).unwrap(),
        )]
        .into();
        let doc = replace_block(DOC, "sse", &format!("{}\n| t |", data_comment(&spreads))).unwrap();
        let back = read_data(&doc, "sse");
        assert_eq!(back, spreads);
        assert!(read_data(&doc, "e2e").is_empty());
        assert!(read_data(&doc, "absent").is_empty());
    }

    #[test]
    fn the_write_is_atomic_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BENCHMARKS.md");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, "new text").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new text");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A directory that does not exist: an error, and the old file untouched.
        let bad = dir.path().join("missing/BENCHMARKS.md");
        assert!(write_atomic(&bad, "x").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new text");
    }
}
