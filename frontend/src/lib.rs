//! The WASM entry point: hydrates the server-rendered dashboard.

use wasm_bindgen::prelude::*;

/// Called by boot.js with the live socket it opened while the WASM downloaded
/// (`{socket, messages}`, or `undefined`).
#[wasm_bindgen]
pub fn hydrate(early_socket: JsValue) {
    console_error_panic_hook::set_once();
    app::hydrate_dashboard(early_socket);
}
