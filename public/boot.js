// Loads the WASM front end and hydrates the server-rendered page. Kept out of the HTML so the
// Content-Security-Policy needs no inline script. `?v=` (the build's content hash) is passed on
// so every asset URL is versioned and cacheable.
try {
  const theme = localStorage.getItem("execdash-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // storage unavailable: follow the system theme
}
// Served as `<base>/boot.js`: the front end is beside it, under the same base path.
const here = new URL(import.meta.url);
const base = here.pathname.replace(/\/boot\.js$/, "");
const version = here.searchParams.get("v");
const query = version ? `?v=${encodeURIComponent(version)}` : "";
// The page's import map sends the lazily loaded pages' import of `./execdash.js` here too.
const frontend = await import(`${base}/pkg/execdash.js${query}`);
await frontend.default({ module_or_path: `${base}/pkg/execdash.wasm${query}` });
frontend.hydrate();
