// What a page reports as broken: uncaught exceptions and console errors, collected from the
// moment of the call.
import type { Page } from "@playwright/test";

export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  return errors;
}

/**
 * The `Content-Encoding` ("none" when unencoded) of each lazily loaded WASM file (`split_*`,
 * `chunk_*`) the page fetches from the moment of the call, by file name.
 */
export function lazyFileEncodings(page: Page): Map<string, string> {
  const encodings = new Map<string, string>();
  page.on("response", async (response) => {
    const name = new URL(response.url()).pathname.split("/").pop() ?? "";
    if (/^(split|chunk)_.*\.wasm$/.test(name)) {
      encodings.set(name, (await response.allHeaders())["content-encoding"] ?? "none");
    }
  });
  return encodings;
}
