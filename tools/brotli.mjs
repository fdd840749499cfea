// Brotli at its best (quality 11, a 16 MiB window), for the files the site sends packed: the snapshot and its
// standard library (tools/snapshot.mjs; the page's worker unpacks them) and Pyodide's WebAssembly (build.py;
// sent with Content-Encoding: br, netlify.toml). Node's zlib has Brotli; Python's standard library does not.
//     node tools/brotli.mjs <file> <packed file>
import { readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";
import { fileURLToPath } from "node:url";

export function pack(bytes) {
  return brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [from, to] = process.argv.slice(2);
  if (!from || !to) {
    console.error("usage: node tools/brotli.mjs <file> <packed file>");
    process.exit(2);
  }
  writeFileSync(to, pack(readFileSync(from)));
}
