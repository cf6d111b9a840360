// Loads the WASM front end and hydrates the server-rendered page. Kept out of the HTML so the
// Content-Security-Policy needs no inline script. `?v=` (the build's content hash) is passed on
// so every asset URL is versioned and cacheable.
try {
  const theme = localStorage.getItem("execdash-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // storage unavailable: follow the system theme
}
// The live socket, opened now rather than once the WASM has downloaded and hydrated (on a slow
// link that is seconds later): what it receives waits here, in order, until the client takes it
// over (`hydrate(early)`). At most EARLY_MESSAGES: past that the socket is closed, and the client,
// having read those, connects again and catches up from the board they left it with.
const EARLY_MESSAGES = 256;
const early = { socket: undefined, messages: [] };
const socketPath = document.documentElement.dataset.socket;
if (socketPath) {
  try {
    const address = new URL(socketPath, location.href);
    address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(address);
    socket.onmessage = (event) => {
      if (early.messages.length < EARLY_MESSAGES) early.messages.push(event.data);
      else socket.close();
    };
    early.socket = socket;
  } catch {
    // the client opens its own
  }
}
// Served as `<base>/boot.js`: the front end is beside it, under the same base path.
const here = new URL(import.meta.url);
const base = here.pathname.replace(/\/boot\.js$/, "");
const version = here.searchParams.get("v");
const query = version ? `?v=${encodeURIComponent(version)}` : "";
// The page's import map sends the lazily loaded pages' import of `./execdash.js` here too.
const frontend = await import(`${base}/pkg/execdash.js${query}`);
await frontend.default({ module_or_path: `${base}/pkg/execdash.wasm${query}` });
// Where a launch's time goes (end2end/bench/launch.mjs reads these; the client marks
// `execdash:hydrated`).
performance.mark("execdash:instantiated");
frontend.hydrate(early);
