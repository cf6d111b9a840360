//! The "Connect your agents" page: where this server receives OpenTelemetry, the lines that
//! point each coding agent at it, and whether anything arrived from each.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// Everything the page shows (`GET /api/connect`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct ConnectInfo {
    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` should be: the public URL (else the address the
    /// server listens on) with the base path.
    pub endpoint: String,
    /// The server wants `Authorization: Bearer …` (the token is never shown).
    pub token_required: bool,
    /// Where the prices of calls that report no cost come from.
    pub prices: PriceSource,
    /// Each sender: the coding-agent CLIs always, and any other source seen today.
    pub sources: Vec<SourceSeen>,
    /// Why the sources could not be read (the telemetry database is unavailable).
    #[serde(default)]
    pub telemetry_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct PriceSource {
    pub source: String,
    /// The day the table was taken from its source.
    pub fetched: String,
    pub models: u64,
}

/// What arrived from one source (the `source` column of the invocations).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct SourceSeen {
    pub source: String,
    /// The timestamp of its latest call, as stored; `None`: nothing ever arrived.
    pub last_seen: Option<String>,
    pub calls_today: u64,
}
