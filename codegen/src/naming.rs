//! The one place where wire names become Rust names.
//!
//! Every identifier the generator emits goes through [`type_name`],
//! [`snake_name`] or [`variant_name`], so the rules are the same everywhere:
//! words are split on anything that is not a letter or digit, two digit runs
//! that the wire separated keep an `_` between them (so `gpt-image-1.5` and
//! `gpt-image-15` stay distinct), a leading digit gets a prefix, and Rust
//! keywords get a trailing `_`. The caller adds `#[serde(rename)]` whenever the
//! Rust name differs from the wire name.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (strict, reserved and edition-dependent) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Splits a wire name into its letter/digit runs; a leading `-` becomes `neg`
/// so that `-1` and `1` stay distinct.
fn runs(wire: &str) -> Vec<String> {
    let mut out = Vec::new();
    if wire.trim_start().starts_with('-') {
        out.push("neg".to_string());
    }
    out.extend(
        wire.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    );
    out
}

/// Concatenates cased runs, keeping an `_` where a digit meets a digit.
fn join_camel(runs: &[String]) -> String {
    let mut out = String::new();
    for run in runs {
        let cased = run.to_upper_camel_case();
        if out.ends_with(|c: char| c.is_ascii_digit())
            && cased.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('_');
        }
        out.push_str(&cased);
    }
    out
}

fn escape_keyword(name: String) -> String {
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// An `UpperCamelCase` type name; `prefix` is put in front when the name would
/// start with a digit or be empty.
pub fn type_name(wire: &str, prefix: &str) -> String {
    let name = join_camel(&runs(wire));
    let name = if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}{name}")
    } else {
        name
    };
    escape_keyword(name)
}

/// Names of std types a user has in scope (the prelude) or imports next to
/// the SDK (`std::time::Duration` for `ClientBuilder::poll_timeout`): a
/// generated type never takes one, or a `use` of both would collide.
const STD_TYPES: &[&str] = &[
    "Box", "Duration", "Err", "Error", "Instant", "None", "Ok", "Option", "Path", "PathBuf",
    "Result", "Some", "String", "Vec",
];

/// A type name for a generated type (struct, enum, alias): [`type_name`],
/// with `Value` appended when it would shadow a std type (`duration` →
/// `DurationValue`, not `Duration`).
pub fn generated_type_name(wire: &str, prefix: &str) -> String {
    let name = type_name(wire, prefix);
    if STD_TYPES.contains(&name.as_str()) {
        format!("{name}Value")
    } else {
        name
    }
}

/// An enum variant name for a literal value (`16:9` → `V16_9`, `auto` → `Auto`).
pub fn variant_name(wire: &str) -> String {
    if wire.is_empty() {
        return "Empty".to_string();
    }
    type_name(wire, "V")
}

/// A `snake_case` name for fields, functions and modules; `prefix` (e.g. `n_`)
/// is put in front when the name would start with a digit or be empty.
pub fn snake_name(wire: &str, prefix: &str) -> String {
    let parts: Vec<String> = runs(wire).iter().map(|r| r.to_snake_case()).collect();
    let name = parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("_");
    let name = if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}{name}")
    } else {
        name
    };
    escape_keyword(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_paths() {
        assert_eq!(
            type_name("google/nano-banana-pro", "M"),
            "GoogleNanoBananaPro"
        );
        assert_eq!(type_name("openai/gpt-image-1.5", "M"), "OpenaiGptImage1_5");
        assert_eq!(type_name("openai/gpt-image-15", "M"), "OpenaiGptImage15");
        assert_eq!(type_name("kling-ai/kling-v2.6", "M"), "KlingAiKlingV2_6");
        assert_eq!(
            type_name("bytedance/seedream-4.0", "M"),
            "BytedanceSeedream4_0"
        );
        assert_eq!(type_name("3d/model", "M"), "M3dModel");
        assert_eq!(
            snake_name("openai/gpt-image-1.5", "m_"),
            "openai_gpt_image_1_5"
        );
        assert_eq!(snake_name("kling-ai/v3/image", "m_"), "kling_ai_v3_image");
        assert_eq!(snake_name("3d/model", "m_"), "m_3d_model");
    }

    #[test]
    fn generated_types_never_shadow_std_types() {
        for (wire, expected) in [
            ("duration", "DurationValue"),
            ("result", "ResultValue"),
            ("option", "OptionValue"),
            ("string", "StringValue"),
            ("box", "BoxValue"),
            ("vec", "VecValue"),
            ("error", "ErrorValue"),
            ("aspect_ratio", "AspectRatio"),
            ("durations", "Durations"),
        ] {
            assert_eq!(generated_type_name(wire, "T"), expected, "{wire}");
        }
        for name in STD_TYPES {
            assert_ne!(&generated_type_name(name, "T"), name);
        }
    }

    #[test]
    fn keywords_and_odd_values() {
        assert_eq!(snake_name("type", "f_"), "type_");
        assert_eq!(snake_name("self", "f_"), "self_");
        assert_eq!(snake_name("imageURL", "f_"), "image_url");
        assert_eq!(type_name("self", "T"), "Self_");
        assert_eq!(variant_name("16:9"), "V16_9");
        assert_eq!(variant_name("1:1"), "V1_1");
        assert_eq!(variant_name("0.5K"), "V0_5k");
        assert_eq!(variant_name("auto"), "Auto");
        assert_eq!(variant_name("1080p"), "V1080p");
        assert_eq!(variant_name("-1"), "Neg1");
        assert_eq!(variant_name("1"), "V1");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("square_hd"), "SquareHd");
    }
}
