// Makes the Pyodide memory snapshot the page starts from: Python already running, pycore imported and
// its caches warm for the default scenario. Run by build.py with Node:
//     node tools/snapshot.mjs <pyodide runtime dir> <app dir with pycore.zip and warm.py> [python]
// Pyodide's snapshot API is experimental (loadPyodide _makeSnapshot / makeMemorySnapshot /
// _loadSnapshot) and a snapshot only fits the Pyodide build that made it, so it is made at every build
// from the vendored runtime, and the page falls back to a normal start if loading it fails.
import { execFileSync } from "node:child_process";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const runtime = resolve(process.argv[2]);
const app = resolve(process.argv[3]);
const python = process.argv[4] || "python3";  // build.py passes its own interpreter
const here = dirname(fileURLToPath(import.meta.url));
const { loadPyodide } = await import(pathToFileURL(join(runtime, "pyodide.mjs")).href);

const pyodide = await loadPyodide({ indexURL: runtime + "/", _makeSnapshot: true });
// pycore and the page's Python (app.py), where warm.py imports them from.
pyodide.unpackArchive(new Uint8Array(readFileSync(join(app, "pycore.zip"))), "zip", { extractDir: "/home/pyodide" });
pyodide.runPython(readFileSync(join(app, "warm.py"), "utf8"));
// The standard library's modules now in memory are left out of the page's copy of the stdlib zip (app/stdlib.zip,
// tools/trim_stdlib.py), which only a module first imported later is read from. It is mounted here in place of the
// whole one and zipimport's table of its contents (kept in memory; 50 ms to read again in the page) replaced by
// its own, so the snapshot holds the table of the very file the page mounts.
const zipPath = pyodide.runPython(`import sys; "/lib/python%d%d.zip" % sys.version_info[:2]`);
const held = pyodide.runPython(`
import sys
"\\n".join(sorted({m.__file__[len("${zipPath}/"):] for m in list(sys.modules.values())
                   if isinstance(getattr(m, "__file__", None), str) and m.__file__.startswith("${zipPath}/")}))`);
writeFileSync(join(app, "stdlib-held.txt"), held + "\n");
execFileSync(python, [join(here, "trim_stdlib.py"), join(runtime, "python_stdlib.zip"), join(app, "stdlib-held.txt"),
                      join(app, "stdlib.zip")]);
unlinkSync(join(app, "stdlib-held.txt"));
pyodide.FS.writeFile(zipPath, new Uint8Array(readFileSync(join(app, "stdlib.zip"))));
pyodide.runPython(`
import zipimport
zipimport._zip_directory_cache.clear()
zipimport._zip_directory_cache["${zipPath}"] = zipimport._read_directory("${zipPath}")`);
const snapshot = pyodide.makeMemorySnapshot();
const packed = gzipSync(snapshot, { level: 9 });
writeFileSync(join(app, "snapshot.bin.gz"), packed);
console.log(`snapshot: ${(snapshot.length / 2 ** 20).toFixed(1)} MiB, ${(packed.length / 2 ** 20).toFixed(1)} MiB gzipped`);
