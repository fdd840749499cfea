// Makes the Pyodide memory snapshot the page starts from: Python already running, pycore imported and
// its caches warm for the default scenario. Run by build.py with Node:
//     node tools/snapshot.mjs <pyodide runtime dir> <app dir with pycore.zip and warm.py> [python] [parts]
// It writes snapshot.0.bin.gz ... snapshot.<parts - 1>.bin.gz: the memory cut into parts (whole 64 KiB pages)
// that hold as many non-zero pages each (the work of inflating; runs of zeros cost next to nothing), each gzipped
// on its own, so that the page inflates them side by side.
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
const parts = Number(process.argv[5] || 1);
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
const page = 65536;
const used = [];  // start of each page that is not all zeros
for (let at = 0; at < snapshot.length; at += page) {
  if (snapshot.subarray(at, at + page).some((byte) => byte !== 0)) used.push(at);
}
const cuts = [0];
for (let i = 1; i < parts; i++) cuts.push(used[Math.floor(used.length * i / parts)]);
cuts.push(snapshot.length);
let packed = 0;
for (let i = 0; i < parts; i++) {
  const part = gzipSync(snapshot.subarray(cuts[i], cuts[i + 1]), { level: 9 });
  writeFileSync(join(app, `snapshot.${i}.bin.gz`), part);
  packed += part.length;
}
console.log(`snapshot: ${(snapshot.length / 2 ** 20).toFixed(1)} MiB, ${(packed / 2 ** 20).toFixed(1)} MiB gzipped in ${parts} parts`);
