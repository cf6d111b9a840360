//! Dark or light: `data-theme` on `<html>`, remembered in localStorage. Without a choice the
//! system's preference decides (CSS `prefers-color-scheme`); `boot.js` applies a stored choice as
//! the page loads.

/// The localStorage key (also read by `public/boot.js`).
pub const STORAGE_KEY: &str = "execdash-theme";

/// Switches between dark and light and remembers the choice.
pub fn toggle() {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(root) = window.document().and_then(|d| d.document_element()) else {
            return;
        };
        let current = root.get_attribute("data-theme").unwrap_or_else(|| {
            let prefers_light = window
                .match_media("(prefers-color-scheme: light)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches());
            if prefers_light { "light" } else { "dark" }.to_owned()
        });
        let next = if current == "light" { "dark" } else { "light" };
        let _ = root.set_attribute("data-theme", next);
        if let Ok(Some(storage)) = window.local_storage() {
            let _ = storage.set_item(STORAGE_KEY, next);
        }
    }
}
