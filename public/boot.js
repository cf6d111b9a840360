// Loads the WASM front end and hydrates the server-rendered page. Kept out of the HTML so the
// Content-Security-Policy needs no inline script. `?v=` (the build's content hash) is passed on
// so every asset URL is versioned and cacheable.
try {
  const theme = localStorage.getItem("execdash-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // storage unavailable: follow the system theme
}
const version = new URL(import.meta.url).searchParams.get("v");
const query = version ? `?v=${encodeURIComponent(version)}` : "";
const frontend = await import(`/pkg/execdash.js${query}`);
await frontend.default({ module_or_path: `/pkg/execdash.wasm${query}` });
frontend.hydrate();
