//! The built front end (`pkg/`) and public files: served from the binary itself (built with the
//! `embed-site` feature, so a deployment is one file) or from a folder (`--site-root`, what
//! `cargo leptos serve` builds); embedded files in their precompressed br/gzip variants, and the
//! lazily loaded WASM files compressed with the main WASM as their dictionary to a browser that
//! holds it (HTTP Compression Dictionary Transport, `dcb`; embedded files only); a content-hashed
//! version for URLs; caching headers.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::Path;

use app::{AssetVersion, LazyLoader};
use axum::body::Body;
use axum::extract::OriginalUri;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use super::Error;

#[cfg(feature = "embed-site")]
#[derive(rust_embed::Embed)]
#[folder = "target/site"]
struct EmbeddedSite;

/// Whether this binary carries the front end.
pub(crate) const SITE_EMBEDDED: bool = cfg!(feature = "embed-site");

fn embedded(path: &str) -> Option<rust_embed::EmbeddedFile> {
    #[cfg(feature = "embed-site")]
    return <EmbeddedSite as rust_embed::RustEmbed>::get(path);
    #[cfg(not(feature = "embed-site"))]
    {
        let _ = path;
        None
    }
}

/// The site's files (paths relative to it, `/`-separated, sorted), but the compressed copies of
/// others (`.br`, `.gz`, `.dcb`): the embedded ones, or those under `site_root`.
fn site_files(site_root: Option<&Path>) -> Vec<String> {
    let mut files = match site_root {
        Some(root) => files_under(root, ""),
        None => embedded_files(),
    };
    files.retain(|name| {
        ![".br", ".gz", ".dcb"]
            .iter()
            .any(|copy| name.ends_with(copy))
    });
    files.sort();
    files
}

fn files_under(folder: &Path, prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => {
                files.extend(files_under(&entry.path(), &format!("{name}/")))
            }
            Ok(_) => files.push(name),
            Err(_) => {}
        }
    }
    files
}

fn embedded_files() -> Vec<String> {
    #[cfg(feature = "embed-site")]
    return <EmbeddedSite as rust_embed::RustEmbed>::iter()
        .map(|name| name.into_owned())
        .collect();
    #[cfg(not(feature = "embed-site"))]
    Vec::new()
}

/// A hash of every file of the front end (names and contents), so their URLs change when any
/// does: the main WASM and its glue, the stylesheet, boot.js, and the lazily loaded files and
/// their loader, which are fetched at versioned URLs too (a page's module can change alone).
/// Embedded files by the SHA-256 rust-embed took when it embedded them: reading their bytes here
/// would map the 2 MB of the WASM into the idle server for good (BENCHMARKS.md, "Memory").
pub(super) fn version_of(site_root: Option<&Path>) -> AssetVersion {
    let mut hasher = Fnv64::default();
    let files = site_files(site_root);
    for name in &files {
        hasher.write(name.as_bytes());
        match site_root {
            Some(root) => {
                if let Ok(bytes) = std::fs::read(root.join(name)) {
                    hasher.write(&bytes);
                }
            }
            None => {
                if let Some(file) = embedded(name) {
                    hasher.write(&file.metadata.sha256_hash());
                }
            }
        }
    }
    if !files.iter().any(|name| name == MAIN_SCRIPT) {
        match site_root {
            Some(root) => tracing::warn!(
                "no built front end in {} (run `cargo leptos build`): the page will not hydrate",
                root.display()
            ),
            None => tracing::warn!("the front end embedded in this binary is empty"),
        }
    }
    AssetVersion(format!("{:016x}", hasher.finish()))
}

/// The WASM's glue, which boot.js imports.
const MAIN_SCRIPT: &str = "pkg/execdash.js";

/// The files each lazily loaded route needs, as wasm-split's manifest lists them: the route's
/// name (`task_route`, as `#[lazy_route]` names its module `__task_route_view_…`) → its module
/// and the chunks it shares with other routes (names without `.wasm`, in `pkg/`); and the loader
/// that fetches them.
#[derive(Clone, Debug, Default)]
pub(super) struct LazyModules {
    routes: BTreeMap<String, Vec<String>>,
    loader: Option<LazyLoader>,
}

/// What scripts/rewrite-split-loader writes into wasm-split's loader when it makes it fetch the
/// lazily loaded files at versioned URLs and none of the empty ones (the name of the query it
/// appends).
const VERSIONED_LOADER_MARK: &str = "execdashVersionQuery";

/// A WebAssembly module with no section: its magic number and version. wasm-split leaves some
/// chunks so once wasm-opt has optimised away what they held.
const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

impl LazyModules {
    /// Reads `pkg/__wasm_split_manifest.json` and finds the loader beside it; none without a
    /// split build (a page then loads its module when it hydrates, as before).
    pub(super) fn of(site_root: Option<&Path>) -> LazyModules {
        const MANIFEST: &str = "pkg/__wasm_split_manifest.json";
        // Embedded files as the binary holds them (borrowed: a length is read without touching
        // their pages).
        let read = |name: &str| -> Option<std::borrow::Cow<'static, [u8]>> {
            match site_root {
                Some(root) => std::fs::read(root.join(name)).ok().map(Into::into),
                None => embedded(name).map(|file| file.data),
            }
        };
        let Some(bytes) = read(MANIFEST) else {
            return LazyModules::default();
        };
        let manifest = match serde_json::from_slice::<BTreeMap<String, Vec<String>>>(&bytes) {
            Ok(manifest) => manifest,
            Err(error) => {
                tracing::warn!(%error, "the site's {MANIFEST} could not be read: pages will not preload their modules");
                return LazyModules::default();
            }
        };
        let loader = site_files(site_root).into_iter().find_map(|name| {
            let file = name.strip_prefix("pkg/")?;
            (file.starts_with("__wasm_split.") && file.ends_with(".js")).then(|| LazyLoader {
                file: file.to_owned(),
                rewritten: read(&name).is_some_and(|source| {
                    source
                        .windows(VERSIONED_LOADER_MARK.len())
                        .any(|window| window == VERSIONED_LOADER_MARK.as_bytes())
                }),
            })
        });
        // A rewritten loader never fetches an empty module: the page does not preload one.
        let skips_empty = loader.as_ref().is_some_and(|loader| loader.rewritten);
        // By its length first: a folder's file is not read unless it is a header's length.
        let empty = |file: &str| {
            let name = format!("pkg/{file}.wasm");
            let header_long = match site_root {
                Some(root) => std::fs::metadata(root.join(&name))
                    .is_ok_and(|file| file.len() == EMPTY_MODULE.len() as u64),
                None => true,
            };
            header_long && read(&name).is_some_and(|module| *module == *EMPTY_MODULE)
        };
        let routes = manifest
            .into_iter()
            .filter_map(|(entry, mut files)| {
                let route = entry.trim_start_matches('_').split("_view_").next()?;
                if skips_empty {
                    files.retain(|file| !empty(file));
                }
                Some((route.to_owned(), files))
            })
            .collect();
        LazyModules { routes, loader }
    }

    /// The files of `route` (none for an unknown one).
    pub(super) fn files_of(&self, route: &str) -> &[String] {
        self.routes.get(route).map_or(&[], Vec::as_slice)
    }

    /// wasm-split's loader, when the site has one.
    pub(super) fn loader(&self) -> Option<&LazyLoader> {
        self.loader.as_ref()
    }
}

/// The service for every path no route claims: the site's files. A folder's files are compressed
/// as they are sent: its `.br`/`.gz` variants may be left over from another build (a debug build
/// does not make them), while the embedded ones were made with the files they stand for.
pub(super) fn service(site_root: Option<&Path>) -> axum::routing::MethodRouter {
    match site_root {
        Some(root) => axum::routing::get_service(ServeDir::new(root)),
        None => axum::routing::get(serve_embedded),
    }
}

/// The main WASM: what the lazily loaded files (`split_*.wasm`, `chunk_*.wasm`) are compressed
/// against (scripts/compress-with-dictionary), and what the browser keeps as their dictionary.
const DICTIONARY: &str = "pkg/execdash.wasm";

/// The length of a `dcb` body's magic number, which the dictionary's SHA-256 follows.
const DCB_MAGIC_LEN: usize = 4;

/// One embedded file, in the best precompressed encoding the client takes, with an `ETag` of that
/// representation (the file's hash, then the encoding: a cache never takes one for another). A
/// lazily loaded WASM file goes compressed with the main WASM as its dictionary (`dcb`) to a
/// browser that names that WASM in `Available-Dictionary` (Chromium-based ones do, once they
/// hold it: the main WASM's response says `Use-As-Dictionary`); brotli or gzip otherwise.
async fn serve_embedded(
    uri: Uri,
    OriginalUri(original): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let path = uri.path().trim_start_matches('/');
    let not_found = || Error::NotFound(format!("no such file: {}", uri.path()));
    let file = embedded(path).ok_or_else(not_found)?;
    let accepted = accepted_encodings(&headers);
    let against_dictionary = accepted
        .contains(&"dcb")
        .then(|| compressed_against_dictionary(path, &headers))
        .flatten()
        .map(|data| ("dcb", data));
    let precompressed = against_dictionary.or_else(|| {
        [("br", "br"), ("gzip", "gz")]
            .into_iter()
            .filter(|(encoding, _)| accepted.contains(encoding))
            .find_map(|(encoding, suffix)| {
                embedded(&format!("{path}.{suffix}")).map(|variant| (encoding, variant.data))
            })
    });
    // One validator per representation: the file's hash, and the encoding it is sent in.
    let hash = hex(&file.metadata.sha256_hash()[..12]);
    let etag = match &precompressed {
        Some((encoding, _)) => format!("\"{hash}-{encoding}\""),
        None => format!("\"{hash}\""),
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = match precompressed {
            Some((encoding, data)) => {
                let mut response = Body::from(data).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
                response
            }
            None => Body::from(file.data).into_response(),
        };
        if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
            response.headers_mut().insert(header::CONTENT_TYPE, mime);
        }
        response
    };
    let headers = response.headers_mut();
    if path.ends_with(".wasm") {
        headers.insert(
            header::VARY,
            HeaderValue::from_static("accept-encoding, available-dictionary"),
        );
    } else {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if path == DICTIONARY {
        // The WASM files beside it, at the address the browser used (under the base path).
        let folder = original
            .path()
            .rsplit_once('/')
            .map_or("", |(folder, _)| folder);
        if let Ok(value) = HeaderValue::from_str(&format!("match=\"{folder}/*.wasm\"")) {
            headers.insert("use-as-dictionary", value);
        }
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

/// `path`'s `dcb` variant when the request names, in `Available-Dictionary`, the dictionary it
/// was compressed against (the SHA-256 its first bytes carry): otherwise the browser could not
/// decode it.
fn compressed_against_dictionary(
    path: &str,
    headers: &HeaderMap,
) -> Option<std::borrow::Cow<'static, [u8]>> {
    use base64::Engine;
    let named = headers.get("available-dictionary")?.to_str().ok()?.trim();
    let named = named.strip_prefix(':')?.strip_suffix(':')?;
    let named = base64::engine::general_purpose::STANDARD
        .decode(named)
        .ok()?;
    let variant = embedded(&format!("{path}.dcb"))?;
    let against = variant.data.get(DCB_MAGIC_LEN..DCB_MAGIC_LEN + 32)?;
    (against == named.as_slice()).then_some(variant.data)
}

/// The encodings of `Accept-Encoding` not refused with `q=0`.
fn accepted_encodings(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next()?;
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (!refused && !name.is_empty()).then_some(name)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Versioned asset URLs (`?v=`) are cached for a year; others are revalidated every time. TypeScript
/// declarations are served as text.
pub(super) async fn asset_headers(request: Request<Body>, next: Next) -> Response {
    let versioned = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("v=")));
    // TypeScript (wasm-bindgen's `.d.ts`) is text; the MIME table's `.ts` is an MPEG stream.
    let typescript = request.uri().path().ends_with(".ts");
    let mut response = next.run(request).await;
    if typescript && response.status().is_success() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> Vec<String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepted_encodings(&headers)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn encodings_refused_with_q_zero_are_not_accepted() {
        assert_eq!(
            accepting("gzip, deflate, br, zstd"),
            ["gzip", "deflate", "br", "zstd"]
        );
        assert_eq!(accepting("br;q=0, gzip;q=0.8"), ["gzip"]);
        assert_eq!(accepting("gzip;q=0.0, identity"), ["identity"]);
        assert!(accepting("").is_empty());
    }

    /// A built site in a temporary folder: the glue, a lazily loaded page's module, the loader
    /// (`loader_source`) and the manifest naming the module, with compressed copies beside them.
    fn site(loader_source: &str) -> tempfile::TempDir {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        let files = [
            ("execdash.js", "export function hydrate() {}"),
            ("split___task_route_view_1.wasm", "\0asm task"),
            ("chunk_2.wasm", "\0asm\x01\0\0\0"),
            ("split___task_route_view_1.wasm.br", "compressed"),
            ("__wasm_split.____.js", loader_source),
            (
                "__wasm_split_manifest.json",
                r#"{"__task_route_view_1": ["chunk_2", "split___task_route_view_1"]}"#,
            ),
        ];
        for (name, content) in files {
            std::fs::write(pkg.join(name), content).unwrap();
        }
        site
    }

    #[test]
    fn the_version_changes_with_any_lazily_loaded_file_not_with_compressed_copies() {
        let site = site("fetch(x)");
        let before = version_of(Some(site.path()));
        let pkg = site.path().join("pkg");
        std::fs::write(pkg.join("split___task_route_view_1.wasm.br"), "other").unwrap();
        assert_eq!(version_of(Some(site.path())), before);
        std::fs::write(pkg.join("split___task_route_view_1.wasm"), "\0asm changed").unwrap();
        assert_ne!(version_of(Some(site.path())), before);
    }

    #[test]
    fn a_rewritten_loader_is_known_and_the_empty_modules_it_skips_are_not_preloaded() {
        let plain = site(r#"fetch(new URL("./chunk_2.wasm", import.meta.url))"#);
        let modules = LazyModules::of(Some(plain.path()));
        let loader = modules.loader().unwrap();
        assert_eq!(loader.file, "__wasm_split.____.js");
        assert!(!loader.rewritten);
        // wasm-split's own loader fetches every file: the page preloads every one.
        assert_eq!(
            modules.files_of("task_route"),
            ["chunk_2", "split___task_route_view_1"]
        );

        let rewritten = site(
            r#"const execdashVersionQuery = new URL(import.meta.url).search;
            fetch(new URL("./split___task_route_view_1.wasm" + execdashVersionQuery, import.meta.url))"#,
        );
        let modules = LazyModules::of(Some(rewritten.path()));
        assert!(modules.loader().unwrap().rewritten);
        assert_eq!(
            modules.files_of("task_route"),
            ["split___task_route_view_1"]
        );
    }
}
