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

// The heap's free chunks still hold what freed objects left in them (2.3 MB of the 15.6 MB heap after warm.py):
// zeroed, they compress to almost nothing, so the page downloads and inflates less (7.5 -> 6.9 MiB gzipped). CPython
// here is built without pymalloc, so every Python object comes from this malloc (dlmalloc) and its free chunks are
// all the freed memory there is. Each free chunk is taken with malloc (largest requests first), zeroed, and given
// back once all are taken; a request the free chunks cannot answer is served from the top of the heap, past the
// break where this began, and ends that size. Returns [bytes zeroed, chunks, bytes the wasm memory grew by].
function zeroFreeHeap(module) {
  const info = module._malloc(64);
  module._mallinfo(info);  // struct mallinfo, ten 4-byte fields: fordblks (free bytes) is the ninth
  const free = module.HEAPU32[(info >> 2) + 8];
  module._free(info);
  const top = module.HEAPU32[module._emscripten_get_sbrk_ptr() >> 2];
  const memory = module.HEAPU8.length;
  const limit = Math.ceil(free / 16) + 64;  // each chunk taken is at least 16 bytes of the free ones
  const held = [];
  let zeroed = 0;
  for (let size = 1 << 20; size >= 16; size >>= 1) {
    while (held.length < limit) {
      const chunk = module._malloc(size);
      if (!chunk) break;
      if (chunk + size > top) {
        module._free(chunk);
        break;
      }
      module.HEAPU8.fill(0, chunk, chunk + size);
      held.push(chunk);
      zeroed += size;
    }
  }
  for (const chunk of held) module._free(chunk);
  return [zeroed, held.length, module.HEAPU8.length - memory];
}

const runtime = resolve(process.argv[2]);
const app = resolve(process.argv[3]);
const python = process.argv[4] || "python3";  // build.py passes its own interpreter
const here = dirname(fileURLToPath(import.meta.url));
const { loadPyodide } = await import(pathToFileURL(join(runtime, "pyodide.mjs")).href);
const { pack } = await import(pathToFileURL(join(here, "brotli.mjs")).href);
// the page's worker: how the snapshot is packed as its difference from its base, and rebuilt from it
const { snapshotBase, xorBase, sparse } = await import(pathToFileURL(join(here, "..", "templates", "static", "worker.js")).href);

const pyodide = await loadPyodide({ indexURL: runtime + "/", _makeSnapshot: true });
// pycore and the page's Python (app.py), where warm.py imports them from.
pyodide.unpackArchive(new Uint8Array(readFileSync(join(app, "pycore.zip"))), "zip", { extractDir: "/home/pyodide" });
// Compiled as `python -OO` would (docstrings and asserts left out: 150 kB of docstrings citing sources, which the
// page never reads and would otherwise carry in the snapshot), into the cache files import reads first (unchecked:
// the sources are the same files). The library and the CLI keep them.
pyodide.runPython(`
import importlib.util, pathlib, py_compile
for path in sorted(pathlib.Path("/home/pyodide").rglob("*.py")):
    py_compile.compile(str(path), cfile=importlib.util.cache_from_source(str(path)), optimize=2, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`);
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
const [zeroed, chunks, grown] = zeroFreeHeap(pyodide._module);
const snapshot = pyodide.makeMemorySnapshot();
const base = await snapshotBase(new Uint8Array(readFileSync(join(runtime, "pyodide.asm.wasm"))));
xorBase(snapshot, base);  // packed as its difference from the WebAssembly's data (worker.js snapshotBase)
// Both packed with Brotli at its best (tools/brotli.mjs): the snapshot is 3.9 MB where gzip -9 makes 5.8 MB (most
// of a minute of the build's time); the page's worker unpacks them as they arrive (worker.js).
const kept = sparse(snapshot);  // its pages that are not all zeros (worker.js sparse, scatter)
const packed = pack(kept);
writeFileSync(join(app, "snapshot.bin.br"), packed);
// for the page (build.py: data-snapshot-bytes, data-snapshot-base): its unpacked length, which Pyodide sizes its
// memory by, and its base's hash (worker.js)
writeFileSync(join(app, "snapshot.json"), JSON.stringify({ bytes: snapshot.length, base: base.hash }) + "\n");
writeFileSync(join(app, "stdlib.zip.br"), pack(readFileSync(join(app, "stdlib.zip"))));
unlinkSync(join(app, "stdlib.zip"));
console.log(`snapshot: ${(snapshot.length / 2 ** 20).toFixed(1)} MiB, ${(kept.length / 2 ** 20).toFixed(1)} MiB in pages not all ` +
            `zeros, ${(packed.length / 2 ** 20).toFixed(1)} MiB packed; ` +
            `${(zeroed / 2 ** 20).toFixed(1)} MiB of free heap zeroed in ${chunks} chunks` +
            (grown ? `, the memory grown by ${grown} bytes` : ""));
