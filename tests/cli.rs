//! The `execdash` binary as users run it: `import` with a progress bar, resumable, and bad
//! arguments refused with a clear message.

use std::process::Command;

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
        stdout.contains("3 lines: 2 inserted, 0 already there, 0 skipped, 1 bad"),
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
