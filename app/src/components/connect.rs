use leptos::prelude::*;

use super::{fetched, page_data, Follows};
use crate::model::{ConnectInfo, SourceSeen};

/// `/connect`: how to point each coding agent at this dashboard (the exact lines, with this
/// server's OTLP endpoint, base path and a token placeholder when a token is needed), and whether
/// anything arrived from each (its latest call, its calls today). Fetched again as costs change.
#[component]
pub fn ConnectPage() -> impl IntoView {
    // A call arriving from an agent changes the costs.
    let info = page_data::<ConnectInfo>(Follows::Costs, || "/api/connect".to_owned());
    view! {
        <main class="page connect" aria-labelledby="page-title">
            <h2 id="page-title">"Connect your agents"</h2>
            {fetched(info, "Reading what arrived…", "", connect_view)}
        </main>
    }
    .into_any()
}

/// One sender the page explains: its name, the source its calls are stored under, and the lines
/// that point it here.
struct Sender {
    name: &'static str,
    source: &'static str,
    how: &'static str,
    lines: String,
}

fn senders(info: &ConnectInfo) -> Vec<Sender> {
    let endpoint = &info.endpoint;
    let header = if info.token_required {
        "export OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer $EXECDASH_TOKEN\"\n"
    } else {
        ""
    };
    let codex_headers = if info.token_required {
        ", headers = { \"Authorization\" = \"Bearer ${EXECDASH_TOKEN}\" }"
    } else {
        ""
    };
    vec![
        Sender {
            name: "Claude Code",
            source: "claude-code",
            how: "In the shell that starts it (its cost is its own, its task and agent come from OTEL_RESOURCE_ATTRIBUTES):",
            lines: format!(
                "export CLAUDE_CODE_ENABLE_TELEMETRY=1\n\
                 export OTEL_LOGS_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp\n\
                 export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n\
                 export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}\n\
                 {header}\
                 export OTEL_RESOURCE_ATTRIBUTES=\"task.id=TASK-ID,agent=AGENT-NAME\"\n"
            ),
        },
        Sender {
            name: "Codex CLI",
            source: "codex",
            how: "In ~/.codex/config.toml (Codex reports no cost: its calls are priced from the table below):",
            lines: format!(
                "[otel]\n\
                 exporter = {{ otlp-http = {{ endpoint = \"{endpoint}/v1/logs\", protocol = \"binary\"{codex_headers} }} }}\n"
            ),
        },
        Sender {
            name: "Gemini CLI",
            source: "gemini-cli",
            how: "In the shell that starts it (Gemini reports no cost: its calls are priced from the table below):",
            lines: format!(
                "export GEMINI_TELEMETRY_ENABLED=true GEMINI_TELEMETRY_TARGET=local\n\
                 export GEMINI_TELEMETRY_OTLP_PROTOCOL=http\n\
                 export GEMINI_TELEMETRY_OTLP_ENDPOINT={endpoint}\n\
                 {header}"
            ),
        },
        Sender {
            name: "Any app with GenAI spans",
            source: "",
            how: "An app instrumented with OpenTelemetry's GenAI conventions (spans with gen_ai.usage.*):",
            lines: format!(
                "export OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n\
                 export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}\n\
                 {header}\
                 export OTEL_RESOURCE_ATTRIBUTES=\"execdash.task=TASK-ID,execdash.agent=AGENT-NAME\"\n"
            ),
        },
    ]
}

fn connect_view(info: ConnectInfo) -> impl IntoView {
    let senders = senders(&info);
    let known: Vec<&str> = senders.iter().map(|s| s.source).collect();
    let others: Vec<SourceSeen> = info
        .sources
        .iter()
        .filter(|s| !known.contains(&s.source.as_str()))
        .cloned()
        .collect();
    let seen = |source: &str| info.sources.iter().find(|s| s.source == source).cloned();
    let prices = format!(
        "Calls that report no cost are priced from {} (taken {}, {} models); start with --prices FILE to set your own. A model without a price is listed as unpriced on the Costs page, never as $0.",
        info.prices.source, info.prices.fetched, info.prices.models
    );
    view! {
        <p class="page-summary">
            "execdash receives OpenTelemetry (OTLP over HTTP, protobuf or JSON) at "
            <code data-endpoint="">{info.endpoint.clone()}</code>
            {if info.token_required {
                " with the access token (EXECDASH_TOKEN below stands for it)."
            } else {
                "."
            }}
        </p>
        {info.telemetry_error.clone().map(|reason| view! {
            <p class="detail-error" role="alert">{format!("What arrived cannot be read: {reason}")}</p>
        })}
        <div class="connect-senders">
            {senders
                .into_iter()
                .map(|sender| {
                    let status = (!sender.source.is_empty()).then(|| status_of(seen(sender.source)));
                    view! {
                        <section class="connect-sender" data-source=sender.source>
                            <h3>{sender.name}</h3>
                            {status}
                            <p>{sender.how}</p>
                            // Focusable: a long line scrolls, and a keyboard must reach it.
                            <pre class="connect-lines" tabindex="0" aria-label=format!("The lines for {}", sender.name)>
                                <code>{sender.lines}</code>
                            </pre>
                        </section>
                    }
                })
                .collect_view()}
        </div>
        {(!others.is_empty()).then(|| view! {
            <section class="connect-others" aria-labelledby="others-title">
                <h3 id="others-title">"Other sources today"</h3>
                <ul>
                    {others
                        .into_iter()
                        .map(|s| {
                            let line = format!("{} · {}", s.source, status_text(&s));
                            view! { <li data-source=s.source>{line}</li> }
                        })
                        .collect_view()}
                </ul>
            </section>
        })}
        <p class="connect-prices">{prices}</p>
    }
}

fn status_of(seen: Option<SourceSeen>) -> impl IntoView {
    let text = seen
        .as_ref()
        .map(status_text)
        .unwrap_or_else(|| "Nothing has arrived yet".to_owned());
    let arrived = seen.is_some_and(|s| s.last_seen.is_some());
    view! {
        <p class="source-status" class:arrived=arrived role="status">{text}</p>
    }
}

fn status_text(seen: &SourceSeen) -> String {
    match &seen.last_seen {
        None => "Nothing has arrived yet".to_owned(),
        Some(last) => format!(
            "Last call {last} · {} call{} today",
            seen.calls_today,
            if seen.calls_today == 1 { "" } else { "s" }
        ),
    }
}
