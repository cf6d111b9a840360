//! Safe on a network, against a real server on loopback: the Host allowlist (DNS rebinding), the
//! Origin check against configured origins only, the access token (bearer, login cookie,
//! logout), CORS for exactly the allowed origins, the base path, and socket hygiene.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::Workspace;
use execdash::{Config, PublicUrl, RunningServer};
use futures_util::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const TOKEN: &str = "correct-horse-battery-staple";

async fn start_with(workspace: &Workspace, adjust: impl FnOnce(&mut Config)) -> RunningServer {
    common::start_server(workspace, adjust).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, HeaderMap, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

const INVOCATION: &str = r#"{"invocation_id":"i-1","tool_name":"codex","model_name":"gpt-5","status":"success","cost_usd":9.5}"#;

/// Opens `/ws` with these extra headers; the HTTP status of the handshake.
async fn socket_status(url: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_foreign_host_is_refused_everywhere_before_anything_runs() {
    let workspace = Workspace::demo();
    let server = start_with(&workspace, |_| {}).await;
    let base = format!("http://{}", server.addr);
    let evil = format!("evil.example:{}", server.addr.port());
    let (status, _, body) = send(
        client()
            .get(format!("{base}/api/tasks"))
            .header("host", &evil),
    )
    .await;
    assert_eq!(status, 421);
    assert!(json(&body)["error"]
        .as_str()
        .unwrap()
        .contains("evil.example"));
    assert!(!body.contains("inbox"), "no task leaks");
    let (status, _, body) = send(
        client()
            .post(format!("{base}/api/invocations"))
            .header("host", &evil)
            .header("origin", format!("http://{evil}"))
            .header("content-type", "application/json")
            .body(INVOCATION),
    )
    .await;
    assert_eq!(status, 421, "{body}");
    let (status, _, _) = send(client().get(format!("{base}/")).header("host", &evil)).await;
    assert_eq!(status, 421);
    let ws = format!("ws://{}/ws", server.addr);
    assert_eq!(
        socket_status(
            &ws,
            &[("host", &evil), ("origin", &format!("http://{evil}"))]
        )
        .await,
        421
    );
    // The names it does answer to.
    for host in [
        format!("localhost:{}", server.addr.port()),
        server.addr.to_string(),
    ] {
        let (status, _, _) = send(
            client()
                .get(format!("{base}/api/stats"))
                .header("host", &host),
        )
        .await;
        assert_eq!(status, 200, "{host}");
    }
    // Nothing was written.
    let (_, _, costs) = send(client().get(format!("{base}/api/costs"))).await;
    assert_eq!(json(&costs)["totals"]["invocations"], 0);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn origins_are_the_configured_ones_never_the_request_host() {
    let workspace = Workspace::empty();
    let server = start_with(&workspace, |config| {
        config.public_urls = vec![PublicUrl::parse("https://dash.example.com").unwrap()];
    })
    .await;
    let url = format!("http://{}/api/invocations", server.addr);
    let post = |host: &str, origin: &str| {
        client()
            .post(&url)
            .header("host", host)
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(INVOCATION)
    };
    let (status, _, body) = send(post("dash.example.com", "https://evil.example")).await;
    assert_eq!(status, 403, "{body}");
    // Host and Origin agree, but name no configured origin: still refused.
    let local = server.addr.to_string();
    let (status, _, _) = send(post(&local, "http://127.0.0.2:1")).await;
    assert_eq!(status, 403);
    let (status, _, body) = send(post("dash.example.com", "https://dash.example.com")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = send(post(&local, &format!("http://{local}"))).await;
    assert_eq!(status, 200);
    let ws = format!("ws://{}/ws", server.addr);
    assert_eq!(
        socket_status(&ws, &[("origin", "https://evil.example")]).await,
        403
    );
    assert_eq!(
        socket_status(
            &ws,
            &[
                ("host", "dash.example.com"),
                ("origin", "https://dash.example.com")
            ]
        )
        .await,
        101
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn with_a_token_everything_but_health_needs_it() {
    let workspace = Workspace::demo();
    let server = start_with(&workspace, |config| config.token = Some(TOKEN.into())).await;
    let base = format!("http://{}", server.addr);
    let (status, headers, body) = send(client().get(format!("{base}/api/tasks"))).await;
    assert_eq!(status, 401);
    assert!(json(&body)["error"].as_str().unwrap().contains("token"));
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // Health answers without the token, but does not say where the database is.
    let (status, _, body) = send(client().get(format!("{base}/health"))).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["telemetry"]["status"], "ok");
    assert!(json(&body)["telemetry"].get("path").is_none(), "{body}");
    let (_, _, body) = send(client().get(format!("{base}/health")).bearer_auth(TOKEN)).await;
    assert!(json(&body)["telemetry"]["path"]
        .as_str()
        .unwrap()
        .ends_with("telemetry.db"));
    let (status, _, _) = send(
        client()
            .get(format!("{base}/api/tasks"))
            .bearer_auth("wrong-token-of-some-length"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, body) =
        send(client().get(format!("{base}/api/tasks")).bearer_auth(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(json(&body)["inbox"].is_array());
    let (status, _, body) = send(
        client()
            .post(format!("{base}/api/invocations"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(INVOCATION),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A browser: the page sends it to the login form; a wrong token is told so.
    let (status, headers, _) = send(
        client()
            .get(format!("{base}/"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login");
    let (status, _, form) = send(client().get(format!("{base}/login"))).await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"name="token""#));
    let login = |token: &str| {
        client()
            .post(format!("{base}/login"))
            .header("origin", &base)
            .form(&[("token", token)])
    };
    let (status, headers, _) = send(login("not-the-token")).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login?failed=1");
    assert!(!headers.contains_key("set-cookie"));
    let (status, headers, _) = send(login(TOKEN)).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/");
    let cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    let session = cookie.split(';').next().unwrap().to_owned();
    let (status, _, page) = send(client().get(format!("{base}/")).header("cookie", &session)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Execution Dashboard"));
    let ws = format!("ws://{}/ws", server.addr);
    assert_eq!(socket_status(&ws, &[]).await, 401);
    assert_eq!(socket_status(&ws, &[("cookie", &session)]).await, 101);
    assert_eq!(
        socket_status(&ws, &[("authorization", &format!("Bearer {TOKEN}"))]).await,
        101
    );
    // The cookie is a session, not the token.
    assert!(!session.contains(TOKEN), "{session}");
    // Logout clears the cookie and ends the session: a copy of it no longer works.
    let (status, headers, _) = send(
        client()
            .post(format!("{base}/logout"))
            .header("origin", &base)
            .header("cookie", &session),
    )
    .await;
    assert_eq!(status, 303);
    assert!(headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (status, _, body) = send(
        client()
            .get(format!("{base}/api/tasks"))
            .header("cookie", &session),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{body}"
    );
    assert_eq!(socket_status(&ws, &[("cookie", &session)]).await, 401);
    // A wrong token is told so, unlike none; the scheme is case-insensitive.
    let (_, _, body) = send(
        client()
            .get(format!("{base}/api/tasks"))
            .header("authorization", "Bearer wrong-token-of-some-length"),
    )
    .await;
    assert!(
        json(&body)["error"].as_str().unwrap().contains("not right"),
        "{body}"
    );
    let (status, _, _) = send(
        client()
            .get(format!("{base}/api/tasks"))
            .header("authorization", format!("bearer {TOKEN}")),
    )
    .await;
    assert_eq!(status, 200);
    // A deep link survives the login (and only this dashboard's pages are led back to).
    let (status, headers, _) = send(
        client()
            .get(format!("{base}/tasks/T-1?x=1"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login?next=%2Ftasks%2FT%2D1%3Fx%3D1");
    let (_, _, form) =
        send(client().get(format!("{base}/login?next=%2Ftasks%2FT-1%3Fx%3D1"))).await;
    assert!(
        form.contains(r#"name="next" value="/tasks/T-1?x=1""#),
        "{form}"
    );
    assert!(
        form.contains(r#"<link rel="icon" href="/favicon.svg""#),
        "{form}"
    );
    let deep = |next: &str| {
        client()
            .post(format!("{base}/login"))
            .header("origin", &base)
            .form(&[("token", TOKEN), ("next", next)])
    };
    let (_, headers, _) = send(deep("/tasks/T-1?x=1")).await;
    assert_eq!(headers["location"], "/tasks/T-1?x=1");
    let (_, headers, _) = send(deep("//evil.example/")).await;
    assert_eq!(headers["location"], "/");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn listening_off_loopback_without_a_token_is_refused() {
    let workspace = Workspace::empty();
    let mut config = Config::new(workspace.root());
    config.addr = SocketAddr::from(([0, 0, 0, 0], 0));
    let refused = execdash::start(config).await.err().expect("refused");
    assert!(refused.to_string().contains("--token-file"), "{refused}");
}

#[tokio::test]
async fn cors_answers_exactly_the_allowed_origins() {
    let workspace = Workspace::empty();
    let server = start_with(&workspace, |config| {
        config.allowed_origins = vec!["http://127.0.0.1:9".into()];
    })
    .await;
    let url = format!("http://{}/api/invocations", server.addr);
    let preflight = |origin: &str| {
        client()
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    };
    let (status, headers, _) = send(preflight("http://127.0.0.1:9")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "http://127.0.0.1:9");
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(!headers.contains_key("access-control-allow-credentials"));
    let (_, headers, _) = send(preflight("http://127.0.0.1:10")).await;
    assert!(!headers.contains_key("access-control-allow-origin"));
    let (status, headers, _) = send(
        client()
            .post(&url)
            .header("origin", "http://127.0.0.1:9")
            .header("content-type", "application/json")
            .body(INVOCATION),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "http://127.0.0.1:9");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn under_a_base_path_everything_moves_with_it() {
    let workspace = Workspace::demo();
    let server = start_with(&workspace, |config| {
        config.base_path = "/dashboard".into();
        config.token = Some(TOKEN.into());
    })
    .await;
    let base = format!("http://{}", server.addr);
    let (status, headers, _) = send(client().get(format!("{base}/dashboard"))).await;
    assert_eq!(status, 308);
    assert_eq!(headers["location"], "/dashboard/");
    let (status, headers, _) = send(
        client()
            .get(format!("{base}/dashboard/"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/dashboard/login");
    let (status, _, page) = send(
        client()
            .get(format!("{base}/dashboard/"))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"data-base="/dashboard""#),
        "the client learns the base"
    );
    for asset in ["/dashboard/pkg/execdash.css?v=", "/dashboard/boot.js?v="] {
        assert!(page.contains(asset), "{asset}");
    }
    let (status, _, body) = send(
        client()
            .get(format!("{base}/dashboard/api/tasks"))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = send(client().get(format!("{base}/dashboard/health"))).await;
    assert_eq!(status, 200);
    let (status, _, _) = send(client().get(format!("{base}/api/tasks")).bearer_auth(TOKEN)).await;
    assert_eq!(status, 404, "nothing outside the base path");
    let (status, headers, _) = send(
        client()
            .post(format!("{base}/dashboard/login"))
            .header("origin", &base)
            .form(&[("token", TOKEN)]),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/dashboard/");
    assert!(headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Path=/dashboard"));
    let ws = format!("ws://{}/dashboard/ws", server.addr);
    assert_eq!(
        socket_status(&ws, &[("authorization", &format!("Bearer {TOKEN}"))]).await,
        101
    );
    server.stop().await.unwrap();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_message(socket: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a message within 10 s")
        .expect("socket open")
        .expect("no socket error")
}

#[tokio::test]
async fn bad_socket_messages_get_an_answer_and_oversize_ones_a_1009() {
    let workspace = Workspace::empty();
    let server = start_with(&workspace, |_| {}).await;
    let url = format!("ws://{}/ws", server.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let _ack = next_message(&mut socket).await;
    for bad in [r#"{"type":"subscribe"}"#, "not json"] {
        socket.send(Message::text(bad)).await.unwrap();
        let Message::Text(answer) = next_message(&mut socket).await else {
            panic!("a text answer")
        };
        let answer = json(&answer);
        assert_eq!(answer["type"], "error", "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("ping"));
    }
    // Still open.
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let Message::Text(pong) = next_message(&mut socket).await else {
        panic!()
    };
    assert_eq!(json(&pong)["type"], "pong");

    for size in [
        20 * 1024,
        1024 * 1024 - 16,
        1024 * 1024,
        1024 * 1024 + 1,
        2 * 1024 * 1024,
    ] {
        let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let _ack = next_message(&mut socket).await;
        let _ = socket.send(Message::text("x".repeat(size))).await;
        match next_message(&mut socket).await {
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1009, "{size}");
                assert!(frame.reason.contains("at most 16384"), "{}", frame.reason);
            }
            other => panic!("{size}: {other:?}"),
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_need_the_token() {
    let workspace = Workspace::demo();
    let server = start_with(&workspace, |config| config.token = Some(TOKEN.into())).await;
    let base = format!("http://{}", server.addr);
    let (status, _, _) = send(client().get(format!("{base}/metrics"))).await;
    assert_eq!(status, 401);
    let (status, _, body) = send(
        client()
            .post(format!("{base}/api/invocations"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(INVOCATION),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = format!("ws://{}/ws", server.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let _ack = next_message(&mut socket).await;
    socket
        .send(Message::text(r#"{"type":"resync"}"#))
        .await
        .unwrap();
    let _snapshot = next_message(&mut socket).await;
    let (status, headers, text) =
        send(client().get(format!("{base}/metrics")).bearer_auth(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for line in [
        r#"execdash_tasks{column="inbox"} 4"#,
        r#"execdash_tasks{column="assigned"} 5"#,
        r#"execdash_tasks{column="done"} 5"#,
        "execdash_problems 1",
        "execdash_socket_clients 1",
        r#"execdash_socket_resyncs_total{reason="requested"} 1"#,
        "execdash_invocations_ingested_total 1",
        "execdash_telemetry_database_up 1",
        &format!(
            r#"execdash_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(
        text.contains("execdash_cost_usd{period=\"today\"}"),
        "{text}"
    );
    // The ack and the snapshot, and the cost.update of the post if it was sent meanwhile.
    let frames: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("execdash_socket_frames_sent_total "))
        .expect("frames counter")
        .parse()
        .unwrap();
    assert!((2..=3).contains(&frames), "{frames}");
    // Prometheus' text format, not OpenMetrics (no `# EOF`, no `info` type).
    assert!(!text.contains("# EOF"), "{text}");
    assert!(text.contains("# TYPE execdash_build_info gauge"), "{text}");
    server.stop().await.unwrap();
}
