//! The built browser client (`--static-dir`, the `dist/` of scripts/build-client.sh): its
//! files with their precompressed copies, and the cache policy that makes a repeat visit
//! cost nothing without ever leaving a browser on a stale editor.
//!
//! **Compression.** The build writes a Brotli (`.br`, highest quality) and a gzip (`.gz`,
//! -9) copy beside each file the browser loads; `ServeDir` sends the best one the request's
//! `Accept-Encoding` allows (Brotli before gzip at equal weight, the file itself to anyone
//! else), at no CPU cost per request.
//!
//! **Caching.** The build names the large files after their content: `NAME.HASH.EXT`, HASH
//! being 16 lowercase hex digits of the file's SHA-256 (`client_bg.0123456789abcdef.wasm`).
//! Such a URL always means the same bytes, so browsers may keep it a year without asking
//! (`public, max-age=31536000, immutable`). The page (index.html), the service worker, the
//! jobs' worker script and anything else keep their name from one deploy to the next: they
//! are `no-cache`, revalidated on every use against the ETag and Last-Modified `ServeDir`
//! sends (a 304 while unchanged). That is how a deploy reaches browsers: the new page names
//! new hashes.
//!
//! A hashed name that does not exist is a 404, never the page that unknown paths get
//! otherwise (deep links): the page stored under a wasm URL for a year would break the
//! editor in that browser until its cache is cleared.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// What content-hashed files are sent with: kept a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// What every other file is sent with: stored, but revalidated before each use.
pub const REVALIDATE: &str = "no-cache";

/// Length of the hash in a content-hashed file name (scripts/build-client.sh writes it).
const HASH_LEN: usize = 16;

/// The service serving `dir`: files by path, the page (`dir/index.html`) for unknown paths
/// that are not content-hashed, each response with its `Cache-Control`.
pub fn service(dir: &Path) -> BoxCloneSyncService<Request, Response, Infallible> {
    let page = ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip();
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let with_page = files.clone().fallback(page);
    BoxCloneSyncService::new(tower::service_fn(move |request: Request| {
        let files = files.clone();
        let with_page = with_page.clone();
        async move {
            let hashed = is_content_hashed(request.uri().path());
            let response = if hashed {
                files.oneshot(request).await.map(|r| r.map(Body::new))
            } else {
                with_page.oneshot(request).await.map(|r| r.map(Body::new))
            };
            let mut response = match response {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let stored = matches!(response.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED);
            let policy = if hashed && stored { IMMUTABLE } else { REVALIDATE };
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
            Ok(response)
        }
    }))
}

/// Whether the last segment of `path` is `NAME.HASH.EXT` with a 16-digit lowercase hex HASH.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = name.rsplit('.');
    let (Some(ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !ext.is_empty()
        && !stem.is_empty()
        && hash.len() == HASH_LEN
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn hashed_names_are_name_hash_ext() {
        assert!(is_content_hashed("/client_bg.0123456789abcdef.wasm"));
        assert!(is_content_hashed("client.fedcba9876543210.js"));
        assert!(is_content_hashed("/a/b/style.0000000000000000.css"));
        assert!(is_content_hashed("/x.y.0123456789abcdef.js"), "dots in the name");
        for plain in [
            "/",
            "/index.html",
            "/sw.js",
            "/client_bg.wasm",
            "/0123456789abcdef.wasm",
            "/client.0123456789ABCDEF.js",
            "/client.0123456789abcde.js",
            "/client.0123456789abcdef0.js",
            "/client.0123456789abcdef.",
            "/client.0123456789abcdef.wasm.br",
            "/client.0123456789abcdef.wasm/",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
