//! Output file bytes: a small decodable PNG and a small MP4, deterministic
//! from the generation id and file name.
//!
//! The PNG is a 64x64 8-bit RGB gradient whose colours derive from a hash of
//! the id; it is encoded with zlib "stored" (uncompressed) deflate blocks, so
//! its size is the same for every id ([`png_size`]). The MP4 is an `ftyp`
//! box, a `moov` box holding a movie header (`mvhd`) with the declared
//! duration, and an empty `mdat` box; its size is fixed too.

use std::sync::OnceLock;

/// Width and height of generated images and (declared) videos, in pixels.
pub const IMAGE_SIDE: u32 = 64;

/// Declared duration of generated videos, in seconds.
pub const VIDEO_DURATION_SECS: u32 = 5;

/// MIME type of generated images.
pub const PNG_CONTENT_TYPE: &str = "image/png";

/// MIME type of generated videos.
pub const MP4_CONTENT_TYPE: &str = "video/mp4";

/// Size in bytes of every generated PNG.
pub fn png_size() -> u64 {
    static SIZE: OnceLock<u64> = OnceLock::new();
    *SIZE.get_or_init(|| png_bytes("size").len() as u64)
}

/// Size in bytes of every generated MP4.
pub fn mp4_size() -> u64 {
    static SIZE: OnceLock<u64> = OnceLock::new();
    *SIZE.get_or_init(|| mp4_bytes().len() as u64)
}

/// FNV-1a hash of a string.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn crc32_table() -> &'static [u32; 256] {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (n, slot) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        table
    })
}

/// CRC-32 (ISO-HDLC, as used by PNG) of the concatenation of `parts`.
fn crc32(parts: &[&[u8]]) -> u32 {
    let table = crc32_table();
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xFFFF_FFFF
}

/// Adler-32 checksum (zlib trailer).
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// A zlib stream of `data` using stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65535 * 5 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A 64x64 RGB gradient PNG whose colours derive from `seed` (e.g.
/// `"<id>/output.png"`).
pub fn png_bytes(seed: &str) -> Vec<u8> {
    let h = fnv1a(seed);
    let base = [
        (h & 0xFF) as u8,
        ((h >> 8) & 0xFF) as u8,
        ((h >> 16) & 0xFF) as u8,
    ];
    let side = IMAGE_SIDE as usize;
    let mut raw = Vec::with_capacity(side * (1 + side * 3));
    for y in 0..side {
        raw.push(0); // filter: none
        for x in 0..side {
            let (xf, yf) = ((x * 4) as u8, (y * 4) as u8);
            raw.push(base[0].wrapping_add(xf));
            raw.push(base[1].wrapping_add(yf));
            raw.push(base[2].wrapping_add(xf / 2).wrapping_add(yf / 2));
        }
    }
    let mut out = Vec::with_capacity(raw.len() + 128);
    out.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&IMAGE_SIDE.to_be_bytes());
    ihdr.extend_from_slice(&IMAGE_SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, truecolour, deflate, adaptive, no interlace
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&((payload.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A minimal MP4: `ftyp` (isom), `moov` with an `mvhd` declaring
/// [`VIDEO_DURATION_SECS`], and an empty `mdat`.
pub fn mp4_bytes() -> Vec<u8> {
    let mut ftyp = Vec::new();
    ftyp.extend_from_slice(b"isom");
    ftyp.extend_from_slice(&0x200u32.to_be_bytes());
    for brand in [b"isom", b"iso2", b"avc1", b"mp41"] {
        ftyp.extend_from_slice(brand);
    }
    let timescale: u32 = 1000;
    let mut mvhd = Vec::new();
    mvhd.extend_from_slice(&[0, 0, 0, 0]); // version 0, flags
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation time
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification time
    mvhd.extend_from_slice(&timescale.to_be_bytes());
    mvhd.extend_from_slice(&(VIDEO_DURATION_SECS * timescale).to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]); // reserved
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes()); // unity matrix
    }
    mvhd.extend_from_slice(&[0; 24]); // pre-defined
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id
    let mut out = mp4_box(b"ftyp", &ftyp);
    out.extend_from_slice(&mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    out.extend_from_slice(&mp4_box(b"mdat", &[]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_known_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_is_deterministic_and_fixed_size() {
        let a = png_bytes("a/output.png");
        assert_eq!(a, png_bytes("a/output.png"));
        assert_ne!(a, png_bytes("b/output.png"));
        assert_eq!(a.len() as u64, png_size());
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn mp4_starts_with_ftyp() {
        let m = mp4_bytes();
        assert_eq!(&m[4..8], b"ftyp");
        let ftyp_len = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(&m[ftyp_len + 4..ftyp_len + 8], b"moov");
        assert_eq!(m.len() as u64, mp4_size());
    }
}
