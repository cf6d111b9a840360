// Development only: the page includes this script when the server runs under `cargo leptos
// watch` (LEPTOS_WATCH is set). It connects to cargo-leptos's reload socket (port in
// `data-port`) and reloads the page when the front end was rebuilt, or swaps the stylesheet when
// only the CSS changed. Same protocol as Leptos's own reload script, without inline code (the
// Content-Security-Policy allows none).
const script = document.currentScript;
const port = script?.dataset.port;
const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";

function connect() {
  const socket = new WebSocket(`${scheme}${window.location.hostname}:${port}/live_reload`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.all) window.location.reload();
    if (message.css) {
      for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
        const href = new URL(link.href);
        if (href.pathname.endsWith(message.css)) {
          href.searchParams.set("v", String(Date.now()));
          link.href = href.toString();
        }
      }
    }
  };
  socket.onclose = () => setTimeout(connect, 1000);
  socket.onerror = () => socket.close();
}

if (port) connect();
