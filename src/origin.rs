//! Cross-origin protection: the socket and every write accept only the dashboard's own origin
//! (or origins allowed by configuration). Requests without `Origin` (curl, scripts) pass: browsers
//! always send it on WebSocket handshakes and cross-site writes.

use http::HeaderMap;

#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub fn new(allowed: &[String]) -> OriginPolicy {
        OriginPolicy {
            allowed: allowed
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }

    /// `Err` with the reason when the request's `Origin` is not allowed.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(http::header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .map_err(|_| "the Origin header is not valid text".to_owned())?
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return Ok(());
        }
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        let hosts = [http::header::HOST.as_str(), "x-forwarded-host"];
        let same_host = hosts.iter().any(|name| {
            headers
                .get(*name)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
        });
        if same_host {
            Ok(())
        } else {
            Err(format!(
                "origin {origin} is not allowed (allow it with --allowed-origins)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert("origin", origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn same_origin_and_configured_origins_pass() {
        let policy = OriginPolicy::new(&["https://dash.example.com/".into()]);
        assert!(policy
            .check(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"))
            .is_ok());
        assert!(policy.check(&headers(None, "127.0.0.1:3000")).is_ok());
        assert!(policy
            .check(&headers(Some("https://dash.example.com"), "127.0.0.1:3000"))
            .is_ok());
        let refused = policy.check(&headers(Some("http://evil.example"), "127.0.0.1:3000"));
        assert!(refused.unwrap_err().contains("evil.example"));
        assert!(policy
            .check(&headers(
                Some("http://127.0.0.1:3000.evil"),
                "127.0.0.1:3000"
            ))
            .is_err());
    }
}
