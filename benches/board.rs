//! Benchmarks of the live board, against the real release server binary on loopback and a real
//! directory (`cargo bench --bench board`; `scripts/bench` raises the file limit first).
//!
//! - write → event received by a WebSocket client (plain write, atomic rename), ≥ 500 trials
//! - `GET /api/tasks` with 250 and 10 000 tasks
//! - startup scan of 10 000 files, and server RSS idle with 250 and 10 000 tasks
//! - the server's CPU time a request, on a new connection each and on one kept alive
//! - 1 000 concurrent WebSocket clients: every one receives every event; delivery percentiles
//! - 1 000 clients keeping a board through 10 000 changes: every board ends equal to the disk
//!
//! Prints percentiles; the figures go to BENCHMARKS.md.

mod support;

use support::percentiles;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const TRIALS: usize = 500;

fn main() {
    // One worker thread for the clients, so the server (its own process) keeps a core to itself.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let run = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    println!(
        "execdash board benchmarks ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if run("latency") {
        runtime.block_on(write_to_event_latency());
    }
    if run("api") {
        runtime.block_on(api_tasks(250));
        runtime.block_on(api_tasks(10_000));
    }
    if run("detail") {
        markdown_render();
        runtime.block_on(detail_api(250));
    }
    if run("portfolio") {
        runtime.block_on(portfolio(250));
        runtime.block_on(portfolio(10_000));
    }
    if run("upstream") {
        runtime.block_on(portfolio_upstream());
    }
    if run("mcp") {
        runtime.block_on(mcp_round(10));
    }
    if run("page") {
        runtime.block_on(page_at_scale(10_000));
    }
    if run("startup") {
        runtime.block_on(startup_and_rss(250, "small", task_yaml));
        runtime.block_on(startup_and_rss(10_000, "small", task_yaml));
        runtime.block_on(startup_and_rss(10_000, "realistic", realistic_yaml));
    }
    if run("connections") {
        server_cpu_per_request(1_000);
    }
    if run("idle") {
        runtime.block_on(cpu_at_rest());
        runtime.block_on(idle_sockets(1_000));
    }
    if run("slow") {
        // What this machine's scheduler alone adds to a 1 ms sleep: the floor under any latency.
        scheduler_floor(Duration::from_secs(5));
        // The same storm without and with 1 000 sockets that never read.
        runtime.block_on(slow_consumers(0, 5_000));
        runtime.block_on(slow_consumers(1_000, 5_000));
    }
    if run("converge") {
        runtime.block_on(converge(1_000, 10_000));
    }
    if run("fanout") {
        // A busy board (10 changes a second), then a stress rate (50 a second).
        runtime.block_on(fan_out(1_000, 100, 100));
        runtime.block_on(fan_out(1_000, 100, 20));
    }
}

struct Server {
    child: Child,
    addr: String,
    /// `None` only while [`Server::restart`] hands it over.
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

impl Server {
    fn start(tasks: usize) -> (Server, Startup) {
        Server::start_with(tasks, task_yaml)
    }

    /// An empty workspace folder; EXECDASH_BENCH_DIR (e.g. a tmpfs) takes the disk's own stalls
    /// out of the figures.
    fn workspace() -> tempfile::TempDir {
        match std::env::var_os("EXECDASH_BENCH_DIR") {
            Some(parent) => tempfile::tempdir_in(parent).unwrap(),
            None => tempfile::tempdir().unwrap(),
        }
    }

    fn start_with(tasks: usize, yaml: fn(usize, &str) -> String) -> (Server, Startup) {
        let dir = Server::workspace();
        let root = dir.path().to_path_buf();
        let collab = root.join("work/collaboration");
        for folder in [
            "inbox",
            "assigned/agent-a",
            "assigned/agent-b",
            "done/agent-a",
        ] {
            std::fs::create_dir_all(collab.join(folder)).unwrap();
        }
        for i in 0..tasks {
            let folder = [
                "inbox",
                "assigned/agent-a",
                "assigned/agent-b",
                "done/agent-a",
            ][i % 4];
            std::fs::write(
                collab.join(format!("{folder}/task-{i:05}.yaml")),
                yaml(i, "seed"),
            )
            .unwrap();
        }
        // The files at rest, as a user's are when the server starts: the kernel's writeback of
        // the megabytes just written is not the server's time.
        let _ = Command::new("sync").status();
        Server::launch(dir)
    }

    /// The release server on the workspace `dir`, once it has read the board.
    fn launch(dir: tempfile::TempDir) -> (Server, Startup) {
        Server::launch_with(dir, &[])
    }

    /// As [`Server::launch`], with more `serve` flags.
    fn launch_with(dir: tempfile::TempDir, flags: &[&str]) -> (Server, Startup) {
        let root = dir.path().to_path_buf();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_execdash"))
            .args(["serve", "--root"])
            .arg(&root)
            .args(["--addr", &addr, "--site-root"])
            .arg(root.join("no-site"))
            // The board cache inside the workspace (not the user's cache folder).
            .arg("--board-cache")
            .arg(root.join("cache"))
            .args(flags)
            .env("EXECDASH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            addr,
            dir: Some(dir),
            root,
        };
        while std::net::TcpStream::connect(&server.addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let health = started.elapsed();
        // The server listens at once and reads the board meanwhile: ready when /health stops
        // saying "starting".
        while server.health().contains(r#""status":"starting""#) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "board not read"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let startup = Startup {
            health,
            board: started.elapsed(),
        };
        (server, startup)
    }

    /// `GET /health`'s body (plain HTTP/1.1 over a blocking socket).
    fn health(&self) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    fn collab(&self) -> PathBuf {
        self.root.join("work/collaboration")
    }

    /// Stops the server (SIGKILL) and starts it again on the same workspace.
    fn restart(mut self) -> (Server, Startup) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = self.dir.take().expect("a workspace");
        Server::launch(dir)
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn task_yaml(i: usize, note: &str) -> String {
    format!(
        "id: task-{i:05}\ntitle: \"Benchmark task {i}\"\nagent: agent-a\nstatus: assigned\npriority: high\n\
         created_at: \"2026-11-23T10:00:00Z\"\ntags: [bench, load]\ndescription: |\n  {note}\n  A few lines of text\n  so the document is realistic.\n"
    )
}

/// A task file as agents write them: ~2.8 KB of description, criteria and notes.
fn realistic_yaml(i: usize, note: &str) -> String {
    let paragraph = "The agent reads the module, lists what the change touches, writes the \
        tests first and keeps the public surface as it is; every step is logged with the files \
        it read and the commands it ran, so a reviewer can follow it without re-running it.";
    let criteria: String = (1..=8)
        .map(|n| format!("  - criterion {n}: {}\n", &paragraph[..90]))
        .collect();
    format!(
        "id: task-{i:05}\ntitle: \"Realistic task {i}\"\nagent: agent-a\nstatus: in_progress\n\
         priority: high\ncreated_at: \"2026-11-23T10:00:00Z\"\ntags: [bench, realistic]\n\
         description: |\n  {note}\n  {paragraph}\n  {paragraph}\n  {paragraph}\n\
         acceptance_criteria:\n{criteria}notes: |\n  {paragraph}\n  {paragraph}\n"
    )
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let _ack = socket.next().await.unwrap().unwrap();
    socket
}

/// Waits for the next text message whose `type` is a task event.
async fn next_event(socket: &mut Socket) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("event")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            if text.as_str().contains("\"type\":\"task.") {
                return;
            }
        }
    }
}

async fn write_to_event_latency() {
    let (server, _) = Server::start(250);
    let mut socket = connect(&server.addr).await;
    let collab = server.collab();
    let mut plain = Vec::with_capacity(TRIALS);
    for i in 0..TRIALS {
        let path = collab.join(format!("inbox/latency-{i}.yaml"));
        let text = task_yaml(i, "plain write");
        let started = Instant::now();
        std::fs::write(&path, text).unwrap();
        next_event(&mut socket).await;
        plain.push(started.elapsed());
    }
    percentiles("write → ws event (plain write, new file)", &mut plain);
    let mut atomic = Vec::with_capacity(TRIALS);
    let staging = server.root.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    for i in 0..TRIALS {
        let temp = staging.join(format!("t{i}.yaml"));
        std::fs::write(&temp, task_yaml(i, "atomic save")).unwrap();
        let started = Instant::now();
        std::fs::rename(&temp, collab.join(format!("inbox/latency-{i}.yaml"))).unwrap();
        next_event(&mut socket).await;
        atomic.push(started.elapsed());
    }
    percentiles("write → ws event (atomic rename over file)", &mut atomic);
    // As editors save: a temp file in the same folder (which the watcher sees and ignores), then
    // a rename over the task; timed from the start of the temp file's write.
    let mut in_folder = Vec::with_capacity(TRIALS);
    for i in 0..TRIALS {
        let temp = collab.join(format!("inbox/.latency-{i}.yaml.swp"));
        let started = Instant::now();
        std::fs::write(&temp, task_yaml(i, "editor save")).unwrap();
        std::fs::rename(&temp, collab.join(format!("inbox/latency-{i}.yaml"))).unwrap();
        next_event(&mut socket).await;
        in_folder.push(started.elapsed());
    }
    percentiles(
        "write → ws event (editor save: temp file in the folder, rename)",
        &mut in_folder,
    );
}

async fn api_tasks(tasks: usize) {
    let (server, _) = Server::start(tasks);
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/tasks", server.addr);
    let (mut samples, size) = timed_gets(&client, &url, 200).await;
    percentiles(
        &format!("GET /api/tasks, {tasks} tasks ({} KB)", size / 1024),
        &mut samples,
    );
}

/// Rendering a task's texts (Markdown to sanitized HTML), per task: the demo workspace's real
/// task files (the original's, a few KB of Markdown each) and the realistic generated ones.
fn markdown_render() {
    let mut documents: Vec<serde_json::Value> = Vec::new();
    let mut folders = vec![std::path::PathBuf::from("demo/work/collaboration")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if let Ok(value) = serde_norway::from_str::<serde_json::Value>(&text) {
                    documents.push(value);
                }
            }
        }
    }
    let real = documents.len();
    documents.extend((0..20).map(|i| serde_norway::from_str(&realistic_yaml(i, "note")).unwrap()));
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..50 {
        for document in &documents {
            let started = Instant::now();
            let texts = execdash::render_task_texts(document);
            samples.push(started.elapsed());
            bytes += texts.iter().map(|t| t.html.len()).sum::<usize>();
        }
    }
    percentiles(
        &format!(
            "render a task's texts ({real} real + 20 realistic tasks, {} KB of HTML each pass)",
            bytes / 50 / 1024
        ),
        &mut samples,
    );
}

/// `GET /api/board/task?id=…` (texts rendered, the file read, the cost looked up).
async fn detail_api(tasks: usize) {
    let (server, _) = Server::start_with(tasks, realistic_yaml);
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/board/task?id=task-00007", server.addr);
    let (mut samples, size) = timed_gets(&client, &url, 200).await;
    percentiles(
        &format!(
            "GET /api/board/task, {tasks} realistic tasks ({} KB)",
            size / 1024
        ),
        &mut samples,
    );
}

/// Specifications in the portfolio benchmark (the original's repository has 23).
/// Specification files of the portfolio benchmark (`EXECDASH_BENCH_SPECS`, default 50) and their
/// body's size in KB (`EXECDASH_BENCH_SPEC_KB`, default ~2).
fn specification_count() -> usize {
    std::env::var("EXECDASH_BENCH_SPECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn specification_body_repeats() -> usize {
    // One repetition of the body is ~165 bytes.
    std::env::var("EXECDASH_BENCH_SPEC_KB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(12, |kb| kb * 1024 / 165)
}

/// A realistic task; every third names one of the benchmark's specifications and a feature.
fn linked_yaml(i: usize, note: &str) -> String {
    let mut yaml = realistic_yaml(i, note);
    if i.is_multiple_of(3) {
        let spec = i % specification_count();
        yaml.push_str(&format!(
            "specification: specifications/initiatives/i{}/spec-{spec:02}.md
feature: Feature {}
",
            spec % 7,
            i % 4
        ));
    }
    yaml
}

/// `GET /api/portfolio`: every specification read from disk (50 files of ~2 KB, 7 initiatives,
/// 4 features each) and `tasks` realistic tasks linked from the board, a third of them to one.
async fn portfolio(tasks: usize) {
    let (server, _) = Server::start_with(tasks, linked_yaml);
    let body = "The specification states the problem, the constraints and the acceptance         criteria; agents link their tasks to it and the portfolio counts their progress.\n";
    let specifications = specification_count();
    for spec in 0..specifications {
        let folder = server
            .root
            .join(format!("specifications/initiatives/i{}", spec % 7));
        std::fs::create_dir_all(&folder).unwrap();
        let features: String = (0..4)
            .map(|f| format!("  - id: F{f}\n    title: Feature {f}\n    status: planned\n"))
            .collect();
        std::fs::write(
            folder.join(format!("spec-{spec:02}.md")),
            format!(
                "---\nid: SPEC-{spec:02}\ntitle: Specification {spec}\nstatus: in_progress\n\
                 initiative: Initiative {}\npriority: HIGH\nfeatures:\n{features}---\n# Spec\n{}",
                spec % 7,
                body.repeat(specification_body_repeats())
            ),
        )
        .unwrap();
    }
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/portfolio", server.addr);
    let (mut samples, size) = timed_gets(&client, &url, 100).await;
    percentiles(
        &format!(
            "GET /api/portfolio, {specifications} specifications, {tasks} realistic tasks ({} KB)",
            size / 1024
        ),
        &mut samples,
    );

    // An edited specification: until every client hears `portfolio.updated` (the watcher, then
    // 100 ms of gathering), and until the page has the portfolio that shows it.
    let mut socket = connect(&server.addr).await;
    let spec = server.root.join("specifications/initiatives/i0/spec-00.md");
    let original = std::fs::read_to_string(&spec).unwrap();
    // The folder was made after the server started: it is watched within 2 s. Until an edit is
    // announced, edit again.
    loop {
        std::fs::write(&spec, &original).unwrap();
        if next_is_portfolio_update(&mut socket, Duration::from_secs(1)).await {
            break;
        }
    }
    // Let that edit's events pass.
    while next_is_portfolio_update(&mut socket, Duration::from_millis(300)).await {}
    let (mut announced, mut shown) = (Vec::new(), Vec::new());
    for round in 0..20 {
        let title = format!("Specification 0, edit {round}");
        let started = Instant::now();
        std::fs::write(&spec, original.replace("Specification 0", &title)).unwrap();
        assert!(next_is_portfolio_update(&mut socket, Duration::from_secs(10)).await);
        announced.push(started.elapsed());
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(body.contains(&title));
        shown.push(started.elapsed());
    }
    percentiles(
        &format!("spec edited → portfolio.updated, {tasks} tasks"),
        &mut announced,
    );
    percentiles(
        &format!("spec edited → portfolio fetched with the edit, {tasks} tasks"),
        &mut shown,
    );
}

/// The portfolio on a real repository's data: `EXECDASH_UPSTREAM` names a folder with its
/// `specifications/` and `work/collaboration/` (e.g. `git archive HEAD specifications
/// work/collaboration | tar -x` from the original's repository); skipped without it. The first
/// `GET /api/portfolio` after the board is read (nothing cached before it), then 100 more, then
/// specification edits until the portfolio shows them.
async fn portfolio_upstream() {
    let Some(checkout) = std::env::var_os("EXECDASH_UPSTREAM").map(PathBuf::from) else {
        println!("portfolio on real data: skipped (set EXECDASH_UPSTREAM to a checkout)");
        return;
    };
    let dir = Server::workspace();
    for part in ["specifications", "work"] {
        let copied = Command::new("cp")
            .arg("-r")
            .arg(checkout.join(part))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(copied.success(), "copy {part}");
    }
    let (server, _) = Server::launch(dir);
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/portfolio", server.addr);
    let started = Instant::now();
    let first = client.get(&url).send().await.unwrap().text().await.unwrap();
    let cold = started.elapsed();
    let portfolio: serde_json::Value = serde_json::from_str(&first).unwrap();
    let initiatives = portfolio["initiatives"].as_array().unwrap();
    let specifications: usize = initiatives
        .iter()
        .map(|i| i["specifications"].as_array().unwrap().len())
        .sum();
    let linked: u64 = initiatives
        .iter()
        .map(|i| i["task_count"].as_u64().unwrap())
        .sum();
    println!(
        "real data: {} initiatives, {specifications} specifications, {linked} linked tasks, {} \
         orphans, {} KB; first GET /api/portfolio {:.2} ms",
        initiatives.len(),
        portfolio["orphans"].as_array().unwrap().len(),
        first.len() / 1024,
        cold.as_secs_f64() * 1000.0
    );
    let (mut samples, _) = timed_gets(&client, &url, 100).await;
    percentiles("GET /api/portfolio, real data", &mut samples);

    // The specification most tasks link to, its title edited.
    let spec = server
        .root
        .join("specifications/initiatives/framework-distribution/SPEC-DIST-001-multi-tool-distribution.md");
    let original = std::fs::read_to_string(&spec).unwrap();
    let title = original
        .lines()
        .find(|l| l.starts_with("title:"))
        .expect("a title line")
        .to_owned();
    let mut socket = connect(&server.addr).await;
    let (mut announced, mut shown) = (Vec::new(), Vec::new());
    for round in 0..20 {
        let edited = format!("Multi-tool distribution, edit {round}");
        let started = Instant::now();
        std::fs::write(
            &spec,
            original.replace(&title, &format!("title: \"{edited}\"")),
        )
        .unwrap();
        assert!(next_is_portfolio_update(&mut socket, Duration::from_secs(10)).await);
        announced.push(started.elapsed());
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(body.contains(&edited));
        shown.push(started.elapsed());
        // Let this edit's remaining events pass.
        while next_is_portfolio_update(&mut socket, Duration::from_millis(300)).await {}
    }
    percentiles("real data: spec edited → portfolio.updated", &mut announced);
    percentiles(
        "real data: spec edited → portfolio fetched with the edit",
        &mut shown,
    );
}

/// MCP health checks: a round over `servers` real stdio servers (the npm reference server, from
/// `end2end/node_modules`, as `scripts/bootstrap` installs it), half the cores' worth at once; then
/// the board's write → event latency with no MCP server configured and while the servers are
/// checked without a pause (an interval of 1 s).
async fn mcp_round(servers: usize) {
    let everything = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("end2end/node_modules/.bin/mcp-server-everything");
    assert!(everything.exists(), "run scripts/bootstrap first");
    let latency = |label: &'static str, flags: &'static [&'static str], configured: bool| {
        let everything = everything.clone();
        async move {
            let dir = Server::workspace();
            std::fs::create_dir_all(dir.path().join("work/collaboration/inbox")).unwrap();
            if configured {
                let entries: serde_json::Map<String, serde_json::Value> = (0..servers)
                    .map(|i| {
                        (
                            format!("server-{i:02}"),
                            serde_json::json!({"command": everything, "args": ["stdio"]}),
                        )
                    })
                    .collect();
                std::fs::write(
                    dir.path().join(".mcp.json"),
                    serde_json::json!({ "mcpServers": entries }).to_string(),
                )
                .unwrap();
            }
            let (server, _) = Server::launch_with(dir, flags);
            let client = reqwest::Client::new();
            let url = format!("http://{}/api/mcp/servers", server.addr);
            if configured {
                // The first round: from the start until every server was checked.
                let started = Instant::now();
                let overview = loop {
                    let overview: serde_json::Value =
                        client.get(&url).send().await.unwrap().json().await.unwrap();
                    let checked = overview["servers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| !s["checked_at"].is_null())
                        .count();
                    if checked == servers {
                        break overview;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(120),
                        "round not done"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                let round = started.elapsed();
                let mut handshakes: Vec<Duration> = overview["servers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|s| s["latency_ms"].as_f64())
                    .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                    .collect();
                let healthy = overview["servers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["status"] == "healthy")
                    .count();
                println!(
                    "MCP: first round over {servers} stdio servers: {:.0} ms, {healthy} healthy",
                    round.as_secs_f64() * 1000.0
                );
                percentiles("MCP: start + initialize per server", &mut handshakes);
            }
            let mut socket = connect(&server.addr).await;
            let collab = server.collab();
            let mut samples = Vec::with_capacity(200);
            for i in 0..200 {
                let path = collab.join(format!("inbox/mcp-{i}.yaml"));
                let started = Instant::now();
                std::fs::write(&path, realistic_yaml(i, "while MCP checks run")).unwrap();
                next_event(&mut socket).await;
                samples.push(started.elapsed());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            percentiles(label, &mut samples);
        }
    };
    latency("write → ws event, no MCP server", &[], false).await;
    latency(
        "write → ws event, 10 MCP servers checked every 1 s",
        &["--mcp-check-interval", "1"],
        true,
    )
    .await;
}

/// Whether a `portfolio.updated` comes within `wait` (other messages are skipped).
async fn next_is_portfolio_update(socket: &mut Socket, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                if text.as_str().contains("\"type\":\"portfolio.updated\"") {
                    return true;
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return false,
        }
    }
}

/// `n` sequential GETs of `url` after a first one (not timed): each one's time to the last byte,
/// and the size of the answer (the same every time, but for a timestamp or a nonce). The body is
/// read piece by piece and dropped, as a streaming client (`curl -o file`) reads it: gathering 22
/// MB into one buffer first would add the client's own copying to the server's time.
async fn timed_gets(client: &reqwest::Client, url: &str, n: usize) -> (Vec<Duration>, usize) {
    let get = || async {
        let mut response = client.get(url).send().await.unwrap();
        let mut size = 0;
        while let Some(piece) = response.chunk().await.unwrap() {
            size += piece.len();
        }
        size
    };
    let size = get().await;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let received = get().await;
        samples.push(started.elapsed());
        assert!(received.abs_diff(size) < 64, "{url} changed size");
    }
    (samples, size)
}

/// The page and the export at a realistic board of `tasks` files (~2.8 KB each): `GET /` size,
/// server time and the RSS it leaves; `GET /api/tasks` (the whole documents, streamed).
async fn page_at_scale(tasks: usize) {
    let (server, _) = Server::start_with(tasks, realistic_yaml);
    let client = reqwest::Client::new();
    let idle = server.rss_kb();
    let page_url = format!("http://{}/", server.addr);
    let (mut samples, page_size) = timed_gets(&client, &page_url, 50).await;
    percentiles(
        &format!("GET /, {tasks} realistic tasks ({} KB)", page_size / 1024),
        &mut samples,
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_page = server.rss_kb();
    let concurrent: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let url = page_url.clone();
            tokio::spawn(async move { client.get(&url).send().await.unwrap().bytes().await })
        })
        .collect();
    for request in concurrent {
        request.await.unwrap().unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_four = server.rss_kb();
    let tasks_url = format!("http://{}/api/tasks", server.addr);
    let (mut samples, size) = timed_gets(&client, &tasks_url, 200).await;
    percentiles(
        &format!(
            "GET /api/tasks, {tasks} realistic tasks ({} MB)",
            size / (1024 * 1024)
        ),
        &mut samples,
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "  RSS idle {:.1} MB, 1 s after 51 pages {:.1} MB, after 4 concurrent pages {:.1} MB, after the exports {:.1} MB",
        mb(idle),
        mb(after_page),
        mb(after_four),
        mb(server.rss_kb())
    );
}

/// From launch to the first `/health` answer, and to the whole board read.
struct Startup {
    health: Duration,
    board: Duration,
}

async fn startup_and_rss(tasks: usize, kind: &str, yaml: fn(usize, &str) -> String) {
    let mut healths = Vec::new();
    let mut boards = Vec::new();
    let mut restarts = Vec::new();
    let mut rss = 0;
    for _ in 0..5 {
        let (server, startup) = Server::start_with(tasks, yaml);
        healths.push(startup.health);
        boards.push(startup.board);
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss = rss.max(server.rss_kb());
        // Again on the same files: a board of 1 000 files or more comes from the board cache.
        let (server, startup) = server.restart();
        restarts.push(startup.board);
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss = rss.max(server.rss_kb());
    }
    percentiles(
        &format!("startup: restart → board read, {tasks} {kind} tasks"),
        &mut restarts,
    );
    percentiles(
        &format!("startup: launch → listening, {tasks} {kind} tasks"),
        &mut healths,
    );
    percentiles(
        &format!("startup: launch → board read, {tasks} {kind} tasks"),
        &mut boards,
    );
    println!(
        "{:<44} {:.1} MB",
        format!("RSS idle, {tasks} {kind} tasks (max of 5)"),
        rss as f64 / 1024.0
    );
}

/// `clients` sockets that connect as a page does (naming the board it holds) and stay idle, then as
/// many that connect without it (the whole board in every ack): server RSS with each.
async fn idle_sockets(clients: usize) {
    let (server, _) = Server::start_with(250, realistic_yaml);
    let snapshot: serde_json::Value = reqwest::get(format!("http://{}/api/snapshot", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let since = format!(
        "/ws?since={}&instance={}",
        snapshot["seq"],
        snapshot["instance"].as_str().unwrap()
    );
    let idle = server.rss_kb();
    let mb = |kb: u64| kb as f64 / 1024.0;
    let mut line = format!("RSS idle {:.1} MB", mb(idle));
    for (name, path) in [
        ("as pages do (since=…)", since.as_str()),
        ("without since", "/ws"),
    ] {
        let mut sockets = Vec::with_capacity(clients);
        for _ in 0..clients {
            let (mut socket, _) =
                tokio_tungstenite::connect_async(format!("ws://{}{path}", server.addr))
                    .await
                    .unwrap();
            let _ack = socket.next().await.unwrap().unwrap();
            sockets.push(socket);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        line += &format!(
            ", {clients} idle sockets {name} {:.1} MB",
            mb(server.rss_kb())
        );
        drop(sockets);
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    println!("{line}");
}

/// The server's CPU time while nothing changes, once it follows a new agent folder: listing a
/// folder opens it, which inotify reports, so a watcher that followed folders after every batch
/// of events would feed itself and spend its time here (tests/watcher.rs checks that the folder
/// is followed).
async fn cpu_at_rest() {
    let (server, _) = Server::start(250);
    let agent = server.collab().join("assigned/agent-new");
    std::fs::create_dir_all(&agent).unwrap();
    std::fs::write(
        agent.join("task-new.yaml"),
        task_yaml(1_000_000, "new folder"),
    )
    .unwrap();
    let export = format!("http://{}/api/export/tasks.json", server.addr);
    let started = Instant::now();
    while !reqwest::get(&export)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("task-1000000")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new folder's task not seen"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = server.child.id();
    let before = cpu_time_of(pid);
    // The window measured: nothing changes on disk during it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = (cpu_time_of(pid) - before) / 2;
    println!(
        "server CPU at rest, a new agent folder followed: {:.1} ms a second",
        spent.as_secs_f64() * 1000.0
    );
}

/// How late a 1 ms sleep wakes on this machine with nothing else running: what the scheduler
/// (and on a VM, the host) adds to every latency measured here.
fn scheduler_floor(duration: Duration) {
    let mut late = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(1));
        late.push(start.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    percentiles("this machine: lateness of a 1 ms sleep", &mut late);
}

/// `clients` sockets that never read after the handshake, then a storm of `changes` file
/// rewrites (one a millisecond) while a normal client measures write → event; then the slow
/// sockets close. Server RSS: idle, with the sockets, peak during the storm, 10 s after they
/// closed.
async fn slow_consumers(clients: usize, changes: usize) {
    let (server, _) = Server::start_with(250, realistic_yaml);
    let idle = server.rss_kb();
    let mut slow = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
            .await
            .unwrap();
        slow.push(socket);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connected = server.rss_kb();
    let mut normal = connect(&server.addr).await;

    let pid = server.child.id();
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kb_of(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let collab = server.collab();
    let writer = tokio::task::spawn_blocking(move || {
        let folders = [
            "inbox",
            "assigned/agent-a",
            "assigned/agent-b",
            "done/agent-a",
        ];
        let mut written = Vec::with_capacity(changes);
        for i in 0..changes {
            let task = i % 250;
            let path = collab.join(format!("{}/task-{task:05}.yaml", folders[task % 4]));
            // The mark goes into the title: events carry card summaries, not descriptions.
            let text = realistic_yaml(task, "storm").replacen(
                &format!("Realistic task {task}\""),
                &format!("Realistic task {task} storm-{i}.\""),
                1,
            );
            let start = Instant::now();
            std::fs::write(path, text).unwrap();
            // Latency counts from the moment the change is on disk: the time the write call
            // itself takes (the file system's, at times hundreds of ms) is reported apart.
            let done = Instant::now();
            written.push((start, done));
            std::thread::sleep(Duration::from_millis(1));
        }
        written
    });
    let mut received: Vec<(usize, Instant)> = Vec::new();
    let mut snapshots = 0;
    // The last write's mark in its title.
    let last = format!("storm-{}.", changes - 1);
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), normal.next())
            .await
            .expect("the normal client hears from the server")
            .unwrap()
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let text = text.as_str();
        let at = Instant::now();
        if text.contains(r#""type":"snapshot""#) {
            snapshots += 1;
        } else if let Some(from) = text.find("storm-") {
            let digits: String = text[from + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            received.push((digits.parse().unwrap(), at));
        }
        if text.contains(&last) {
            break;
        }
    }
    let written = writer.await.unwrap();
    drop(slow);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = server.rss_kb();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let mut samples: Vec<Duration> = received
        .iter()
        .map(|(n, at)| at.saturating_duration_since(written[*n].1))
        .collect();
    percentiles(
        &format!("storm of {changes}, {clients} non-reading sockets: write → event"),
        &mut samples,
    );
    let mut write_calls: Vec<Duration> =
        written.iter().map(|(start, done)| *done - *start).collect();
    percentiles("  the write calls themselves", &mut write_calls);
    println!(
        "  events received {} of {changes} (others folded into a later read), snapshots {snapshots}",
        received.len()
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "  RSS idle {:.1} MB, with the sockets {:.1} MB, peak {:.1} MB, 10 s after they closed {:.1} MB",
        mb(idle),
        mb(connected),
        mb(peak),
        mb(after)
    );
}

/// A process's CPU time so far (user and system), from `/proc`.
fn cpu_time_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

/// What a request costs the server (its CPU time over `requests` of them, sequential), on a new
/// connection each (as a health checker or a script does) and on one connection kept alive.
fn server_cpu_per_request(requests: u32) {
    use std::io::{Read, Write};
    let (server, _) = Server::start(250);
    let pid = server.child.id();
    for path in ["/health", "/api/version", "/no-such-page"] {
        // In one write, as clients send a request.
        let request = |stream: &mut std::net::TcpStream, close: bool| {
            let connection = if close { "close" } else { "keep-alive" };
            let text = format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: {connection}\r\n\r\n",
                server.addr
            );
            stream.write_all(text.as_bytes()).unwrap();
        };
        let before = cpu_time_of(pid);
        for _ in 0..requests {
            let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
            request(&mut stream, true);
            stream.read_to_end(&mut Vec::new()).unwrap();
        }
        let new_each = (cpu_time_of(pid) - before) / requests;
        let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let before = cpu_time_of(pid);
        for _ in 0..requests {
            request(&mut stream, false);
            read_one_response(&mut reader);
        }
        let kept_alive = (cpu_time_of(pid) - before) / requests;
        println!(
            "{:<44} new connection each {:>5} µs, kept alive {:>5} µs",
            format!("server CPU a request, GET {path}"),
            new_each.as_micros(),
            kept_alive.as_micros()
        );
    }
}

/// Reads one HTTP/1.1 response (headers, then a `Content-Length` or chunked body).
fn read_one_response(reader: &mut impl std::io::BufRead) {
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = Some(value.trim().parse::<usize>().unwrap());
        }
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
        if line == "\r\n" {
            break;
        }
    }
    if let Some(length) = length {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        return;
    }
    while chunked {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        chunked = size > 0;
    }
}

fn rss_kb_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn fan_out(clients: usize, events: usize, interval_ms: u64) {
    let (server, _) = Server::start(250);
    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        sockets.push(connect(&server.addr).await);
    }
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let mut readers = Vec::new();
    for mut socket in sockets {
        let sender = sender.clone();
        readers.push(tokio::spawn(async move {
            for n in 0..events {
                next_event(&mut socket).await;
                let _ = sender.send((n, Instant::now()));
            }
        }));
    }
    drop(sender);
    let collab = server.collab();
    let mut written = Vec::with_capacity(events);
    let writer = tokio::task::spawn_blocking(move || {
        for i in 0..events {
            let at = Instant::now();
            std::fs::write(
                collab.join(format!("inbox/fan-{i}.yaml")),
                task_yaml(i, "fan out"),
            )
            .unwrap();
            written.push(at);
            std::thread::sleep(Duration::from_millis(interval_ms));
        }
        written
    });
    let mut received = Vec::new();
    while let Some(item) = receiver.recv().await {
        received.push(item);
    }
    let written = writer.await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(
        received.len(),
        clients * events,
        "every client receives every event"
    );
    let mut samples: Vec<Duration> = received
        .iter()
        .map(|(n, at)| at.duration_since(written[*n]))
        .collect();
    let name = format!("{clients} clients, 1 event/{interval_ms} ms: write → received");
    percentiles(&name, &mut samples);
}

/// `clients` sockets that keep a board as the page does (`app::state::BoardModel`: events applied
/// in order, `/api/snapshot` after a gap, a lane's top fetched again after a deletion) through a
/// storm of `changes` changes, one every 2 ms: rewrites, moves between lanes, deletions and new
/// files. Then every client's board must equal the server's (lane counts and every lane's shown
/// cards), and the server's the disk (every lane's files, every shown card's title in its file).
/// A client the server closes (too slow for too long) connects again as the page does.
async fn converge(clients: usize, changes: usize) {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    use app::model::{parse_lane_key, Envelope, LanePage, Snapshot};
    use app::state::{Applied, BoardModel};

    const FOLDERS: [&str; 4] = [
        "inbox",
        "assigned/agent-a",
        "assigned/agent-b",
        "done/agent-a",
    ];
    let (server, _) = Server::start_with(250, realistic_yaml);
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let snapshot = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/api/snapshot"))
            .send()
            .await
            .unwrap()
            .json::<Snapshot>()
            .await
            .unwrap()
    };
    // Every client receives the same bytes for a seq: each text is parsed once, here.
    /// A message's start (`{"seq":N,"type":"…"`) and length → the message parsed.
    type Parsed = Arc<Mutex<HashMap<(String, usize), Arc<Envelope>>>>;
    let parsed: Parsed = Arc::default();
    let (target_tx, target) = tokio::sync::watch::channel(u64::MAX);
    let mut readers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
            .await
            .unwrap();
        let (parsed, mut target, http, base, addr) = (
            parsed.clone(),
            target.clone(),
            http.clone(),
            base.clone(),
            server.addr.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut model = BoardModel::default();
            let (mut resyncs, mut reconnects) = (0usize, 0usize);
            while model.seq < *target.borrow() || model.seq == 0 {
                let message = tokio::select! {
                    message = socket.next() => message,
                    _ = target.changed() => continue,
                };
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    // Closed (a client too slow for too long is): the page connects again,
                    // naming the board it holds, and so does this client.
                    _ => {
                        reconnects += 1;
                        let url = format!(
                            "ws://{addr}/ws?since={}&instance={}",
                            model.seq, model.instance
                        );
                        socket = tokio_tungstenite::connect_async(url).await.unwrap().0;
                        continue;
                    }
                };
                // `{"seq":N,"type":"…"` and the length tell messages apart: parsed once.
                let key = (
                    text.as_str().get(..48).unwrap_or(text.as_str()).to_owned(),
                    text.len(),
                );
                let cached = parsed.lock().unwrap().get(&key).cloned();
                let envelope = match cached {
                    Some(envelope) => envelope,
                    None => {
                        let envelope: Arc<Envelope> =
                            Arc::new(serde_json::from_str(text.as_str()).unwrap());
                        let mut parsed = parsed.lock().unwrap();
                        if parsed.len() > 50_000 {
                            parsed.clear();
                        }
                        parsed.insert(key, envelope.clone());
                        envelope
                    }
                };
                if model.apply((*envelope).clone()) == Applied::Gap {
                    resyncs += 1;
                    model.replace(snapshot(http.clone(), base.clone()).await);
                }
            }
            for (lane, want) in model.lanes_to_fetch() {
                let page: LanePage = http
                    .get(format!("{base}/api/board/lane"))
                    .query(&[("lane", lane.as_str()), ("limit", &want.to_string())])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(model.add_page(page), "a page read at the board's seq");
            }
            (model, resyncs, reconnects)
        }));
    }

    let collab = server.collab();
    let started = Instant::now();
    let writer = tokio::task::spawn_blocking(move || {
        // Where each of the 250 tasks is now (`None`: deleted).
        let mut at: Vec<Option<usize>> = (0..250).map(|i| Some(i % 4)).collect();
        let file = |folder: usize, task: usize| {
            collab.join(format!("{}/task-{task:05}.yaml", FOLDERS[folder]))
        };
        for i in 0..changes {
            let task = (i * 7) % 250;
            let text = realistic_yaml(task, "converge").replacen(
                &format!("Realistic task {task}\""),
                &format!("Realistic task {task} change-{i}\""),
                1,
            );
            match (at[task], i % 10) {
                (None, _) => {
                    let folder = i % 4;
                    std::fs::write(file(folder, task), text).unwrap();
                    at[task] = Some(folder);
                }
                (Some(folder), 8) => {
                    std::fs::remove_file(file(folder, task)).unwrap();
                    at[task] = None;
                }
                (Some(folder), 9) => {
                    let to = (folder + 1 + i % 3) % 4;
                    std::fs::rename(file(folder, task), file(to, task)).unwrap();
                    at[task] = Some(to);
                }
                (Some(folder), _) => std::fs::write(file(folder, task), text).unwrap(),
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    writer.await.unwrap();
    let written = started.elapsed();
    // The server is done once its seq stops moving (the watcher gathers events for a moment).
    let mut last = snapshot(http.clone(), base.clone()).await.seq;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let seq = snapshot(http.clone(), base.clone()).await.seq;
        if seq == last {
            break;
        }
        last = seq;
    }
    target_tx.send_replace(last);
    let mut boards = Vec::with_capacity(clients);
    for reader in readers {
        boards.push(
            tokio::time::timeout(Duration::from_secs(120), reader)
                .await
                .expect("every client reaches the server's last seq")
                .unwrap(),
        );
    }
    let converged = started.elapsed();
    let truth = BoardModel::from_snapshot(snapshot(http.clone(), base.clone()).await);
    assert_eq!(truth.seq, last, "nothing changed after the storm");

    // The server's board against the disk.
    let mut on_disk: BTreeMap<String, usize> = BTreeMap::new();
    for folder in FOLDERS {
        let files = std::fs::read_dir(server.collab().join(folder))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "yaml")
            })
            .count();
        if files > 0 {
            on_disk.insert(folder.to_owned(), files);
        }
    }
    assert_eq!(
        truth.lanes,
        on_disk.into_iter().collect(),
        "the server's lane counts are the disk's"
    );
    for card in truth.cards.values() {
        let text = std::fs::read_to_string(server.collab().join(&card.task.path)).unwrap();
        assert!(
            text.contains(&card.task.title),
            "{} on disk",
            card.task.path
        );
    }
    // Every client's board against the server's.
    let shown = |model: &BoardModel| -> BTreeMap<String, Vec<app::model::TaskSummary>> {
        model
            .lanes
            .keys()
            .filter_map(|key| Some((key.to_owned(), parse_lane_key(key)?)))
            .map(|(key, (column, lane))| {
                let cards = model.cards_in(column, lane.as_deref());
                (key, cards.into_iter().map(|c| c.task).collect())
            })
            .collect()
    };
    let expected = shown(&truth);
    let (mut differing, mut resyncs, mut reconnects) = (0, 0, 0);
    for (board, gaps, again) in &boards {
        resyncs += gaps;
        reconnects += again;
        if board.seq != truth.seq || board.lanes != truth.lanes || shown(board) != expected {
            differing += 1;
        }
    }
    println!(
        "{clients} reading clients, {changes} changes (rewrites, moves, deletions, new files) in {:.1} s: \
         every board equal to the server's and the disk's after {:.1} s ({} of {clients} differ), \
         seq {}, resyncs after a gap {resyncs}, reconnections after a close {reconnects}",
        written.as_secs_f64(),
        converged.as_secs_f64(),
        differing,
        truth.seq,
    );
    assert_eq!(differing, 0, "every client's board equals the server's");
}
