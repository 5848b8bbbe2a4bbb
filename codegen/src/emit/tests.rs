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
