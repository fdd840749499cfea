// The `interpreter` PyScript loads: Pyodide started from the memory snapshot made at build time
// (tools/snapshot.mjs), with Python and pycore already initialised; a normal start if that fails.
// The page names the snapshot in <html data-snapshot="...">, relative to the page.
import { loadPyodide as loadFresh, version } from "./pyodide.mjs";

export { version };

async function inflate(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const inflated = response.body.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

export async function loadPyodide(options = {}) {
  const name = document.documentElement.dataset.snapshot;
  if (!name) return loadFresh(options);
  try {
    // Pyodide awaits the snapshot itself: handing it the promise lets the WebAssembly download and
    // compile run while the snapshot is fetched and inflated.
    return await loadFresh({ ...options, _loadSnapshot: inflate(new URL(name, document.baseURI)) });
  } catch (error) {
    console.warn("Starting Python without its snapshot:", error);
    return loadFresh(options);
  }
}
