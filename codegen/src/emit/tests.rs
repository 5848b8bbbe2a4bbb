//! The reuse of unchanged files: the header check and the hash.

use super::*;

fn file(input: u64, body: &str) -> String {
    format!(
        "{PREAMBLE}\n{HASH_LINE}{input:016x} body-hash {:016x}\n\n{body}",
        hash64(body.as_bytes())
    )
}

#[test]
fn a_file_is_reused_only_with_the_same_input_and_an_intact_body() {
    let text = file(7, "pub struct A;\n");
    assert_eq!(reusable(&text, 7).as_deref(), Some(text.as_str()));
    assert_eq!(reusable(&text, 8), None, "another input");
    let edited = text.replace("struct A", "struct B");
    assert_eq!(reusable(&edited, 7), None, "a hand edit below the header");
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(reusable(&crlf, 7).as_deref(), Some(text.as_str()));
    assert_eq!(reusable("pub struct A;\n", 7), None, "no header");
}

#[test]
fn the_hash_is_stable_and_sees_every_byte() {
    // A fixed value: the header must not change between Rust versions or platforms.
    assert_eq!(hash64(b"abc"), 0x090f_580b_64d4_983b);
    assert_eq!(hash64(b"0123456789abcdefX"), 0x4b53_b97d_52a6_eaa3);
    let base = hash64(b"0123456789abcdefX");
    for i in 0..17 {
        let mut b = *b"0123456789abcdefX";
        b[i] ^= 1;
        assert_ne!(hash64(&b), base, "byte {i}");
    }
    assert_ne!(hash64(b"a"), hash64(b"a\0"), "the length counts");
}

/// Every model of the platform specs and of each fixture: the text path
/// (`model_text`, `methods_text`) gives byte for byte what the token path
/// (`model_rs`, `methods_rs` → `syn` → prettyplease) gives.
#[test]
fn model_text_is_what_the_token_path_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![(
        root.join("../specs/openapi.json"),
        root.join("../specs/docs.json"),
    )];
    for entry in std::fs::read_dir(root.join("tests/fixtures")).expect("fixtures") {
        let dir = entry.expect("fixture").path();
        dirs.push((dir.join("openapi.json"), dir.join("docs.json")));
    }
    let mut models = 0;
    for (openapi, docs) in &dirs {
        let specs = crate::load::load(openapi, docs).expect("loads");
        let ir = crate::ir_from_specs(&specs).expect("converts");
        let shared = Unchecked::of(&ir.shared, None);
        for m in &ir.models {
            let tokens = model_rs(m, &shared);
            let printed = prettyplease::unparse(&syn::parse2(tokens).expect("parses"));
            let text = model_text(m, &shared).expect("text");
            if printed != text {
                let first = printed
                    .lines()
                    .zip(text.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("printed: {a}\ntext:    {b}"))
                    .unwrap_or_else(|| "the line counts differ".into());
                panic!("{}: {first}", m.id);
            }
            models += 1;
        }
        for category in [Category::Images, Category::Videos] {
            let printed = prettyplease::unparse(&syn::parse2(methods_rs(&ir, category)).unwrap());
            let text = methods_text(&ir, category).expect("text");
            if text != printed {
                let first = printed
                    .lines()
                    .zip(text.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("printed: {a}\ntext:    {b}"))
                    .unwrap_or_else(|| "the line counts differ".into());
                panic!("{category:?} methods of {}: {first}", openapi.display());
            }
        }
    }
    assert!(models > 50, "{models} models");
}

/// prettyplease's layout of one item given as text.
fn printed(text: &str) -> String {
    prettyplease::unparse(&syn::parse_str(text).expect("parses"))
}

/// A value enum's macro call written as text, against prettyplease, for
/// lengths around the margin and words longer than a line.
#[test]
fn macro_calls_are_laid_out_as_prettyplease_lays_them_out() {
    let long = "x".repeat(95);
    for n in 2..40 {
        let mut words = vec![format!("E{}", "n".repeat(n % 7)), "{".to_string()];
        for i in 0..n / 2 {
            let value = if i == 3 && n > 30 {
                format!("\"{long}\"")
            } else {
                format!("\"{}\"", "v".repeat((i * 7 + n) % 13))
            };
            words.push(format!("V{i}"));
            words.push("=".into());
            words.push(if i + 1 < n / 2 {
                format!("{value},")
            } else {
                value
            });
        }
        words.push("}".into());
        let mut text = String::new();
        text::macro_call(&mut text, "crate::wire_enum::string_enum", &words);
        let one = format!("crate::wire_enum::string_enum!({});", words.join(" "));
        assert_eq!(text, printed(&one), "{n} words");
    }
}

/// Calls and signatures written as text, against prettyplease, for widths
/// around the margin (every width from one line to clearly broken).
#[test]
fn calls_and_signatures_around_the_margin() {
    for pad in 0..40 {
        let field = format!("\"{}\"", "f".repeat(pad));
        let args: Vec<String> = ["out", "path", &field, "*value as f64", "1.0", "false"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut text = String::new();
        text::call_stmt(&mut text, 3, "crate::validation::check_minimum", &args).expect("formats");
        let source = format!(
            "impl W {{ fn w() {{ {{ crate::validation::check_minimum({}); }} }} }}",
            args.join(", ")
        );
        let expected = printed(&source);
        let lines: Vec<&str> = expected.lines().collect();
        let expected: String = lines[3..lines.len() - 3]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(text, expected, "pad {pad}");

        let name = format!("s{}", "e".repeat(pad));
        let params = [
            "mut self".to_string(),
            "value: impl ::std::convert::Into<crate::Media>".to_string(),
        ];
        let mut sig = String::new();
        if text::signature(&mut sig, 1, &format!("pub fn {name}"), &params, " -> Self").is_ok() {
            sig.push_str("        self\n    }\n");
            let source = format!(
                "impl W {{ pub fn {name}({}) -> Self {{ self }} }}",
                params.join(", ")
            );
            let expected = printed(&source);
            let inner: Vec<&str> = expected.lines().collect();
            let inner: String = inner[1..inner.len() - 1]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(sig, inner, "pad {pad}");
        }
    }
}
