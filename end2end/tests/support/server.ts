// Starts the real execdash binary on a free loopback port, with a workspace of its own (a copy of
// the demo workspace, or an empty board), and stops or restarts it on demand. The binary is
// EXECDASH_BIN (scripts/test: the debug server with the release front end embedded), else the
// release binary of scripts/package; it serves the front end embedded in it unless
// EXECDASH_SITE_ROOT names a folder.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const releaseBinary = process.env.EXECDASH_BIN ?? join(repo, "target/release/execdash");
/** The debug build of `cargo leptos build` (what `cargo leptos serve` runs) and its site. */
export const devBinary = join(repo, "target/debug/execdash");
export const devSiteRoot = join(repo, "target/site");

/** How to run the server: which binary, where, with which environment. */
export interface Launch {
  binary: string;
  /** Working directory (default: this one). */
  cwd?: string;
  /** The whole environment (default: this process's, with EXECDASH_LOG=info). */
  env?: NodeJS.ProcessEnv;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export class DashboardServer {
  private process?: ChildProcess;
  private output = "";

  private constructor(
    readonly root: string,
    readonly port: number,
    readonly args: string[],
    private readonly how: Launch,
    /** Started without `--root` (a team's viewer), in `root` as its working directory. */
    readonly viewer = false,
  ) {}

  /**
   * `demo`: start from a copy of demo/ (the bundled workspace) with a month of demo telemetry;
   * otherwise an empty board and an empty telemetry.db. `args`: more `execdash serve` flags.
   * `viewer`: no `--root` and no board at all (with a `postgres://` `--db`: a team's viewer).
   */
  static async start(
    options: { demo?: boolean; args?: string[]; launch?: Launch; viewer?: boolean } = {},
  ): Promise<DashboardServer> {
    const how = options.launch ?? { binary: releaseBinary };
    const root = mkdtempSync(join(tmpdir(), "execdash-e2e-"));
    if (options.demo) {
      cpSync(join(repo, "demo"), root, { recursive: true });
      execFileSync(how.binary, ["seed-demo", "--root", root], { cwd: how.cwd, env: how.env });
    } else if (!options.viewer) {
      for (const folder of ["inbox", "assigned", "done"]) {
        mkdirSync(join(root, "work/collaboration", folder), { recursive: true });
      }
    }
    const server = new DashboardServer(root, await freePort(), options.args ?? [], how, options.viewer);
    await server.launch();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The telemetry database. */
  get db(): string {
    return join(this.root, "telemetry.db");
  }

  /** A path inside work/collaboration. */
  collab(...parts: string[]): string {
    return join(this.root, "work/collaboration", ...parts);
  }

  /**
   * Waits until the board holds the task `id` (a file just written reaches the board when the
   * watcher has read it; what the server does next with it, such as attributing a call to the
   * task in progress, needs it there).
   */
  async waitForTask(id: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await fetch(`${this.url}/api/tasks/${encodeURIComponent(id)}`)).ok) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`task ${id} never reached the board:\n${this.output}`);
  }

  /** `untilListening`: return once it answers, while it may still be reading the board. */
  async launch(options: { untilListening?: boolean } = {}): Promise<void> {
    this.output = "";
    const root = this.viewer ? [] : ["--root", this.root];
    const args = ["serve", ...root, "--addr", `127.0.0.1:${this.port}`, ...this.args];
    const child = spawn(this.how.binary, args, {
      cwd: this.viewer ? this.root : this.how.cwd,
      env: this.how.env ?? { ...process.env, EXECDASH_LOG: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk) => (this.output += chunk));
    child.stderr?.on("data", (chunk) => (this.output += chunk));
    this.process = child;
    // Under --base-path, /health lives under the prefix too.
    const at = this.args.indexOf("--base-path");
    const base = at >= 0 ? (this.args[at + 1] ?? "").replace(/\/+$/, "") : "";
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      try {
        // Listening comes first; the board is read while `status` is "starting".
        const response = await fetch(`${this.url}${base}/health`);
        if (response.ok && (options.untilListening || (await response.json()).status !== "starting")) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`execdash did not start (exit ${child.exitCode}):\n${this.output}`);
  }

  /**
   * SIGTERM, then the server must exit with code 0 within 5 s: a hung or failed shutdown fails
   * the test (the process is killed so nothing is left behind).
   */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      throw new Error(`execdash did not stop within 5 s of SIGTERM:\n${this.output}`);
    }
    if (child.exitCode !== 0) {
      throw new Error(`execdash exited with ${child.exitCode ?? child.signalCode} on SIGTERM:\n${this.output}`);
    }
  }

  /** SIGKILL, as a machine that dies: nothing is cleaned up. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.root, { recursive: true, force: true });
  }

  get log(): string {
    return this.output;
  }
}
