// Makes the Pyodide memory snapshot the page starts from: Python already running, pycore imported and
// its caches warm for the default scenario. Run by build.py with Node:
//     node tools/snapshot.mjs site/
// Pyodide's snapshot API is experimental (loadPyodide _makeSnapshot / makeMemorySnapshot /
// _loadSnapshot) and a snapshot only fits the Pyodide build that made it, so it is made at every build
// from the vendored runtime, and the page falls back to a normal start if loading it fails.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const site = resolve(process.argv[2] || "site");
const runtime = join(site, "vendor", "pyodide");
const { loadPyodide } = await import(pathToFileURL(join(runtime, "pyodide.mjs")).href);

const pyodide = await loadPyodide({ indexURL: runtime + "/", _makeSnapshot: true });
const zip = new Uint8Array(readFileSync(join(site, "py", "pycore.zip")));
// The same place PyScript unpacks the page's files ("files": {"./py/pycore.zip": "./*"}).
pyodide.unpackArchive(zip, "zip", { extractDir: "/home/pyodide" });
pyodide.runPython(readFileSync(join(site, "py", "warm.py"), "utf8"));
const snapshot = pyodide.makeMemorySnapshot();
writeFileSync(join(runtime, "snapshot.bin.gz"), gzipSync(snapshot, { level: 9 }));
console.log(`snapshot: ${(snapshot.length / 2 ** 20).toFixed(1)} MiB, ` +
            `${(readFileSync(join(runtime, "snapshot.bin.gz")).length / 2 ** 20).toFixed(1)} MiB gzipped`);
