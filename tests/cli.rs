//! The `execdash` binary as users run it: `import` with a progress bar, resumable, and bad
//! arguments refused with a clear message.

mod common;

use std::process::Command;

use common::eventually;

fn execdash() -> Command {
    Command::new(env!("CARGO_BIN_EXE_execdash"))
}

#[test]
fn import_reports_lines_resumes_and_flags_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"invocation_id":"a","tool_name":"claude-code","model_name":"gpt-5","total_tokens":10,"cost_usd":0.5,"status":"success","timestamp":"2026-11-20T09:00:00Z"}"#,
            "\n",
            r#"{"event":"cost_update","ts":"2026-11-20T09:00:00+00:00","task_id":"t1","tool":"codex","summary":{"cost_usd":1.25,"total_tokens":400,"model":"gpt-5"},"event_id":"e-1"}"#,
            "\n",
            "not json\n",
        ),
    )
    .unwrap();
    let db = dir.path().join("telemetry.db");
    let run = || {
        execdash()
            .args(["import"])
            .arg(&file)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap()
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(
        first.status.code(),
        Some(1),
        "a bad line makes the exit code 1: {stderr}"
    );
    assert!(
        stdout.contains("3 lines: 2 inserted, 0 already there, 0 conflicting, 0 skipped, 1 bad"),
        "{stdout}"
    );
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(
        stderr.contains("100.0%"),
        "the progress bar reaches 100 %: {stderr}"
    );
    let second = run();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("0 inserted, 2 already there"),
        "resumable and idempotent: {stdout}"
    );
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let output = execdash()
        .args(["serve", "--daily-budget=-3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a positive amount of USD"));
    let missing = execdash()
        .args(["serve", "--root", "/nonexistent/repo"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a directory"));
}

/// `execdash serve` stops on SIGTERM with exit code 0, closing its sockets with a close frame.
#[tokio::test]
async fn sigterm_closes_the_sockets_and_exits_zero() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("work/collaboration/inbox")).unwrap();
    let mut child = execdash()
        .args(["serve", "--addr", "127.0.0.1:0", "--root"])
        .arg(dir.path())
        .env("EXECDASH_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (address_sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(at) = line.find("execdash on http://") {
                let rest = &line[at + "execdash on http://".len()..];
                let address = rest.split_whitespace().next().unwrap();
                let _ = address_sender.send(address.trim_end_matches('/').to_owned());
            }
        }
    });
    let address = address
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the server says where it listens");
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
        .await
        .unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(matches!(ack, Message::Text(_)));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let closing = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("the socket hears from the server within 5 s");
    assert!(
        matches!(closing, Some(Ok(Message::Close(_)))),
        "{closing:?}"
    );
    eventually(
        "the server exits after SIGTERM",
        std::time::Duration::from_secs(5),
        || std::future::ready(child.try_wait().unwrap().is_some()),
    )
    .await;
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// `execdash config`: flags over environment over the file over defaults; the token is never
/// printed; unknown keys and bad values are named; off loopback without a token is refused.
#[test]
fn the_configuration_is_layered_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("execdash.toml");
    let token = dir.path().join("token");
    std::fs::write(&token, "a-secret-token-nobody-sees\n").unwrap();
    std::fs::write(
        &file,
        format!(
            "addr = \"127.0.0.1:4100\"\nbase-path = \"/from-file/\"\ndaily-budget = 5.0\n\
             public-url = [\"https://dash.example.com/dashboard\"]\ntoken-file = {:?}\n",
            token
        ),
    )
    .unwrap();
    let config = |extra: &[&str], env: &[(&str, &str)]| {
        let mut command = execdash();
        command
            .arg("config")
            .arg("--config")
            .arg(&file)
            .arg("--root")
            .arg(dir.path())
            .args(extra)
            .env_remove("EXECDASH_ADDR")
            .env_remove("EXECDASH_BASE_PATH")
            .env_remove("LEPTOS_SITE_ADDR");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    };
    let output = config(&[], &[]);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    for line in [
        "addr = \"127.0.0.1:4100\"",
        "base-path = \"/from-file\"",
        "daily-budget = 5.0",
        "# token: read from token-file (never printed)",
    ] {
        assert!(printed.contains(line), "{line} in\n{printed}");
    }
    assert!(
        !printed.contains("nobody-sees"),
        "the token is never printed"
    );
    // The environment wins over the file, a flag over both.
    let output = config(&[], &[("EXECDASH_ADDR", "127.0.0.1:4200")]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("127.0.0.1:4200"));
    let output = config(
        &["--addr", "127.0.0.1:4300"],
        &[("EXECDASH_ADDR", "127.0.0.1:4200")],
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("127.0.0.1:4300"));

    std::fs::write(&file, "adress = \"127.0.0.1:1\"\n").unwrap();
    let output = config(&[], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("adress") && stderr.contains("execdash.toml"),
        "{stderr}"
    );
    std::fs::write(&file, "base-path = \"no-slash\"\n").unwrap();
    let stderr = String::from_utf8(config(&[], &[]).stderr).unwrap();
    assert!(stderr.contains("base-path"), "{stderr}");

    let output = execdash()
        .args(["serve", "--addr", "0.0.0.0:0", "--root"])
        .arg(dir.path())
        .env_remove("EXECDASH_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("head -c 32 /dev/urandom"),
        "says how to make one: {stderr}"
    );

    let version = execdash().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(version.stdout).unwrap().trim(),
        format!("execdash {}", env!("CARGO_PKG_VERSION"))
    );
}

/// A number in the config file gets the flag's bounds: refused with the setting named, never a
/// crash.
#[test]
fn a_config_file_number_out_of_bounds_is_refused_like_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("execdash.toml");
    for value in ["-3", "nan", "inf", "0", "1e12"] {
        std::fs::write(&file, format!("stale-after = {value}\n")).unwrap();
        let output = execdash()
            .args(["config", "--root"])
            .arg(dir.path())
            .arg("--config")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains("stale-after") && stderr.contains("is not a number of seconds"),
            "{value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{value}: {stderr}");
    }
}

/// `execdash config` prints a file that configures the same dashboard, the token file included
/// (dropping it would turn access control off); a missing token file names the setting; a base
/// path that the public URL's path contradicts is warned about.
#[test]
fn the_printed_configuration_reads_back_as_the_same_one() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("execdash.token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    let config = |args: &[&std::ffi::OsStr]| {
        let output = execdash()
            .arg("config")
            .args(args)
            .env_remove("EXECDASH_TOKEN")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (status, printed, _) = config(&[
        "--root".as_ref(),
        dir.path().as_os_str(),
        "--token-file".as_ref(),
        token.as_os_str(),
        "--base-path".as_ref(),
        "/dash".as_ref(),
        "--public-url".as_ref(),
        "https://dash.example.com/dash".as_ref(),
        "--daily-budget".as_ref(),
        "5".as_ref(),
        "--agent-daily-budget".as_ref(),
        "backend-dev=2.5,frontend-dev=1".as_ref(),
        "--agent-monthly-budget".as_ref(),
        "backend-dev=40".as_ref(),
    ]);
    assert_eq!(status, Some(0));
    assert!(
        printed.contains(&format!("token-file = {:?}", token.display().to_string())),
        "{printed}"
    );
    assert!(
        printed.contains("[agent-daily-budget]\nbackend-dev = 2.5\nfrontend-dev = 1.0\n"),
        "{printed}"
    );
    assert!(
        printed.contains("[agent-monthly-budget]\nbackend-dev = 40.0\n"),
        "{printed}"
    );
    assert!(
        printed.contains("# token: read from token-file"),
        "{printed}"
    );
    let file = dir.path().join("printed.toml");
    std::fs::write(&file, &printed).unwrap();
    let (status, again, stderr) = config(&["--config".as_ref(), file.as_os_str()]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(again, printed, "the same configuration, the token included");

    let missing = dir.path().join("missing.token");
    let (status, _, stderr) = config(&[
        "--root".as_ref(),
        dir.path().as_os_str(),
        "--token-file".as_ref(),
        missing.as_os_str(),
    ]);
    assert_eq!(status, Some(2));
    assert!(
        stderr.contains(&format!("token-file {}", missing.display())),
        "{stderr}"
    );

    let (status, _, stderr) = config(&[
        "--root".as_ref(),
        dir.path().as_os_str(),
        "--base-path".as_ref(),
        "/dash".as_ref(),
        "--public-url".as_ref(),
        "https://dash.example.com/other".as_ref(),
    ]);
    assert_eq!(status, Some(0));
    assert!(
        stderr.contains(r#"has the path "/other" but base-path is "/dash""#),
        "{stderr}"
    );
}

/// Every subcommand is listed, and every option and argument of each says what it is for.
#[test]
fn every_subcommand_and_option_has_help() {
    let top = execdash().arg("--help").output().unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    let subcommands = ["serve", "config", "import", "migrate", "seed-demo"];
    for name in subcommands {
        assert!(
            top.lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))),
            "{name} is not listed:\n{top}"
        );
    }
    for name in [None].into_iter().chain(subcommands.map(Some)) {
        let output = execdash().args(name).arg("-h").output().unwrap();
        assert!(output.status.success(), "{name:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<&str> = help.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if !(line.starts_with("  ") && (trimmed.starts_with('-') || trimmed.starts_with('['))) {
                continue;
            }
            // The text beside the option, or (clap's long layout) on the next, deeper line.
            let beside = trimmed
                .find("  ")
                .map(|i| trimmed[i..].trim())
                .unwrap_or("");
            let below = lines
                .get(at + 1)
                .filter(|next| {
                    next.starts_with("          ") && !next.trim_start().starts_with('-')
                })
                .map(|next| next.trim())
                .unwrap_or("");
            let text = if beside.is_empty() { below } else { beside };
            assert!(
                !text.is_empty() && !text.starts_with('['),
                "{name:?}: no help for `{}`",
                trimmed
            );
        }
    }
}

/// `--addr` takes a host name this machine resolves; a budget below zero is refused as a value,
/// not taken for a flag.
#[test]
fn addresses_resolve_and_negative_budgets_are_refused_as_values() {
    let dir = tempfile::tempdir().unwrap();
    let output = execdash()
        .args(["config", "--addr", "localhost:3999", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("addr = \"127.0.0.1:3999\""));
    let output = execdash()
        .args(["config", "--daily-budget", "-5", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("'-5' is not a positive amount of USD"),
        "{stderr}"
    );
    for (flag, says) in [
        (
            "backend-dev",
            "agent-daily-budget: 'backend-dev' is not NAME=USD",
        ),
        (
            "backend-dev=-2",
            "agent-daily-budget: '-2' is not a positive amount of USD",
        ),
        ("=2", "agent-daily-budget: an agent's name is empty"),
    ] {
        let output = execdash()
            .args(["config", "--agent-daily-budget", flag, "--root"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(says), "{flag}: {stderr}");
    }
}

/// Logs written to a file (or journald) are plain text: colour only on a terminal.
#[test]
fn logs_that_are_not_on_a_terminal_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let output = execdash()
        .args([
            "config",
            "--base-path",
            "/dash",
            "--public-url",
            "https://dash.example.com/other",
            "--root",
        ])
        .arg(dir.path())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WARN"), "a warning is logged: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no escape codes: {stderr:?}");
}
