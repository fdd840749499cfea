// The single-file page's `interpreter`: as pyodide-start.mjs, but Pyodide's own module comes from the
// page's import map (a file:// page cannot import it by URL) and every file from the page (offline-fetch.js).
import { loadPyodide as loadFresh, version } from "pyodide/pyodide.mjs";
import createPyodideModule from "pyodide/pyodide.asm.mjs";

export { version };

export async function loadPyodide(options = {}) {
  const base = { ...options, createPyodideModule };
  try {
    const response = await fetch("snapshot.bin.gz");
    const inflated = response.body.pipeThrough(new DecompressionStream("gzip"));
    const snapshot = new Uint8Array(await new Response(inflated).arrayBuffer());
    return await loadFresh({ ...base, _loadSnapshot: snapshot });
  } catch (error) {
    console.warn("Starting Python without its snapshot:", error);
    return loadFresh(base);
  }
}
