// The `interpreter` PyScript loads: Pyodide started from the memory snapshot made at build time
// (tools/snapshot.mjs), with Python and pycore already initialised; a normal start if that fails.
// The page names the snapshot in <html data-snapshot="...">, relative to the page.
import { loadPyodide as loadFresh, version } from "./pyodide.mjs";

export { version };

export async function loadPyodide(options = {}) {
  const name = document.documentElement.dataset.snapshot;
  if (!name) return loadFresh(options);
  try {
    const response = await fetch(new URL(name, document.baseURI));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const inflated = response.body.pipeThrough(new DecompressionStream("gzip"));
    const snapshot = new Uint8Array(await new Response(inflated).arrayBuffer());
    return await loadFresh({ ...options, _loadSnapshot: snapshot });
  } catch (error) {
    console.warn("Starting Python without its snapshot:", error);
    return loadFresh(options);
  }
}
