// Makes the Pyodide memory snapshot the page starts from: Python already running, pycore imported and
// its caches warm for the default scenario. Run by build.py with Node:
//     node tools/snapshot.mjs <pyodide runtime dir> <app dir with pycore.zip and warm.py>
// Pyodide's snapshot API is experimental (loadPyodide _makeSnapshot / makeMemorySnapshot /
// _loadSnapshot) and a snapshot only fits the Pyodide build that made it, so it is made at every build
// from the vendored runtime, and the page falls back to a normal start if loading it fails.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const runtime = resolve(process.argv[2]);
const app = resolve(process.argv[3]);
const { loadPyodide } = await import(pathToFileURL(join(runtime, "pyodide.mjs")).href);

const pyodide = await loadPyodide({ indexURL: runtime + "/", _makeSnapshot: true });
// pycore and the page's Python (app.py), where warm.py imports them from.
pyodide.unpackArchive(new Uint8Array(readFileSync(join(app, "pycore.zip"))), "zip", { extractDir: "/home/pyodide" });
pyodide.runPython(readFileSync(join(app, "warm.py"), "utf8"));
// The standard library's modules now in memory: build.py leaves them out of the page's copy of the stdlib zip
// (app/stdlib.zip), which only a module first imported later is read from. zipimport keeps the zip's table of
// contents in memory, so it is dropped here: restored, Python reads the smaller zip's own table.
const inSnapshot = pyodide.runPython(`
import sys, zipimport
_zip = "/lib/python%d%d.zip/" % sys.version_info[:2]
_names = sorted({m.__file__[len(_zip):] for m in list(sys.modules.values())
                 if isinstance(getattr(m, "__file__", None), str) and m.__file__.startswith(_zip)})
zipimport._zip_directory_cache.clear()
"\\n".join(_names)`);
writeFileSync(join(app, "stdlib-in-snapshot.txt"), inSnapshot + "\n");
const snapshot = pyodide.makeMemorySnapshot();
const packed = gzipSync(snapshot, { level: 9 });
writeFileSync(join(app, "snapshot.bin.gz"), packed);
console.log(`snapshot: ${(snapshot.length / 2 ** 20).toFixed(1)} MiB, ${(packed.length / 2 ** 20).toFixed(1)} MiB gzipped`);
