//! The built client as the relay serves it (relay::http::client_files): a directory laid out
//! like scripts/build-client.sh's dist/ — content-hashed wasm, glue and styles, the page and
//! the service worker under fixed names, a Brotli and a gzip copy beside each — asked for with
//! each `Accept-Encoding` a browser or a tool sends. Checks the encoding chosen, that the
//! bytes really decompress to the file, and the two cache policies: a year for hashed names,
//! revalidation for the rest.

use std::io::{Read, Write};
use std::path::Path;

use tests::TestRelay;

const WASM: &str = "client_bg.0123456789abcdef.wasm";
const JS: &str = "client.fedcba9876543210.js";
const CSS: &str = "style.00112233445566aa.css";
const IMMUTABLE: &str = "cache-control: public, max-age=31536000, immutable";
const REVALIDATE: &str = "cache-control: no-cache";
/// What Chromium sends with every request.
const CHROMIUM: &str = "gzip, deflate, br, zstd";

/// Something shaped like a wasm module: a header, then bytes that compress about as well as
/// code does (a repeated vocabulary with noise), large enough that the copies differ.
fn wasm_bytes() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    let mut state = 0x2545_f491_u32;
    while bytes.len() < 128 * 1024 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let word: &[u8] = match state % 5 {
            0 => b"local.get ",
            1 => b"i32.const ",
            2 => b"call ",
            3 => b"br_if ",
            _ => b"",
        };
        bytes.extend_from_slice(word);
        bytes.push((state >> 8) as u8);
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        encoder.write_all(bytes).unwrap();
    }
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a valid gzip stream");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).expect("a valid Brotli stream");
    out
}

/// Writes `name` and its `.br` and `.gz` copies, as the build does.
fn write_with_copies(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
    std::fs::write(dir.join(format!("{name}.br")), brotli(bytes)).unwrap();
    std::fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
}

/// A dist/ like the build's, with its files' contents.
struct Dist {
    dir: tempfile::TempDir,
    wasm: Vec<u8>,
    page: Vec<u8>,
}

fn dist() -> Dist {
    let dir = tempfile::tempdir().unwrap();
    let page = format!(
        "<!doctype html><title>Scene editor</title><link rel=\"stylesheet\" href=\"./{CSS}\">\
         <script type=\"module\">import init from './{JS}'; init({{ module_or_path: new URL('./{WASM}', import.meta.url) }});</script>"
    )
    .repeat(4)
    .into_bytes();
    let wasm = wasm_bytes();
    write_with_copies(dir.path(), "index.html", &page);
    write_with_copies(dir.path(), WASM, &wasm);
    write_with_copies(dir.path(), JS, b"export default async function init() { /* the glue */ }\n");
    write_with_copies(dir.path(), CSS, b"body { margin: 0 }\n");
    write_with_copies(dir.path(), "sw.js", b"const VERSION = 'abc';\nconst SHELL = ['./'];\n");
    write_with_copies(dir.path(), "worker.js", b"import init from './client.fedcba9876543210.js';\n");
    Dist { dir, wasm, page }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn the_wasm_goes_out_as_brotli_gzip_or_itself_and_always_decompresses_to_the_file() {
    let dist = dist();
    let dir = dist.dir.path().to_path_buf();
    let relay = TestRelay::start_with(|c| c.static_dir = Some(dir)).await;
    let path = format!("/{WASM}");

    for (accept, encoding) in [
        (Some("br"), Some("br")),
        (Some(CHROMIUM), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("gzip, br;q=0.5"), Some("gzip")),
        (Some("identity"), None),
        (None, None),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let (status, head, body) = tests::http_response(relay.addr(), "GET", &path, &headers, &[]).await;
        let lower = head.to_ascii_lowercase();
        assert_eq!(status, 200, "{accept:?}: {head}");
        assert_eq!(header(&head, "content-encoding"), encoding, "{accept:?}: {head}");
        assert_eq!(header(&head, "content-type"), Some("application/wasm"), "{head}");
        assert!(lower.contains(IMMUTABLE), "a hashed name is kept for good: {head}");
        assert!(lower.contains("vary: accept-encoding"), "caches keep the encodings apart: {head}");
        let length: usize = header(&head, "content-length").and_then(|l| l.parse().ok()).expect("a length");
        assert_eq!(length, body.len(), "{head}");
        let decoded = match encoding {
            Some("br") => unbrotli(&body),
            Some("gzip") => gunzip(&body),
            _ => body.clone(),
        };
        assert!(decoded == dist.wasm, "{accept:?}: {} bytes decode to {} bytes, not the file", body.len(), decoded.len());
        if encoding.is_some() {
            assert!(body.len() < dist.wasm.len() / 2, "{accept:?}: {} of {} bytes", body.len(), dist.wasm.len());
        }
    }
    // Each encoding is its own copy, sent as it is on disk (no compression per request).
    let br = tests::http_response(relay.addr(), "GET", &path, &[("Accept-Encoding", "br")], &[]).await.2;
    let gz = tests::http_response(relay.addr(), "GET", &path, &[("Accept-Encoding", "gzip")], &[]).await.2;
    assert!(br == std::fs::read(dist.dir.path().join(format!("{WASM}.br"))).unwrap(), "the .br file");
    assert!(gz == std::fs::read(dist.dir.path().join(format!("{WASM}.gz"))).unwrap(), "the .gz file");
    relay.stop().await;
}

#[tokio::test]
async fn hashed_files_are_kept_a_year_and_the_page_and_service_worker_are_revalidated() {
    let dist = dist();
    let dir = dist.dir.path().to_path_buf();
    let relay = TestRelay::start_with(|c| c.static_dir = Some(dir)).await;
    let br = [("Accept-Encoding", "br")];

    for hashed in [JS, CSS, WASM] {
        let (status, head, _) = tests::http_response(relay.addr(), "GET", &format!("/{hashed}"), &br, &[]).await;
        assert_eq!(status, 200, "{head}");
        assert!(head.to_ascii_lowercase().contains(IMMUTABLE), "{hashed}: {head}");
    }
    for fixed in ["/", "/index.html", "/sw.js", "/worker.js", "/rooms/deep/link"] {
        let (status, head, body) = tests::http_response(relay.addr(), "GET", fixed, &br, &[]).await;
        assert_eq!(status, 200, "{fixed}: {head}");
        assert!(head.to_ascii_lowercase().contains(REVALIDATE), "{fixed}: {head}");
        assert!(header(&head, "etag").is_some() && header(&head, "last-modified").is_some(), "{fixed} can be revalidated: {head}");
        assert_eq!(header(&head, "content-encoding"), Some("br"), "{fixed}: {head}");
        if fixed != "/sw.js" && fixed != "/worker.js" {
            assert!(unbrotli(&body) == dist.page, "{fixed} is the page");
        }
    }

    // Revalidating the page: unchanged is a 304 with no body, still to be revalidated.
    let (_, head, _) = tests::http_response(relay.addr(), "GET", "/", &br, &[]).await;
    let etag = header(&head, "etag").expect("an ETag").to_owned();
    let conditional = [("Accept-Encoding", "br"), ("If-None-Match", etag.as_str())];
    let (status, head, body) = tests::http_response(relay.addr(), "GET", "/", &conditional, &[]).await;
    assert_eq!((status, body.len()), (304, 0), "{head}");
    assert!(head.to_ascii_lowercase().contains(REVALIDATE), "{head}");

    // A hashed name that does not exist (an old deploy's) is a 404 that is not kept, never
    // the page stored for a year under a wasm URL.
    let (status, head, body) =
        tests::http_response(relay.addr(), "GET", "/client_bg.ffffffffffffffff.wasm", &br, &[]).await;
    assert_eq!(status, 404, "{head}");
    assert!(head.to_ascii_lowercase().contains(REVALIDATE), "{head}");
    assert!(!String::from_utf8_lossy(&body).contains("Scene editor"), "not the page");
    relay.stop().await;
}

#[tokio::test]
async fn under_a_base_path_the_same_policies_hold() {
    let dist = dist();
    let dir = dist.dir.path().to_path_buf();
    let relay = TestRelay::start_with(|c| {
        c.base_path = "/collab".into();
        c.static_dir = Some(dir);
    })
    .await;
    let br = [("Accept-Encoding", "br")];
    let (status, head, body) = tests::http_response(relay.addr(), "GET", &format!("/collab/{WASM}"), &br, &[]).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains(IMMUTABLE), "{head}");
    assert!(unbrotli(&body) == dist.wasm);
    let (status, head, body) = tests::http_response(relay.addr(), "GET", "/collab/", &br, &[]).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains(REVALIDATE), "{head}");
    assert!(unbrotli(&body) == dist.page);
    let (status, _, _) = tests::http_response(relay.addr(), "GET", "/collab/client_bg.ffffffffffffffff.wasm", &br, &[]).await;
    assert_eq!(status, 404);
    relay.stop().await;
}
