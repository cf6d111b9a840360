use leptos::prelude::*;

use super::{fetched, page_data, use_dashboard, Follows};
use crate::model::{McpOverview, McpServer, McpStatus, McpTransport};

/// `/mcp`: the repository's MCP servers, their health as the last checks found it, the tools
/// each one offers, and the tools agents called that no healthy server offers. Redrawn as checks
/// end (`mcp.server.status` on the board's stream).
#[component]
pub fn McpPage() -> impl IntoView {
    // `mcp.server.status` and `mcp.tools.changed` move the board's seq.
    let overview = page_data::<McpOverview>(Follows::Board, || "/api/mcp/servers".to_owned());
    view! {
        <main class="page mcp" aria-labelledby="page-title">
            <div class="page-head">
                <h2 id="page-title">"MCP servers"</h2>
            </div>
            {fetched(overview, "Reading the MCP servers…", "", overview_view)}
        </main>
    }
    .into_any()
}

fn overview_view(overview: McpOverview) -> impl IntoView {
    let health = crate::model::McpHealth::of(overview.servers.iter().map(|s| s.status));
    if overview.servers.is_empty() {
        return view! {
            <p class="empty">
                "No MCP server is configured. execdash reads "<code>".mcp.json"</code>" ("
                <code>"mcpServers"</code>") and "<code>".vscode/mcp.json"</code>" ("
                <code>"servers"</code>") at the repository's root and checks every server they name."
            </p>
        }
        .into_any();
    }
    let summary = format!(
        "{} of {} servers healthy · checked every {} s · from {}",
        health.healthy,
        health.configured,
        overview.check_interval_s,
        overview.sources.join(", ")
    );
    view! {
        <p class="page-summary" aria-live="polite" data-mcp-summary="">{summary}</p>
        <div class="mcp-servers">
            {overview
                .servers
                .into_iter()
                .map(|server| server_card(server, overview.controls))
                .collect_view()}
        </div>
        <section class="mcp-unavailable" aria-labelledby="unavailable-title">
            <h3 id="unavailable-title">"Called tools no healthy server offers"</h3>
            {if overview.unavailable_tools.is_empty() {
                view! { <p class="empty">"Every tool the agents called is offered by a healthy server (or no server was checked yet)."</p> }.into_any()
            } else {
                view! {
                    <table class="cost-table" data-unavailable-tools="">
                        <thead><tr><th scope="col">"Tool"</th><th scope="col" class="num">"Calls"</th><th scope="col">"Last called"</th></tr></thead>
                        <tbody>
                            {overview
                                .unavailable_tools
                                .into_iter()
                                .map(|t| {
                                    let key = t.name.clone();
                                    view! {
                                    <tr data-tool=key>
                                        <th scope="row">{t.name}</th>
                                        <td class="num">{t.calls}</td>
                                        <td>{t.last_called.unwrap_or_default()}</td>
                                    </tr>
                                }})
                                .collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

fn transport_label(transport: Option<McpTransport>) -> &'static str {
    match transport {
        Some(McpTransport::Stdio) => "stdio",
        Some(McpTransport::Http) => "streamable HTTP",
        Some(McpTransport::Sse) => "HTTP+SSE",
        None => "",
    }
}

fn server_card(server: McpServer, controls: bool) -> impl IntoView {
    let name = server.name.clone();
    let status = server.status;
    let heading_id = format!(
        "mcp-{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let info = server.server_info.clone().map(|i| {
        let title = i.title.clone().unwrap_or(i.name.clone());
        format!("{title} {} · protocol {}", i.version, i.protocol_version)
    });
    let latency = server
        .latency_ms
        .map(|ms| format!("{} ms", crate::format::fixed(ms, 0)));
    let uptime = server.uptime_percent.map(|p| {
        format!(
            "{} % of the last {} checks",
            crate::format::fixed(p, 0),
            server.history.len()
        )
    });
    let tool_count = server.tools.len();
    let labelled_by = heading_id.clone();
    view! {
        <article
            class=format!("mcp-server status-{}", status.as_str())
            data-server=name.clone()
            data-status=status.as_str()
            aria-labelledby=labelled_by
        >
            <header class="mcp-server-head">
                <h3 id=heading_id>{name.clone()}</h3>
                <span class=format!("badge mcp-status {}", status.as_str())>{status.label()}</span>
                <span class="badge">{transport_label(server.transport)}</span>
                {(status != McpStatus::Disabled).then(|| view! { <CheckNow name=name.clone() checking=server.checking/> })}
            </header>
            <p class="mcp-target"><code>{server.target.clone()}</code>" · "{server.source.clone()}</p>
            {(!server.secret_names.is_empty()).then(|| view! {
                <p class="mcp-secrets">
                    {match server.transport {
                        Some(McpTransport::Stdio) => "Environment: ",
                        _ => "Headers: ",
                    }}
                    {server.secret_names.join(", ")}
                    " (values hidden)"
                </p>
            })}
            <dl class="mcp-facts">
                {latency.map(|l| view! { <div><dt>"Handshake"</dt><dd data-latency="">{l}</dd></div> })}
                {server.checked_at.clone().map(|at| view! { <div><dt>"Checked"</dt><dd>{at}</dd></div> })}
                {uptime.map(|u| view! { <div><dt>"Up"</dt><dd>{u}</dd></div> })}
                {info.map(|i| view! { <div><dt>"Server"</dt><dd>{i}</dd></div> })}
                {server.resources.map(|r| view! { <div><dt>"Resources"</dt><dd>{r}</dd></div> })}
                {server.prompts.map(|p| view! { <div><dt>"Prompts"</dt><dd>{p}</dd></div> })}
            </dl>
            {server.managed.clone().map(|managed| {
                let mut parts = vec!["Run by execdash".to_owned()];
                if let Some(pid) = managed.pid {
                    parts.push(format!("pid {pid}"));
                }
                if let Some(up) = managed.uptime_s {
                    parts.push(format!("up {}", duration(up)));
                }
                parts.push(format!("{} restarts", managed.restarts));
                if managed.stopped {
                    parts.push("stopped".into());
                }
                if let Some(at) = managed.next_start.clone() {
                    parts.push(format!("starts again at {at}"));
                }
                let name = server.name.clone();
                view! {
                    <div class="mcp-managed" data-managed=if managed.running { "running" } else { "not-running" }>
                        <p data-restarts=managed.restarts>{parts.join(" · ")}</p>
                        {controls.then(|| view! {
                            <div class="mcp-controls" role="group" aria-label="Run">
                                <Control name=name.clone() action="start" label="Start" enabled=!managed.running/>
                                <Control name=name.clone() action="stop" label="Stop" enabled=managed.running/>
                                <Control name=name.clone() action="restart" label="Restart" enabled=true/>
                            </div>
                        })}
                    </div>
                }
            })}
            {server.error.clone().map(|e| {
                let class = if status == McpStatus::Disabled { "mcp-note" } else { "mcp-error" };
                view! { <p class=class data-error="">{e}</p> }
            })}
            {(!server.stderr_tail.is_empty()).then(|| view! {
                <details class="mcp-stderr">
                    <summary>"What it wrote to stderr"</summary>
                    <pre>{server.stderr_tail.join("\n")}</pre>
                </details>
            })}
            {(!server.tools_gone.is_empty()).then(|| view! {
                <p class="mcp-tools-gone" data-tools-gone="">
                    "No longer offered since the last check: "{server.tools_gone.join(", ")}
                </p>
            })}
            {(tool_count > 0).then(|| view! {
                <details class="mcp-tools">
                    <summary>{format!("{tool_count} tools")}</summary>
                    <ul>
                        {server
                            .tools
                            .into_iter()
                            .map(|t| {
                                let key = t.name.clone();
                                view! {
                                <li data-tool=key>
                                    <code>{t.name}</code>
                                    {t.description.map(|d| view! { <span class="tool-description">" — "{d}</span> })}
                                </li>
                            }})
                            .collect_view()}
                    </ul>
                </details>
            })}
            {(!server.history.is_empty()).then(|| view! {
                <ol class="mcp-history" aria-label="Last checks, newest first">
                    {server
                        .history
                        .iter()
                        .map(|c| {
                            let title = format!(
                                "{}: {}{}",
                                c.checked_at,
                                c.status.label(),
                                c.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                            );
                            let text = title.clone();
                            view! { <li class=format!("check {}", c.status.as_str()) title=title><span class="visually-hidden">{text}</span></li> }
                        })
                        .collect_view()}
                </ol>
            })}
        </article>
    }
}

/// "Check now": asks the server for a check of `name`; the card follows when it ends.
#[component]
fn CheckNow(name: String, checking: bool) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = &name;
    let sent = RwSignal::new(false);
    let busy = move || checking || sent.get();
    let on_click = move |_| {
        sent.set(true);
        #[cfg(feature = "hydrate")]
        {
            let name = name.clone();
            let dashboard = use_dashboard();
            wasm_bindgen_futures::spawn_local(async move {
                let url = format!(
                    "{}/api/mcp/servers/{}/check",
                    crate::client::base_path(),
                    crate::navigation::encode_segment(&name)
                );
                let sent_ok = match gloo_net::http::Request::post(&url).send().await {
                    Ok(response) if response.ok() => true,
                    Ok(response) => {
                        dashboard.toast(format!(
                            "{name} was not checked: HTTP {}",
                            response.status()
                        ));
                        false
                    }
                    Err(error) => {
                        dashboard.toast(format!(
                            "{name} was not checked: {}",
                            crate::api::request_failure(error)
                        ));
                        false
                    }
                };
                if !sent_ok {
                    sent.set(false);
                }
            });
        }
    };
    view! {
        <button class="check-now" disabled=busy on:click=on_click>
            {move || if busy() { "Checking…" } else { "Check now" }}
        </button>
    }
}

fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// Start, stop or restart a managed server (`POST /api/mcp/servers/{name}/{action}`); the card
/// follows from the events the server sends.
#[component]
fn Control(
    name: String,
    action: &'static str,
    label: &'static str,
    enabled: bool,
) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = &name;
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let name = name.clone();
            let dashboard = use_dashboard();
            wasm_bindgen_futures::spawn_local(async move {
                let url = format!(
                    "{}/api/mcp/servers/{}/{action}",
                    crate::client::base_path(),
                    crate::navigation::encode_segment(&name)
                );
                let refused = match gloo_net::http::Request::post(&url).send().await {
                    Ok(response) if response.ok() => None,
                    Ok(response) => Some(crate::api::refusal(&response).await),
                    Err(error) => Some(crate::api::request_failure(error)),
                };
                if let Some(reason) = refused {
                    dashboard.toast(format!("{label} {name}: refused ({reason})"));
                }
            });
        }
    };
    view! {
        <button class="check-now" data-action=action disabled=!enabled on:click=on_click>{label}</button>
    }
}

/// The header's compact MCP status: "MCP 3/4" with its worst state's colour; nothing when no
/// server is configured.
#[component]
pub fn McpIndicator() -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    move || {
        dashboard.board.with(|b| b.mcp).map(|health| {
            let state = if health.checked == 0 {
                "unknown"
            } else if health.healthy == health.checked {
                "healthy"
            } else {
                "down"
            };
            let label = format!(
                "MCP servers: {} of {} checked healthy ({} configured)",
                health.healthy, health.checked, health.configured
            );
            view! {
                <a class=format!("mcp-indicator {state}") href=format!("{base}/mcp") title=label.clone() aria-label=label>
                    <span class="dot" aria-hidden="true"></span>
                    {format!("MCP {}/{}", health.healthy, health.checked)}
                </a>
            }
        })
    }
}
