//! The `execdash` binary as a child process serving a workspace: where it listens (read from its
//! log), everything it logged so far, SIGTERM or SIGKILL.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Process {
    pub child: Child,
    pub address: String,
    /// Everything it logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// `execdash serve --root ROOT` on a free loopback port, with `flags`.
    pub fn start(root: &Path, flags: &[&OsStr]) -> Process {
        let mut all: Vec<&OsStr> = vec!["--root".as_ref(), root.as_os_str()];
        all.extend_from_slice(flags);
        Process::start_in(root, &all)
    }

    /// `execdash serve` on a free loopback port in the folder `dir`, with `flags` only.
    pub fn start_in(dir: &Path, flags: &[&OsStr]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_execdash"))
            .args(["serve", "--addr", "127.0.0.1:0", "--site-root"])
            .arg(dir.join("no-site"))
            .args(flags)
            .current_dir(dir)
            .env("EXECDASH_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, address) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                if let Some(at) = line.find("execdash on http://") {
                    let rest = &line[at + "execdash on http://".len()..];
                    let address = rest.split_whitespace().next().unwrap();
                    let _ = sender.send(address.trim_end_matches('/').to_owned());
                }
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        Process {
            child,
            address,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `GET path` as JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
