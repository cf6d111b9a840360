//! Metrics-only senders: Claude Code's `claude_code.cost.usage` (USD) and
//! `claude_code.token.usage` (tokens, by `type`: `input`, `output`, `cacheRead`,
//! `cacheCreation`) monotonic sums, per `session.id` and `model`, as a session's metered usage
//! (see [`crate::telemetry`]'s metered rows: kept until the session's own calls come, never
//! counted beside them).
//!
//! One metered row per session and model and:
//! - **delta** temporality (Claude Code's default): per export (`time_unix_nano`, the same on
//!   every point of one collection): the export's increments. Sent again, the same row.
//! - **cumulative**: per series start (the earliest `start_time_unix_nano` of the session's and
//!   model's points: fixed while the process runs), written again with each export's running
//!   total. A new process (`claude --continue`) starts new series: a new row.
//!
//! Points without a `session.id` (`OTEL_METRICS_INCLUDE_SESSION_ID=false`) cannot be told apart
//! from the session's calls: skipped. Negative or non-finite values are rejected.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, NumberDataPoint,
};

use super::attributes::Attributes;
use super::events::{attribute, time_of, Extracted, MAX_DERIVED_ID};
use crate::invocations::set_usage;
use crate::invocations::{PriceTable, Usage};
use crate::telemetry::{Invocation, METERED_PREFIX};

/// The tool and source of Claude Code's metered rows (as its events').
const SOURCE: &str = "claude-code";

/// What one counter point adds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Counter {
    Cost,
    Input,
    Output,
    CacheRead,
    CacheWrite,
}

/// The figures of one session and model in one export (delta) or series (cumulative).
#[derive(Default)]
struct Metered<'a> {
    cost: Option<f64>,
    tokens: [f64; 4],
    /// The newest point's time.
    time: u64,
    /// The attributes the agent and task are read from (the first point's).
    attributes: Option<Attributes<'a>>,
}

/// One row's key: session, model, cumulative, and the export's time or the series' start.
type Key = (String, String, bool, u64);

/// A session's and model's points of one temporality, with what each counts.
type Points<'a> =
    BTreeMap<(String, String, bool), Vec<(Counter, &'a NumberDataPoint, Attributes<'a>)>>;

/// The metered usage in the metrics of `request`.
pub(crate) fn metered_from_metrics(
    request: &ExportMetricsServiceRequest,
    prices: &PriceTable,
    now: DateTime<Utc>,
) -> Extracted {
    let mut out = Extracted::default();
    // (session, model, cumulative) → its points, with what each counts.
    let mut points: Points = BTreeMap::new();
    for resource_metrics in &request.resource_metrics {
        let resource: &[KeyValue] = resource_metrics
            .resource
            .as_ref()
            .map_or(&[], |r| r.attributes.as_slice());
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope: &[KeyValue] = scope_metrics
                .scope
                .as_ref()
                .map_or(&[], |s| s.attributes.as_slice());
            for metric in &scope_metrics.metrics {
                let Some(Data::Sum(sum)) = &metric.data else {
                    out.skipped += count_points(metric.data.as_ref());
                    continue;
                };
                let cumulative =
                    sum.aggregation_temporality == AggregationTemporality::Cumulative as i32;
                for point in &sum.data_points {
                    let attributes = Attributes::new(&point.attributes, scope, resource);
                    let counter = match metric.name.as_str() {
                        "claude_code.cost.usage" => Some(Counter::Cost),
                        "claude_code.token.usage" => match attributes.text(&["type"]).as_deref() {
                            Some("input") => Some(Counter::Input),
                            Some("output") => Some(Counter::Output),
                            Some("cacheRead") => Some(Counter::CacheRead),
                            Some("cacheCreation") => Some(Counter::CacheWrite),
                            _ => None,
                        },
                        _ => None,
                    };
                    let (Some(counter), Some(session)) =
                        (counter, attributes.text(&["session.id"]))
                    else {
                        out.skipped += 1;
                        continue;
                    };
                    let model = attributes
                        .text(&["model"])
                        .unwrap_or_else(|| "unknown".into());
                    points
                        .entry((session, model, cumulative))
                        .or_default()
                        .push((counter, point, attributes));
                }
            }
        }
    }
    let mut rows: BTreeMap<Key, Metered> = BTreeMap::new();
    for ((session, model, cumulative), points) in points {
        // A cumulative series' row: its earliest start (the same in every export).
        let start = points
            .iter()
            .map(|(_, p, _)| p.start_time_unix_nano)
            .min()
            .unwrap_or_default();
        for (counter, point, attributes) in points {
            let value = match point.value {
                Some(number_data_point::Value::AsDouble(v)) => v,
                Some(number_data_point::Value::AsInt(v)) => v as f64,
                None => {
                    out.skipped += 1;
                    continue;
                }
            };
            if !value.is_finite() || value < 0.0 {
                out.rejected.push(format!(
                    "a {counter:?} counter of session {session} is {value}: must be a finite number >= 0"
                ));
                continue;
            }
            let key = if cumulative {
                start
            } else {
                point.time_unix_nano
            };
            let row = rows
                .entry((session.clone(), model.clone(), cumulative, key))
                .or_default();
            match counter {
                Counter::Cost => *row.cost.get_or_insert(0.0) += value,
                Counter::Input => row.tokens[0] += value,
                Counter::Output => row.tokens[1] += value,
                Counter::CacheRead => row.tokens[2] += value,
                Counter::CacheWrite => row.tokens[3] += value,
            }
            row.time = row.time.max(point.time_unix_nano);
            row.attributes.get_or_insert(attributes);
        }
    }
    for ((session, model, cumulative, key), metered) in rows {
        let id = format!(
            "{METERED_PREFIX}{SOURCE}:{session}:{model}:{}{key}",
            if cumulative { "c" } else { "d" }
        );
        if id.len() > MAX_DERIVED_ID {
            out.rejected.push(format!(
                "session {session:.40}…: its id or model is too long"
            ));
            continue;
        }
        let tokens = metered.tokens.map(|n| n.round() as i64);
        let usage = Usage::anthropic(tokens[0], tokens[1], tokens[2], tokens[3], 0);
        let mut row = Invocation::new(&id, SOURCE, &model);
        row.timestamp = Some(time_of(metered.time, 0, now));
        if let Some(attributes) = metered.attributes {
            attribute(&mut row, attributes);
        }
        row.source = Some(SOURCE.into());
        row.session_id = Some(session);
        // To the nano-dollar: the sender's own sums carry float noise (0.005877000000000001).
        let reported = metered.cost.map(|c| (c * 1e9).round() / 1e9);
        set_usage(&mut row, &usage, reported, prices);
        row.privacy_level = Some("metadata".into());
        out.take(Some(Ok(row)), now);
    }
    out
}

fn count_points(data: Option<&Data>) -> usize {
    match data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics, Sum};

    use super::*;

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(value.into())),
            }),
            ..Default::default()
        }
    }

    fn point(kind: Option<&str>, value: f64, start: u64, time: u64) -> NumberDataPoint {
        let mut attributes = vec![
            kv("session.id", "s-1"),
            kv("model", "claude-sonnet-4-5"),
            kv("task.id", "T-1"),
        ];
        attributes.extend(kind.map(|k| kv("type", k)));
        NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        }
    }

    /// One export as Claude Code sends it: the cost and the four token counters of one call.
    fn export(
        temporality: AggregationTemporality,
        scale: f64,
        start: u64,
        time: u64,
    ) -> ExportMetricsServiceRequest {
        let sum = |name: &str, points: Vec<NumberDataPoint>| Metric {
            name: name.into(),
            data: Some(Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: temporality as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        sum(
                            "claude_code.session.count",
                            vec![point(None, 1.0, start, time)],
                        ),
                        sum(
                            "claude_code.cost.usage",
                            vec![point(None, 0.005877 * scale, start, time)],
                        ),
                        sum(
                            "claude_code.token.usage",
                            vec![
                                point(Some("input"), 1234.0 * scale, start, time),
                                point(Some("output"), 56.0 * scale, start, time),
                                point(Some("cacheRead"), 700.0 * scale, start, time),
                                point(Some("cacheCreation"), 300.0 * scale, start, time),
                            ],
                        ),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_delta_export_is_one_row_of_its_session_with_claude_codes_cost() {
        let out = metered_from_metrics(
            &export(AggregationTemporality::Delta, 1.0, 10, 20),
            PriceTable::embedded(),
            Utc::now(),
        );
        assert_eq!((out.invocations.len(), out.skipped), (1, 1));
        let row = &out.invocations[0];
        assert_eq!(
            row.invocation_id,
            "metered:claude-code:s-1:claude-sonnet-4-5:d20"
        );
        assert_eq!((row.prompt_tokens, row.completion_tokens), (2234, 56));
        assert_eq!(row.reported_cost_usd, Some(0.005877));
        assert_eq!(
            row.computed_cost_usd.map(|c| (c * 1e6).round()),
            Some(5877.0)
        );
        assert_eq!(row.task_id.as_deref(), Some("T-1"));
        assert_eq!(row.session_id.as_deref(), Some("s-1"));
    }

    #[test]
    fn a_cumulative_series_is_one_row_with_its_running_total() {
        let first = metered_from_metrics(
            &export(AggregationTemporality::Cumulative, 1.0, 10, 20),
            PriceTable::embedded(),
            Utc::now(),
        );
        let later = metered_from_metrics(
            &export(AggregationTemporality::Cumulative, 2.0, 10, 30),
            PriceTable::embedded(),
            Utc::now(),
        );
        assert_eq!(
            first.invocations[0].invocation_id,
            later.invocations[0].invocation_id
        );
        assert_eq!(later.invocations[0].completion_tokens, 112);
    }

    #[test]
    fn negative_counters_are_rejected_and_points_without_a_session_skipped() {
        let mut bad = export(AggregationTemporality::Delta, 1.0, 10, 20);
        let metrics = &mut bad.resource_metrics[0].scope_metrics[0].metrics;
        if let Some(Data::Sum(sum)) = &mut metrics[1].data {
            sum.data_points[0].value = Some(number_data_point::Value::AsDouble(-1.0));
        }
        if let Some(Data::Sum(sum)) = &mut metrics[2].data {
            sum.data_points[0].attributes.remove(0);
        }
        let out = metered_from_metrics(&bad, PriceTable::embedded(), Utc::now());
        assert_eq!(out.rejected.len(), 1, "{:?}", out.rejected);
        assert_eq!(out.skipped, 2);
        assert_eq!(out.invocations[0].prompt_tokens, 1000, "input skipped");
    }
}
