//! A throwaway PostgreSQL cluster for a test: `initdb` into a temporary folder and `pg_ctl` on a
//! free loopback port (TCP only, trust authentication, `fsync=off`: nothing here must outlive
//! the test). Run as root, the cluster belongs to the `postgres` OS user, as PostgreSQL refuses
//! to run as root. Stopped (immediately) when dropped.
//!
//! The server's programs are found in `EXECDASH_PG_BIN`, else Debian's
//! `/usr/lib/postgresql/<version>/bin` (`scripts/bootstrap` installs the `postgresql` package).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// Flushes to disk as a production server does (`fsync`, full-page writes, synchronous
    /// commits); the tests' clusters do not.
    durable: bool,
}

impl Postgres {
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// A cluster with PostgreSQL's default durability (what the benchmarks measure too).
    pub fn start_durable() -> Postgres {
        Postgres::start_with(true)
    }

    fn start_with(durable: bool) -> Postgres {
        let bin = server_programs();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if is_root() {
            // The cluster's user must reach its folder.
            set_mode(dir.path(), 0o755);
            run(
                "chown",
                &["-R", "postgres:postgres", &data.display().to_string()],
            );
        }
        let port = free_port();
        let postgres = Postgres {
            dir,
            bin,
            port,
            durable,
        };
        postgres.as_owner(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let log = postgres.dir.path().join("postgres.log");
        if is_root() {
            std::fs::write(&log, "").unwrap();
            run("chown", &["postgres:postgres", &log.display().to_string()]);
        }
        postgres.pg_ctl_start();
        postgres
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) {
        let flushes = if self.durable {
            ""
        } else {
            " -c fsync=off -c full_page_writes=off"
        };
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''{flushes} \
             -c max_connections=200",
            self.port
        );
        self.as_owner(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.dir.path().join("postgres.log").display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// A new empty database, as a URL.
    pub fn database(&self, name: &str) -> String {
        self.as_owner(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
        );
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server (fast shutdown) and starts it again on the same data and port.
    pub fn restart(&self) {
        self.down();
        self.up();
    }

    /// Stops the server (fast shutdown: clients are disconnected), keeping its data.
    pub fn down(&self) {
        self.stop("fast");
    }

    /// Starts the stopped server again on the same data and port.
    pub fn up(&self) {
        self.pg_ctl_start();
    }

    fn stop(&self, mode: &str) {
        let data = self.data().display().to_string();
        let _ = self.try_as_owner("pg_ctl", &["-D", &data, "-m", mode, "-w", "stop"]);
    }

    fn as_owner(&self, program: &str, args: &[&str]) {
        let output = self.try_as_owner(program, args);
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
        );
    }

    fn try_as_owner(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|err| panic!("{}: {err}", program.display()))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop("immediate");
    }
}

fn server_programs() -> PathBuf {
    if let Some(bin) = std::env::var_os("EXECDASH_PG_BIN") {
        return PathBuf::from(bin);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").is_file());
    versions.sort();
    versions.pop().expect(
        "no PostgreSQL server programs (initdb): run scripts/bootstrap, which installs Debian's \
         postgresql, or set EXECDASH_PG_BIN",
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
