//! Lower and upper case by Unicode's rules (`ÜBER` → `über`), for searching and initials.
//!
//! Rust's `str::to_lowercase` carries Unicode's case tables: 30 KB of the browser's first
//! download (BENCHMARKS.md). In the browser the same mapping is asked of JavaScript's
//! `toLowerCase`/`toUpperCase` (Unicode's full default case conversion, the final sigma
//! included, as Rust's), so the tables stay out of the WASM; ASCII text, most of it, never
//! leaves Rust. The server, with no JavaScript, keeps Rust's.

/// `text` in lower case.
pub fn lowercase(text: &str) -> String {
    change_case(text, false)
}

/// `text` in upper case.
pub fn uppercase(text: &str) -> String {
    change_case(text, true)
}

fn change_case(text: &str, upper: bool) -> String {
    if text.is_ascii() {
        return if upper {
            text.to_ascii_uppercase()
        } else {
            text.to_ascii_lowercase()
        };
    }
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        let text = js_sys::JsString::from(text);
        let changed = if upper {
            text.to_upper_case()
        } else {
            text.to_lower_case()
        };
        changed.into()
    }
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    if upper {
        text.to_uppercase()
    } else {
        text.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unicode_change_case_alike() {
        assert_eq!(lowercase("Fix LOGIN"), "fix login");
        assert_eq!(lowercase("ÜBER Straße ΟΔΟΣ"), "über straße οδος");
        assert_eq!(uppercase("claude-code"), "CLAUDE-CODE");
        assert_eq!(uppercase("ßé"), "SSÉ");
    }
}
