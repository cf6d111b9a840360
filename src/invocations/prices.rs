//! What a model call costs, from a price table a maintained source keeps: LiteLLM's
//! `model_prices_and_context_window.json`, reduced by `scripts/update-prices` to the models coding
//! agents use (`data/prices.json`, embedded with its source version and date), and the
//! overrides of `--prices FILE` (the same shape, per model, winning over the embedded entry).
//!
//! A model is found by its name exactly, then lower-cased, then without a provider prefix
//! (`anthropic/`, `bedrock`'s `anthropic.`), a bracketed suffix (`[1m]`), a version suffix after
//! `@`, a date suffix (`-20250929`, `-2024-08-06`), or `-latest`. A model found nowhere has no
//! price: its calls are **unpriced** (counted apart, never as $0).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded table (`data/prices.json`).
const EMBEDDED: &str = include_str!("../../data/prices.json");

/// Per-token prices of one model (US dollars).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub(crate) struct Price {
    pub(crate) input: f64,
    pub(crate) output: f64,
    #[serde(default)]
    pub(crate) cache_read: Option<f64>,
    /// A write to the prompt cache kept 5 minutes.
    #[serde(default)]
    pub(crate) cache_write: Option<f64>,
    /// A write kept an hour.
    #[serde(default)]
    pub(crate) cache_write_1h: Option<f64>,
    /// Long-context prices: for a call whose prompt is over `above` tokens.
    #[serde(default)]
    pub(crate) tiers: Vec<Tier>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub(crate) struct Tier {
    pub(crate) above: u64,
    #[serde(default)]
    pub(crate) input: Option<f64>,
    #[serde(default)]
    pub(crate) output: Option<f64>,
    #[serde(default)]
    pub(crate) cache_read: Option<f64>,
    #[serde(default)]
    pub(crate) cache_write: Option<f64>,
}

/// The tokens of one call, by how they are priced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Input read neither from nor into the cache.
    pub(crate) input: i64,
    pub(crate) output: i64,
    pub(crate) cache_read: i64,
    pub(crate) cache_write_5m: i64,
    pub(crate) cache_write_1h: i64,
}

impl Usage {
    /// As Anthropic's API counts a call (Claude Code's telemetry and transcripts alike): input
    /// apart from the cache, cache reads, and cache writes of which `written_1h` are kept an hour.
    pub(crate) fn anthropic(
        input: i64,
        output: i64,
        cache_read: i64,
        written: i64,
        written_1h: i64,
    ) -> Usage {
        let written_1h = written_1h.clamp(0, written.max(0));
        Usage {
            input,
            output,
            cache_read,
            cache_write_5m: written - written_1h,
            cache_write_1h: written_1h,
        }
    }

    /// As OpenAI's Responses API counts a call (Codex's telemetry and session files alike): the
    /// cached input inside the input, the reasoning inside the output.
    pub(crate) fn openai(input: i64, cached: i64, output: i64) -> Usage {
        let cached = cached.clamp(0, input.max(0));
        Usage {
            input: input - cached,
            output,
            cache_read: cached,
            ..Usage::default()
        }
    }

    /// Every input token: apart from the cache, read from it and written to it.
    pub(crate) fn prompt(&self) -> i64 {
        self.input + self.cache_read + self.cache_written()
    }

    pub(crate) fn cache_written(&self) -> i64 {
        self.cache_write_5m + self.cache_write_1h
    }
}

impl Price {
    /// What `usage` costs at these prices (a long-context tier's where the prompt is over it).
    pub(crate) fn cost(&self, usage: &Usage) -> f64 {
        let tier = self
            .tiers
            .iter()
            .rev()
            .find(|tier| usage.prompt() > 0 && usage.prompt() as u64 > tier.above);
        let input = tier.and_then(|t| t.input).unwrap_or(self.input);
        let output = tier.and_then(|t| t.output).unwrap_or(self.output);
        let cache_read = tier
            .and_then(|t| t.cache_read)
            .or(self.cache_read)
            .unwrap_or(input);
        let cache_write = tier
            .and_then(|t| t.cache_write)
            .or(self.cache_write)
            .unwrap_or(input);
        let cache_write_1h = self.cache_write_1h.unwrap_or(cache_write);
        usage.input as f64 * input
            + usage.output as f64 * output
            + usage.cache_read as f64 * cache_read
            + usage.cache_write_5m as f64 * cache_write
            + usage.cache_write_1h as f64 * cache_write_1h
    }
}

/// Why a price file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum PricesError {
    #[error("cannot read the price file {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the price file {path} is not a price table: {message} (expected {{\"models\": {{\"name\": {{\"input\": 3e-6, \"output\": 1.5e-5, …}}}}}}, US dollars per token)")]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    source: String,
    #[serde(default)]
    fetched: String,
    models: HashMap<String, Price>,
}

/// Every model's price, and where they come from.
#[derive(Clone, Debug)]
pub(crate) struct PriceTable {
    /// The source and its date, as the API and page show them.
    pub(crate) source: String,
    pub(crate) fetched: String,
    models: HashMap<String, Price>,
    /// The models `--prices` set.
    overridden: usize,
}

impl PriceTable {
    /// The embedded table, read once and kept.
    pub(crate) fn embedded() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(PriceTable::read_embedded)
    }

    /// The embedded table, read anew: for an owner that keeps it (the server holds one in an
    /// `Arc`; a copy of [`PriceTable::embedded`] would keep the table twice, ~70 KB).
    pub(crate) fn read_embedded() -> PriceTable {
        let document: Document =
            serde_json::from_str(EMBEDDED).expect("data/prices.json is a price table");
        PriceTable {
            source: document.source,
            fetched: document.fetched,
            models: document.models,
            overridden: 0,
        }
    }

    /// The embedded table with the models of the file at `path` over it.
    pub(crate) fn with_overrides(path: &Path) -> Result<PriceTable, PricesError> {
        let text = std::fs::read_to_string(path).map_err(|source| PricesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| PricesError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let document: Document =
            serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
        for (name, price) in &document.models {
            let numbers = [price.input, price.output].into_iter().chain(
                [price.cache_read, price.cache_write, price.cache_write_1h]
                    .into_iter()
                    .flatten(),
            );
            if numbers.into_iter().any(|n| !n.is_finite() || n < 0.0) {
                return Err(invalid(format!("{name}: prices must be numbers ≥ 0")));
            }
        }
        let mut table = PriceTable::read_embedded();
        table.overridden = document.models.len();
        table.source = format!(
            "{} (embedded) and {} for {} model(s)",
            table.source,
            path.display(),
            table.overridden
        );
        table.models.extend(document.models);
        Ok(table)
    }

    /// The price of `model` and the name it was found under.
    pub(crate) fn find(&self, model: &str) -> Option<(&str, &Price)> {
        candidates(model).find_map(|name| {
            self.models
                .get_key_value(name.as_str())
                .map(|(k, v)| (k.as_str(), v))
        })
    }

    /// What `usage` of `model` costs; `None` when the model has no price.
    pub(crate) fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.find(model).map(|(_, price)| price.cost(usage))
    }

    pub(crate) fn len(&self) -> usize {
        self.models.len()
    }
}

/// The names `model` is looked up under, most exact first.
fn candidates(model: &str) -> impl Iterator<Item = String> {
    let mut names = vec![model.to_owned()];
    let mut name = model.trim().to_ascii_lowercase();
    names.push(name.clone());
    if let Some(at) = name.rfind('/') {
        name = name[at + 1..].to_owned();
        names.push(name.clone());
    }
    for prefix in ["anthropic.", "us.anthropic.", "eu.anthropic."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest.to_owned();
            names.push(name.clone());
        }
    }
    if let Some(at) = name.find('[') {
        name = name[..at].to_owned();
        names.push(name.clone());
    }
    if let Some(at) = name.find('@') {
        name = name[..at].to_owned();
        names.push(name.clone());
    }
    // Bedrock's `-v1:0` version suffix.
    if let Some(at) = name.find("-v1:") {
        name = name[..at].to_owned();
        names.push(name.clone());
    }
    for suffix in ["-latest"] {
        if let Some(rest) = name.strip_suffix(suffix) {
            name = rest.to_owned();
            names.push(name.clone());
        }
    }
    if let Some(undated) = without_date(&name) {
        names.push(undated);
    }
    names.dedup();
    names.into_iter()
}

/// `name` without a trailing `-YYYYMMDD` or `-YYYY-MM-DD`.
fn without_date(name: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (rest, last) = name.rsplit_once('-')?;
    if last.len() == 8 && digits(last) {
        return Some(rest.to_owned());
    }
    let (rest, day) = (rest, last);
    let (rest, month) = rest.rsplit_once('-')?;
    let (rest, year) = rest.rsplit_once('-')?;
    (year.len() == 4
        && month.len() == 2
        && day.len() == 2
        && digits(year)
        && digits(month)
        && digits(day))
    .then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_codes_own_cost_is_the_tables_to_the_micro_dollar() {
        // Claude Code 2.1 reported cost_usd_micros 5877 for these figures on claude-sonnet-4-5.
        let usage = Usage {
            input: 1234,
            output: 56,
            cache_read: 700,
            cache_write_5m: 300,
            cache_write_1h: 0,
        };
        let cost = PriceTable::embedded()
            .cost("claude-sonnet-4-5", &usage)
            .unwrap();
        assert_eq!((cost * 1e6).round(), 5877.0, "{cost}");
    }

    #[test]
    fn names_are_found_through_prefixes_and_date_suffixes() {
        let table = PriceTable::embedded();
        for (asked, found) in [
            ("claude-sonnet-4-5", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
            ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
            ("Claude-Sonnet-4-5", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5-20991231", "claude-sonnet-4-5"),
            ("gpt-4o-2099-01-01", "gpt-4o"),
            ("gpt-5-codex", "gpt-5-codex"),
        ] {
            assert_eq!(
                table.find(asked).map(|(name, _)| name),
                Some(found),
                "{asked}"
            );
        }
        assert!(table.find("standin-model-without-a-price").is_none());
        assert!(table.len() > 100, "{} models", table.len());
        assert!(table.source.starts_with("LiteLLM "));
    }

    #[test]
    fn a_long_prompt_is_priced_at_the_long_context_tier() {
        let price = Price {
            input: 1.0,
            output: 10.0,
            tiers: vec![Tier {
                above: 200_000,
                input: Some(2.0),
                output: Some(15.0),
                ..Tier::default()
            }],
            ..Price::default()
        };
        let short = Usage {
            input: 200_000,
            output: 1,
            ..Usage::default()
        };
        let long = Usage {
            input: 200_001,
            ..short
        };
        assert_eq!(price.cost(&short), 200_010.0);
        assert_eq!(price.cost(&long), 400_017.0);
        // Without its own cache prices, cached input costs what input costs.
        let cached = Usage {
            cache_read: 10,
            cache_write_5m: 1,
            cache_write_1h: 1,
            ..Usage::default()
        };
        assert_eq!(price.cost(&cached), 12.0);
    }

    #[test]
    fn an_override_file_wins_and_a_bad_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(
            &path,
            r#"{"models": {"claude-sonnet-4-5": {"input": 1e-6, "output": 2e-6}, "in-house-7b": {"input": 0, "output": 1e-7}}}"#,
        )
        .unwrap();
        let table = PriceTable::with_overrides(&path).unwrap();
        assert_eq!(
            table.cost(
                "claude-sonnet-4-5",
                &Usage {
                    input: 1_000_000,
                    ..Usage::default()
                }
            ),
            Some(1.0)
        );
        assert_eq!(
            table.cost(
                "in-house-7b",
                &Usage {
                    output: 10_000_000,
                    ..Usage::default()
                }
            ),
            Some(1.0)
        );
        assert!(table.source.contains("for 2 model(s)"));
        std::fs::write(&path, r#"{"models": {"x": {"input": -1, "output": 0}}}"#).unwrap();
        let error = PriceTable::with_overrides(&path).unwrap_err().to_string();
        assert!(error.contains("x: prices must be numbers ≥ 0"), "{error}");
        std::fs::write(&path, "not json").unwrap();
        let error = PriceTable::with_overrides(&path).unwrap_err().to_string();
        assert!(error.contains("is not a price table"), "{error}");
    }
}
