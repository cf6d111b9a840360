//! The HTML document the server renders around the [`App`]: the board travels to the browser in
//! Leptos's hydration data, assets are versioned by their content hash.

use leptos::prelude::*;

use crate::components::App;
use crate::state::{Dashboard, InitialView, PageSettings};

/// Content hash of the built front end (JS, WASM, CSS), appended as `?v=` so browsers may cache
/// the assets for good.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetVersion(pub String);

/// wasm-split's loader of the lazily loaded WASM files, as the server found it in the site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LazyLoader {
    /// Its name in `pkg/` (the glue imports it as `./{file}`).
    pub file: String,
    /// scripts/rewrite-split-loader rewrote it: it fetches the lazily loaded files at versioned
    /// URLs, with its own `?v=` (the page preloads them at those), and never the empty ones.
    pub rewritten: bool,
}

/// What the page around the board depends on besides the board.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub assets: AssetVersion,
    /// The path the server lives under (`""` or `/dashboard`): every link starts with it, and the
    /// browser side reads it from `<html data-base>`.
    pub base: String,
    /// Where the site is (`""` or `/dashboard`): the assets, and this node's own board (`base`
    /// is `{home}/repos/{name}` on another repository's pages).
    pub home: String,
    /// The WASM files (names in `pkg/`, without `.wasm`) of the lazily loaded route the page is
    /// drawn with ([`crate::components::LazyPage::at`]): fetched with the page and the main
    /// WASM, so it hydrates without waiting for them after.
    pub preload: Vec<String>,
    /// wasm-split's loader (none in a build without lazily loaded files).
    pub lazy_loader: Option<LazyLoader>,
    /// The tab's title (see [`crate::components::page_title`]).
    pub title: String,
    /// In development, cargo-leptos's reload port: the page reloads after a rebuild.
    pub live_reload: Option<u16>,
    /// The server lets the page change task files.
    pub writable: bool,
    /// The board and what the page opens on besides it (a task's detail, a filter).
    pub view: InitialView,
    /// The repository shown, and this node's own (see [`PageSettings`]).
    pub repo: String,
    pub local_repo: String,
}

/// The whole page. The board and what it opens on travel to the browser in Leptos's hydration
/// data ([`InitialView::shared`]); each page's own data in its `Resource`.
pub fn shell(page: Page) -> impl IntoView {
    let Page {
        assets,
        base,
        home,
        preload,
        lazy_loader,
        title,
        live_reload,
        writable,
        view,
        repo,
        local_repo,
    } = page;
    let v = assets.0;
    // Modules imported by a plain relative name are mapped to their versioned URLs (cached for
    // good, never asked again): the glue, which the loader imports, and the loader, which the glue
    // imports.
    let mut imports = serde_json::Map::new();
    let mut version = |file: &str| {
        imports.insert(
            format!("{home}/pkg/{file}"),
            format!("{home}/pkg/{file}?v={v}").into(),
        );
    };
    version("execdash.js");
    if let Some(loader) = &lazy_loader {
        version(&loader.file);
    }
    let import_map = serde_json::json!({ "imports": imports })
        .to_string()
        .replace('<', "\\u003c");
    // The query the loader fetches the lazily loaded files with.
    let lazy_query = if lazy_loader.as_ref().is_some_and(|loader| loader.rewritten) {
        format!("?v={v}")
    } else {
        String::new()
    };
    let socket = crate::navigation::socket_path(&base, view.snapshot.seq, &view.snapshot.instance);
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    let settings = PageSettings {
        base: base.clone(),
        home: home.clone(),
        writable,
        repo: repo.clone(),
        local_repo: local_repo.clone(),
    };
    provide_context(Dashboard::with_settings(
        settings,
        InitialView::shared(move || view),
    ));
    view! {
        <!DOCTYPE html>
        <html
            lang="en"
            data-base=base.clone()
            data-home=home.clone()
            data-writable=writable.to_string()
            data-repo=repo
            data-local-repo=local_repo
            data-socket=socket
        >
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                // As text written out: a view would add a hydration marker (`<!>`), and inside
                // <title> that is not a comment but part of the title the tab shows.
                <title inner_html=html_escape::encode_text(&title).into_owned()></title>
                <link rel="icon" href=format!("{home}/favicon.svg?v={v}") type="image/svg+xml"/>
                <link rel="stylesheet" href=format!("{home}/pkg/execdash.css?v={v}")/>
                // The loader of the lazily loaded pages imports `./execdash.js` as it is: mapped
                // to the versioned module boot.js imports, so both are the one instance; the
                // glue imports the loader as it is: mapped to its versioned URL.
                <script type="importmap" nonce=nonce inner_html=import_map></script>
                <link rel="modulepreload" href=format!("{home}/pkg/execdash.js?v={v}")/>
                // The WASM's download starts with the page, not once boot.js and the glue ran
                // (two round trips later): on a slow link it is most of the launch.
                {wasm_preload(format!("{home}/pkg/execdash.wasm?v={v}"))}
                // The page's own module and the chunks it shares, named as the split loader
                // fetches them.
                {preload
                    .into_iter()
                    .map(|file| wasm_preload(format!("{home}/pkg/{file}.wasm{lazy_query}")))
                    .collect_view()}
                <script type="module" src=format!("{home}/boot.js?v={v}")></script>
                {live_reload.map(|port| view! {
                    <script src=format!("{home}/live-reload.js?v={v}") data-port=port.to_string()></script>
                })}
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A WASM file fetched with the page: named as the glue and the split loader fetch it (`fetch`,
/// so `as=fetch` with same-origin credentials), so that their request uses this download.
fn wasm_preload(href: String) -> impl IntoView {
    view! { <link rel="preload" href=href r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/> }
}
