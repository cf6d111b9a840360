// A throwaway PostgreSQL cluster for a test, as tests/common/postgres.rs starts one: initdb into
// a temporary folder and pg_ctl on a free loopback port (TCP only, trust authentication,
// fsync=off). As root, the cluster belongs to the `postgres` OS user (PostgreSQL refuses root).
// The server's programs: EXECDASH_PG_BIN, else Debian's /usr/lib/postgresql/<version>/bin
// (scripts/bootstrap installs the postgresql package).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./server";

function programs(): string {
  if (process.env.EXECDASH_PG_BIN) return process.env.EXECDASH_PG_BIN;
  const versions = readdirSync("/usr/lib/postgresql")
    .map((v) => join("/usr/lib/postgresql", v, "bin"))
    .filter((bin) => existsSync(join(bin, "initdb")))
    .sort();
  const bin = versions.pop();
  if (!bin) throw new Error("no PostgreSQL server programs: run scripts/bootstrap");
  return bin;
}

const root = process.getuid?.() === 0;

export class Postgres {
  private constructor(
    private readonly dir: string,
    private readonly bin: string,
    readonly port: number,
  ) {}

  static async start(): Promise<Postgres> {
    const dir = mkdtempSync(join(tmpdir(), "execdash-pg-"));
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(dir, "postgres.log"), "");
    if (root) {
      chmodSync(dir, 0o755);
      execFileSync("chown", ["-R", "postgres:postgres", data, join(dir, "postgres.log")]);
    }
    const cluster = new Postgres(dir, programs(), await freePort());
    cluster.run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
    cluster.up();
    return cluster;
  }

  /** Stops the server (fast: clients are disconnected) and starts it again on the same data and port. */
  restart(): void {
    this.run("pg_ctl", ["-D", join(this.dir, "data"), "-m", "fast", "-w", "stop"]);
    this.up();
  }

  private up(): void {
    this.run("pg_ctl", [
      "-D", join(this.dir, "data"), "-l", join(this.dir, "postgres.log"), "-w", "start",
      "-o", `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off`,
    ]);
  }

  /** A new empty database, as a URL. */
  database(name: string): string {
    this.run("createdb", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", name]);
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  stop(): void {
    try {
      this.run("pg_ctl", ["-D", join(this.dir, "data"), "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private run(program: string, args: string[]): void {
    const path = join(this.bin, program);
    if (root) execFileSync("runuser", ["-u", "postgres", "--", path, ...args], { cwd: this.dir, stdio: "pipe" });
    else execFileSync(path, args, { cwd: this.dir, stdio: "pipe" });
  }
}
