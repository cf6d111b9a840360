// nginx in front of an execdash server as docs/deploy/nginx.conf's TLS variant has it: TLS on a
// loopback port, HTTP/2 (or HTTP/1.1 only), and the location blocks between its "# BEGIN/END
// execdash ..." markers, for the launch benchmark (end2end/tests/support/nginx.ts does the same
// without TLS for the tests). A self-signed certificate for 127.0.0.1, made with openssl; the
// browser trusts it by its public key's hash (--ignore-certificate-errors-spki-list): a
// certificate error would keep responses out of its HTTP cache, and with them the dictionary the
// lazily loaded files are compressed against. Everything stays in a temp dir.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { documentedBlocks } from "../documented-nginx.mjs";

/**
 * nginx on https://127.0.0.1:`port` proxying to 127.0.0.1:`upstreamPort`, with `http2` or not;
 * resolves once it answers `/dashboard/health`, to `{ stop, spki }`: a function that stops it and
 * its certificate's public key hash (for Chromium's --ignore-certificate-errors-spki-list).
 */
export async function startNginx({ port, upstreamPort, http2 }) {
  const { http, locations } = documentedBlocks(upstreamPort);
  const dir = mkdtempSync(join(tmpdir(), "execdash-bench-nginx-"));
  const at = (name) => JSON.stringify(join(dir, name));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
  ], { stdio: "ignore" });
  const spki = execFileSync("sh", [
    "-c",
    `openssl x509 -pubkey -noout -in ${at("cert.pem")} | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ]).toString().trim();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(join(dir, "nginx.conf"), `${asRoot ? "user root;\n" : ""}worker_processes 1;
pid ${at("nginx.pid")};
error_log ${at("error.log")} warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${at("client_body")};
    proxy_temp_path ${at("proxy")};
    fastcgi_temp_path ${at("fastcgi")};
    uwsgi_temp_path ${at("uwsgi")};
    scgi_temp_path ${at("scgi")};
${http}
    server {
        listen 127.0.0.1:${port} ssl${http2 ? " http2" : ""};
        ssl_certificate ${at("cert.pem")};
        ssl_certificate_key ${at("key.pem")};
        ssl_protocols TLSv1.2 TLSv1.3;
        gzip off;
${locations}
    }
}
`);
  const child = spawn("nginx", ["-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: "ignore",
  });
  const stop = () => {
    child.kill("SIGQUIT");
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync("curl", ["-skf", "-o", "/dev/null", `https://127.0.0.1:${port}/dashboard/health`], { stdio: "ignore" });
      return { stop, spki };
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) {
        const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
        stop();
        throw new Error(`nginx did not start:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
