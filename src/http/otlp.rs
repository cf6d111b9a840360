//! The OTLP/HTTP receiver: `POST /v1/logs`, `/v1/metrics`, `/v1/traces` on the dashboard's own
//! port (and under its base path), so `OTEL_EXPORTER_OTLP_ENDPOINT=http://host:port` is all a
//! coding agent needs. Both encodings, gzip, chunked bodies; the token applies as to every write
//! (`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer …`).
//!
//! Answers as the OTLP/HTTP specification says: `200` with the response message in the
//! request's encoding, its `partial_success` counting what was rejected and why; `400` with a
//! `Status` for a body that does not decode; `413` over [`MAX_WIRE_BYTES`] (8 MiB) on the wire or
//! 32 MiB inflated; `415` for another content type; `503` with `Retry-After` when more is
//! waiting to be stored than the telemetry's writer queues (40 000 rows). What is stored is stored
//! before the answer (all of a request's invocations in one transaction), so a retry after a
//! lost answer stores nothing twice.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use super::metrics::Metrics;
use super::{AppState, Error};
use crate::feeds::CostFeed;
use crate::invocations::PriceTable;
use crate::otlp::{
    decode, invocations_from_logs, invocations_from_spans, metered_from_metrics, DecodeError,
    Encoding, Extracted, Signal, MAX_WIRE_BYTES,
};
use crate::telemetry::{Telemetry, MAX_BATCH};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics))
        .route("/v1/traces", post(traces))
        .layer(DefaultBodyLimit::max(MAX_WIRE_BYTES))
}

/// What the three handlers share.
struct Export {
    encoding: Encoding,
    body: Bytes,
    content_encoding: Option<String>,
}

impl Export {
    fn of(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Export, Refusal> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(encoding) = Encoding::of_content_type(content_type) else {
            return Err(Refusal(
                Encoding::Json,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {content_type:?} is not OTLP: send application/x-protobuf or \
                     application/json"
                ),
            ));
        };
        let body = body.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Refusal(
                    encoding,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than {MAX_WIRE_BYTES} bytes: send smaller batches"),
                )
            } else {
                Refusal(encoding, StatusCode::BAD_REQUEST, rejection.body_text())
            }
        })?;
        let content_encoding = headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Export {
            encoding,
            body,
            content_encoding,
        })
    }

    fn decode<M>(&self) -> Result<M, Refusal>
    where
        M: prost::Message + Default + serde::de::DeserializeOwned,
    {
        decode(&self.body, self.encoding, self.content_encoding.as_deref()).map_err(|error| {
            let code = match error {
                DecodeError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                DecodeError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            };
            Refusal(self.encoding, code, error.to_string())
        })
    }

    /// Decodes the body as an `M` and extracts what it reports, on the blocking pool: a batch of
    /// 512 records is milliseconds of work without a pause, which on the runtime's workers kept
    /// every other task waiting meanwhile (the telemetry writer's next statement among them).
    async fn extract<M>(
        self,
        prices: Arc<PriceTable>,
        extract: fn(&M, &PriceTable, DateTime<Utc>) -> Extracted,
    ) -> Result<Extracted, Refusal>
    where
        M: prost::Message + Default + serde::de::DeserializeOwned + 'static,
    {
        let encoding = self.encoding;
        tokio::task::spawn_blocking(move || {
            let request: M = self.decode()?;
            Ok(extract(&request, &prices, Utc::now()))
        })
        .await
        .unwrap_or_else(|error| {
            Err(Refusal(
                encoding,
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the export could not be read: {error}"),
            ))
        })
    }
}

/// The state the handlers store through.
#[derive(Clone)]
struct Sink {
    board: crate::board::SharedStore,
    telemetry: Telemetry,
    costs: Arc<CostFeed>,
    metrics: Arc<Metrics>,
    prices: Arc<PriceTable>,
    repo: Option<String>,
}

impl axum::extract::FromRef<AppState> for Sink {
    fn from_ref(state: &AppState) -> Sink {
        Sink {
            board: state.board.clone(),
            telemetry: state.telemetry.clone(),
            costs: state.costs.clone(),
            metrics: state.metrics.clone(),
            prices: state.prices.clone(),
            repo: super::invocations::repository_of(state),
        }
    }
}

impl Sink {
    /// Stores what was extracted; the rejected items with their reasons.
    async fn store(&self, signal: Signal, extracted: Extracted) -> Result<(i64, String), Error> {
        let Extracted {
            mut invocations,
            mut rejected,
            skipped,
        } = extracted;
        for invocation in &mut invocations {
            if invocation.repo.is_none() {
                invocation.repo = self.repo.clone();
            }
        }
        crate::invocations::infer(&self.board, &mut invocations, Utc::now());
        let mut stored = 0;
        if signal == Signal::Metrics {
            let report = self.telemetry.meter(invocations).await?;
            stored += report.written + report.redundant;
        } else {
            // Refused at once (503, `Retry-After`) when the writer's queue is full: the
            // exporter sends again later (what is stored already is not stored twice).
            let mut rest = invocations;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(MAX_BATCH));
                let batch = std::mem::replace(&mut rest, tail);
                let report = self.telemetry.try_ingest(batch).await?;
                stored += report.inserted + report.completed + report.superseded;
                rejected.extend(report.conflicts.into_iter().map(|id| {
                    format!("{id} is already stored with other content; the stored one is kept")
                }));
            }
        }
        if stored > 0 {
            self.metrics.ingested(stored);
            self.costs.after_write().await;
        }
        tracing::debug!(
            ?signal,
            stored,
            rejected = rejected.len(),
            skipped,
            "OTLP export"
        );
        let message = match rejected.as_slice() {
            [] => String::new(),
            [one] => format!("1 of the {} was rejected: {one}", signal.items()),
            [first, rest @ ..] => format!(
                "{} of the {} were rejected; the first: {first}",
                rest.len() + 1,
                signal.items()
            ),
        };
        Ok((rejected.len() as i64, message))
    }
}

async fn logs(
    State(sink): State<Sink>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    let export = Export::of(&headers, body)?;
    let encoding = export.encoding;
    let extracted = export
        .extract::<ExportLogsServiceRequest>(sink.prices.clone(), invocations_from_logs)
        .await?;
    match sink.store(Signal::Logs, extracted).await {
        Ok((rejected, message)) => Ok(answer(
            encoding,
            &ExportLogsServiceResponse {
                partial_success: (rejected > 0).then_some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: message,
                }),
            },
        )),
        Err(error) => Err(Refusal::of(encoding, error)),
    }
}

async fn traces(
    State(sink): State<Sink>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    let export = Export::of(&headers, body)?;
    let encoding = export.encoding;
    let extracted = export
        .extract::<ExportTraceServiceRequest>(sink.prices.clone(), invocations_from_spans)
        .await?;
    match sink.store(Signal::Traces, extracted).await {
        Ok((rejected, message)) => Ok(answer(
            encoding,
            &ExportTraceServiceResponse {
                partial_success: (rejected > 0).then_some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message,
                }),
            },
        )),
        Err(error) => Err(Refusal::of(encoding, error)),
    }
}

/// Metrics: a metrics-only sender's usage counters (Claude Code's `cost.usage` and
/// `token.usage`) as its sessions' metered usage, until their calls come as events.
async fn metrics(
    State(sink): State<Sink>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    let export = Export::of(&headers, body)?;
    let encoding = export.encoding;
    let extracted = export
        .extract::<ExportMetricsServiceRequest>(sink.prices.clone(), metered_from_metrics)
        .await?;
    match sink.store(Signal::Metrics, extracted).await {
        Ok((rejected, message)) => Ok(answer(
            encoding,
            &ExportMetricsServiceResponse {
                partial_success: (rejected > 0).then_some(ExportMetricsPartialSuccess {
                    rejected_data_points: rejected,
                    error_message: message,
                }),
            },
        )),
        Err(error) => Err(Refusal::of(encoding, error)),
    }
}

fn answer<M: prost::Message + serde::Serialize>(encoding: Encoding, message: &M) -> Response {
    (
        [(header::CONTENT_TYPE, encoding.content_type())],
        encoding.encode(message),
    )
        .into_response()
}

/// An export refused: its status, and why, answered as a `google.rpc.Status` in the request's
/// encoding (a 503 keeps its `Retry-After`, which OTLP exporters honour).
struct Refusal(Encoding, StatusCode, String);

impl Refusal {
    /// The database could not store the export: the dashboard's error.
    fn of(encoding: Encoding, error: Error) -> Refusal {
        Refusal(encoding, error.status(), error.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(encoding, code, message) = self;
        // gRPC's codes: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE, else INTERNAL.
        let rpc_code = match code {
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3,
            StatusCode::PAYLOAD_TOO_LARGE => 8,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            _ => 13,
        };
        let mut response = answer(
            encoding,
            &RpcStatus {
                code: rpc_code,
                message,
            },
        );
        *response.status_mut() = code;
        if code == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `google.rpc.Status`, the body of OTLP/HTTP's error answers.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}
