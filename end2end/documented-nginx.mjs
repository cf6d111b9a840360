// The deployment guide's nginx configuration (docs/deploy/nginx.conf) as the tests
// (tests/support/nginx.ts) and the launch benchmark (bench/nginx.mjs) put it in front of a
// server: the blocks between its "# BEGIN execdash NAME" and "# END execdash NAME" markers, so
// what they exercise is the documented configuration, not a copy.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const documentedNginx = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "docs/deploy/nginx.conf");
/** The upstream the documented configuration proxies to. */
const DOC_UPSTREAM = "127.0.0.1:3000";

/** The text between `# BEGIN execdash NAME` and `# END execdash NAME` (marker lines excluded). */
function section(text, name) {
  const begin = text.indexOf(`# BEGIN execdash ${name}`);
  const end = text.indexOf(`# END execdash ${name}`, begin);
  if (begin < 0 || end < 0) {
    throw new Error(`${documentedNginx} has no "# BEGIN/END execdash ${name}" markers`);
  }
  return text.slice(text.indexOf("\n", begin) + 1, end);
}

/**
 * The documented `http` directives and `locations`, these proxying to 127.0.0.1:`upstreamPort`
 * instead of the documented upstream.
 */
export function documentedBlocks(upstreamPort) {
  const text = readFileSync(documentedNginx, "utf8");
  const locations = section(text, "locations");
  if (!locations.includes(DOC_UPSTREAM)) {
    throw new Error(`the locations in ${documentedNginx} do not proxy to ${DOC_UPSTREAM}`);
  }
  return {
    http: section(text, "http"),
    locations: locations.replaceAll(DOC_UPSTREAM, `127.0.0.1:${upstreamPort}`),
  };
}
