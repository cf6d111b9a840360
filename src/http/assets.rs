//! The built front end (`pkg/`) and public files: content-hashed version for URLs, caching
//! headers, compression.

use std::hash::Hasher;
use std::path::Path;

use app::AssetVersion;
use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;

/// A hash of the files that make up the front end, so their URLs change when they do.
pub(super) fn version_of(site_root: &Path) -> AssetVersion {
    let mut hasher = Fnv64::default();
    let mut found = false;
    for file in [
        "pkg/execdash.js",
        "pkg/execdash.wasm",
        "pkg/execdash.css",
        "boot.js",
    ] {
        if let Ok(bytes) = std::fs::read(site_root.join(file)) {
            hasher.write(&bytes);
            found = true;
        }
    }
    if !found {
        tracing::warn!(
            "no built front end in {} (run `cargo leptos build`): the page will not hydrate",
            site_root.display()
        );
    }
    AssetVersion(format!("{:016x}", hasher.finish()))
}

/// Versioned asset URLs (`?v=`) are cached for a year; others are revalidated every time.
pub(super) async fn cache_headers(request: Request<Body>, next: Next) -> Response {
    let versioned = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("v=")));
    let mut response = next.run(request).await;
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// FNV-1a, 64 bit: small and stable across builds and platforms.
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
