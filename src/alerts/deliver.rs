//! Sending one alert to one webhook, as the receiving service documents its format:
//! - `json`: `POST` of the alert as JSON (`kind`, `title`, `text`, `at`, `key`, `link`);
//! - `slack`: an incoming webhook's `{"text": "*title*\n…"}` (Slack's `mrkdwn`, a `<url|label>`
//!   link);
//! - `ntfy`: ntfy's HTTP publish: the text as the body, `Title`, `Tags` and `Click` headers.
//!
//! Each attempt has [`TIMEOUT`]; a failure (no answer, or not a 2xx) is tried again after
//! 0.5, 1 and 2 s, then the alert is undelivered there.

use std::time::Duration;

use app::model::Alert;
use serde_json::json;

use crate::runtime::{Webhook, WebhookFormat};

/// One attempt's bound.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts in all.
const ATTEMPTS: u32 = 4;
/// The first wait between attempts (doubled each time).
const BACKOFF: Duration = Duration::from_millis(500);

/// Why a delivery failed (its last attempt).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    #[error("no answer: {0}")]
    Unreachable(String),
    #[error("answered {0}")]
    Refused(u16),
}

/// An HTTP client for webhooks over HTTP or HTTPS (rustls with ring, the Mozilla roots).
pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("execdash/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Sends `alert` to `webhook`, trying again on failure; `attempt` hears of each try (1, 2, …).
pub(super) async fn send(
    client: &reqwest::Client,
    webhook: &Webhook,
    alert: &Alert,
    mut attempt: impl FnMut(u32),
) -> Result<(), DeliveryError> {
    let mut wait = BACKOFF;
    let mut last = DeliveryError::Unreachable("not tried".into());
    for number in 1..=ATTEMPTS {
        attempt(number);
        match request(client, webhook, alert).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = DeliveryError::Refused(response.status().as_u16()),
            Err(error) => last = DeliveryError::Unreachable(error.to_string()),
        }
        if number < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(last)
}

fn request(client: &reqwest::Client, webhook: &Webhook, alert: &Alert) -> reqwest::RequestBuilder {
    let link = alert.link.as_deref().map(|path| webhook.link(path));
    match webhook.format {
        WebhookFormat::Json => client.post(&webhook.url).json(&json!({
            "kind": alert.kind,
            "title": alert.title,
            "text": alert.text,
            "at": alert.at,
            "key": alert.key,
            "link": link,
        })),
        WebhookFormat::Slack => {
            let text = match &link {
                Some(link) => format!(
                    "*{}*\n{} <{link}|Open in execdash>",
                    alert.title, alert.text
                ),
                None => format!("*{}*\n{}", alert.title, alert.text),
            };
            client.post(&webhook.url).json(&json!({ "text": text }))
        }
        WebhookFormat::Ntfy => {
            let mut request = client
                .post(&webhook.url)
                .header("Title", ascii(&alert.title))
                .header("Tags", alert.kind.clone())
                .body(alert.text.clone());
            if let Some(link) = link {
                request = request.header("Click", link);
            }
            request
        }
    }
}

/// A header value: visible ASCII only (what else there is becomes `?`).
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}
