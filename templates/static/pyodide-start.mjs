// The `interpreter` PyScript loads: Pyodide started from the memory snapshot made at build time
// (tools/snapshot.mjs), with Python and pycore already initialised; a normal start if that fails.
// The page names the snapshot in <html data-snapshot="...">, relative to the page.
import { loadPyodide as loadFresh, version } from "./pyodide.mjs";

export { version };

// The service worker keeps the site for offline use. It takes what the browser's HTTP cache holds, but a
// browser may not keep a file this large there (a private window's memory cache does not): the page hands
// its copy over through this cache (templates/sw.js), so that the snapshot is downloaded once.
const HANDOFF = "handoff-llm-memory";

function handOver(url, body) {
  try {
    if (!self.caches || !/^https?:$/.test(location.protocol)) return body;
    const [kept, used] = body.tee();
    caches.open(HANDOFF).then((cache) => cache.put(url, new Response(kept))).catch(() => {});
    return used;
  } catch (refused) {  // storage refused (a third-party frame): the worker downloads it if it runs at all
    return body;
  }
}

async function inflate(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const inflated = handOver(url.href, response.body).pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

export async function loadPyodide(options = {}) {
  performance.mark("py:load");  // bench/page.py reports the start-up phases between these marks
  try {
    return await start(options);
  } finally {
    performance.mark("py:loaded");
  }
}

async function start(options) {
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
