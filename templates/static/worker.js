// The page's Python, off the main thread: a module Web Worker that starts Pyodide from the memory snapshot made
// at build time (tools/snapshot.mjs: Python running, pycore and the page's Python, app.py, imported), then hands
// the page's events to app.py and posts back its updates as JSON (applied by boot.js in animation frames).
// No SharedArrayBuffer, so no COOP/COEP headers: the cross-site embed keeps working.
//
// Messages in: {t: "start", pyodide, snapshot, stdlib, brotli} once the page is painted (the downloads begin), then
// {t: "init", ...} once it is parsed (boot.js: the same URLs, the page's address and form), {t: "keep"} once it
// shows Python's first answer, and
// {t: "input" | "change", seq, id, name, type, value, checked?, group?, bad?}, {t: "click", id},
// {t: "popstate", search}, {t: "files", id, files: [File]}. Those that arrive before Python runs are kept and
// computed the moment it does (the inputs together, in one recalculation). Messages out: JSON text, an update
// (see app.py), or {failed: message}.
//
// The single-file page (offline.html, from file://, where a worker cannot be started from a module file) runs
// the same code on its main thread: it imports startPython and passes Pyodide's modules from its import map.
//
// The packed files (the snapshot, the standard library) are obtained in a second worker, this module again under
// another name (offThread, serveUnpacking), while this one imports the runtime and links Pyodide.

// The service worker keeps the site for offline use. It takes what the browser's HTTP cache holds, but a
// browser may not keep a file this large there (a private window's memory cache does not): the snapshot is
// handed over through this cache (templates/sw.js), so that it is downloaded once. The page asks the service
// worker to fill its cache only once the hand-over is written ({handed: true}): before that, the service worker
// would find no copy and download its own.
const HANDOFF = "handoff-llm-memory";

function storage() {
  return Boolean(self.caches) && /^https?:$/.test(self.location.protocol);
}

// The hand-over cache, without what another build left there (a page whose service worker never runs, in a
// frame that may not register one, would otherwise keep every build's copies).
function handOff(url) {
  const build = url.slice(0, url.lastIndexOf("/") + 1);
  return caches.open(HANDOFF).then((cache) => cache.keys()
    .then((keys) => Promise.all(keys.filter((key) => !key.url.startsWith(build)).map((key) => cache.delete(key))))
    .then(() => cache));
}

// Returns [the body to read, a promise that settles once the copy is written or refused].
function handOver(url, body) {
  try {
    if (!storage()) return [body, Promise.resolve()];
    const [kept, used] = body.tee();
    return [used, handOff(url).then((cache) => cache.put(url, new Response(kept))).catch(() => {})];
  } catch (refused) {  // storage refused (a third-party frame): the service worker downloads it if it runs at all
    return [body, Promise.resolve()];
  }
}

// A later visit reads the snapshot and the standard library unpacked from the service worker's cache: copies
// written at the first visit once Python runs (keep), handed over as `<url>.unpacked` and kept and dropped with
// the build's own files by templates/sw.js. Reading the snapshot's 30 MiB back takes a few tens to a hundred
// milliseconds, unpacking it a few hundred; with both copies there, the decoder below is not even loaded.
// `unpackedCopy(url)`: the copy's bytes, or null; with `read` false, only whether it is there (true or null).
const UNPACKED = ".unpacked";

async function unpackedCopy(url, read = true) {
  try {
    const hit = storage() ? await caches.match(url + UNPACKED) : null;
    return hit && read ? new Uint8Array(await hit.arrayBuffer()) : hit ? true : null;
  } catch (refused) {  // storage refused (a third-party frame)
    return null;
  }
}

// Both are packed with Brotli (tools/snapshot.mjs: the snapshot 3.9 MB, where gzip makes 5.8), which browsers'
// DecompressionStream does not unpack: a small WebAssembly decoder (brotli-dec-wasm: the Rust
// brotli-decompressor) unpacks them here as they arrive, so that on a real network the unpacking keeps pace
// with the download. `decoder` is its module, initialised.
const UNPACKED_LIMIT = 1 << 30;  // bytes: far more than any of these files unpacks to (the snapshot: 30 MiB)

// `encoding`: the response's Content-Encoding; a server that sends the file Brotli-encoded has it unpacked by the
// browser already.
function unpack(decoder, body, encoding, url) {
  if (/\bbr\b/.test(encoding || "")) return body;
  const stream = new decoder.BrotliDecStream();
  let total = 0;
  let done = false;
  return body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      let offset = 0;
      for (;;) {  // each call takes input or gives output (1 MiB at most), until the chunk is used up
        const result = stream.dec(chunk.subarray(offset), 1 << 20);
        const [bytes, code, used] = [result.buf, result.code, result.input_offset];
        result.free();
        if (!bytes.length && !used && code === decoder.BrotliStreamResultCode.NeedsMoreOutput) {
          throw new Error(`${url}: the Brotli decoder makes no progress`);  // never a loop without end
        }
        offset += used;
        total += bytes.length;
        if (total > UNPACKED_LIMIT) throw new Error(`${url} unpacks to more than ${UNPACKED_LIMIT} bytes`);
        if (bytes.length) controller.enqueue(bytes);
        if (code === decoder.BrotliStreamResultCode.ResultSuccess) done = true;
        if (code !== decoder.BrotliStreamResultCode.NeedsMoreOutput) break;
      }
    },
    flush() {
      stream.free();
      if (!done) throw new Error(`${url} ends before its Brotli stream does`);
    },
  }));
}

// A stream's bytes in one array; its own error if it fails (reading it through a Response would turn any error
// into "Failed to fetch").
async function readAll(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

// The fetch this module found, kept: while Pyodide starts, withPrefetched answers its requests for the WebAssembly and
// the standard library in self.fetch's place, and a download that began before then but asks only now (its cache
// lookup first) must reach the network, not wait on its own answer.
const networkFetch = globalThis.fetch.bind(globalThis);  // (globalThis: tools/snapshot.mjs imports this in Node)

// The snapshot's base: the memory Pyodide's WebAssembly starts with, its data segments (3.2 MB of CPython's static
// data) at their addresses. The snapshot holds that data too, 99.8% of it unchanged, and is packed as its
// difference from the base (tools/snapshot.mjs: each byte XOR the base's; the unchanged ones become zeros, which
// pack to almost nothing: 4.9 -> 3.9 MB). The worker takes the base from the WebAssembly it downloads anyway
// and undoes the difference (xorBase) once the SHA-256 of its data section matches the one the snapshot was made
// with (the page's data-snapshot-base): any other WebAssembly leaves the snapshot unused, never half right. The
// hash is the browser's (crypto.subtle, off this thread); a page that is not a secure context has none, and starts
// without its snapshot. The copy kept for later visits is the snapshot rebuilt, so they need no base.
const BASE_SEGMENTS_LIMIT = 1 << 20;  // data segments: Pyodide 314.0.7 has 14,579

// Resolves to {segments: [[address, Uint8Array]], hash: the SHA-256 of the data section's contents (after its
// id and size), as 64 hex digits, top: the end of the highest segment}. `wasm`: the module's bytes. Rejects a
// module whose data segments are not all active ones at constant addresses in memory 0, or that is cut short.
export async function snapshotBase(wasm) {
  let at = 8;
  const fail = (why) => { throw new Error(`the WebAssembly's data segments cannot be read: ${why}`); };
  const uleb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= wasm.length || shift > 28) fail("a number runs past its end");
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const sleb32 = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      if (at >= wasm.length || shift > 28) fail("an address runs past its end");
      byte = wasm[at++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return shift < 32 && byte & 0x40 ? value | (-1 << shift) : value;
  };
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) fail("not WebAssembly");
  while (at < wasm.length) {
    const id = wasm[at++];
    const size = uleb();
    const end = at + size;
    if (end > wasm.length) fail("a section runs past the end of the file");
    if (id !== 11) {
      at = end;
      continue;
    }
    const contents = wasm.subarray(at, end);
    const count = uleb();
    if (count > BASE_SEGMENTS_LIMIT) fail(`${count} segments`);
    const segments = [];
    let top = 0;
    for (let k = 0; k < count; k++) {
      if (uleb() !== 0 || wasm[at++] !== 0x41) fail("a segment is not at a constant address in memory 0");
      const address = sleb32() >>> 0;
      if (wasm[at++] !== 0x0b) fail("a segment's address is not a constant");
      const length = uleb();
      if (at + length > end) fail("a segment runs past its section");
      segments.push([address, wasm.subarray(at, at + length)]);
      top = Math.max(top, address + length);
      at += length;
    }
    if (!globalThis.crypto || !crypto.subtle) fail("this page has no crypto.subtle to check them with (not a secure context)");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", contents));
    return { segments, hash: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), top };
  }
  return fail("no data section");
}

// The snapshot to and from its difference from the base, in place (XOR both ways). `snapshot`: Pyodide's
// (makeMemorySnapshot: a header whose second 32-bit word is where the memory's copy begins, then that copy).
// `kept`: null, or, for a snapshot just written by `scatter` into a zeroed array, the flags it set for the pages
// it wrote: the others are zeros, so the base is copied into them (natively) instead of XORed a byte at a time
// (of the 884 pages the base spans, 64 are kept). Throws if the base does not fit in it.
export function xorBase(snapshot, base, kept = null) {
  const memory = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength).getUint32(4, true);
  if (memory + base.top > snapshot.length) throw new Error("the snapshot is smaller than its base");
  for (const [address, bytes] of base.segments) {
    for (let from = 0; from < bytes.length;) {  // the segment a page at a time
      const at = memory + address + from;
      const to = Math.min(bytes.length, from + SPARSE_PAGE - (at % SPARSE_PAGE));
      const piece = bytes.subarray(from, to);
      if (kept && !kept[Math.floor(at / SPARSE_PAGE)]) {
        snapshot.set(piece, at);
      } else {
        for (let i = 0; i < piece.length; i++) snapshot[at + i] ^= piece[i];
      }
      from = to;
    }
  }
}

// The snapshot as sent holds only its 4 KiB pages that are not all zeros (55% of them are: the heap's free and
// untouched memory, and the base's data once it is a difference from the base), so that less is unpacked (14 of
// its 30 MiB) and copied: the header (little-endian 32-bit words: "LLMS", the page size, the snapshot's length,
// the number of pages kept), each kept page's index, ascending, then those pages. `sparse` makes it (tools/
// snapshot.mjs); `scatter` writes one into a zeroed array of the snapshot's length. Throws on a header that does
// not fit its bytes or the array.
const SPARSE_MAGIC = 0x534d4c4c;  // "LLMS"
const SPARSE_PAGE = 4096;

export function sparse(bytes) {
  const pages = Math.ceil(bytes.length / SPARSE_PAGE);
  const kept = [];
  let size = 0;
  for (let page = 0; page < pages; page++) {
    const end = Math.min(bytes.length, (page + 1) * SPARSE_PAGE);
    for (let i = page * SPARSE_PAGE; i < end; i++) {
      if (bytes[i]) {
        kept.push(page);
        size += end - page * SPARSE_PAGE;
        break;
      }
    }
  }
  const out = new Uint8Array(16 + 4 * kept.length + size);
  const view = new DataView(out.buffer);
  [SPARSE_MAGIC, SPARSE_PAGE, bytes.length, kept.length].forEach((word, k) => view.setUint32(4 * k, word, true));
  let at = 16 + 4 * kept.length;
  kept.forEach((page, k) => {
    view.setUint32(16 + 4 * k, page, true);
    const from = bytes.subarray(page * SPARSE_PAGE, Math.min(bytes.length, (page + 1) * SPARSE_PAGE));
    out.set(from, at);
    at += from.length;
  });
  return out;
}

// `into`: a zeroed array, or null for a new one of the length the header names. `kept`: null, or an array of a
// flag per page, set for each page written (xorBase). Returns the array.
export function scatter(packed, into = null, kept = null) {
  const fail = (why) => { throw new Error(`the snapshot cannot be read: ${why}`); };
  if (packed.length < 16) fail("it is shorter than its header");
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const [magic, page, length, count] = [0, 4, 8, 12].map((at) => view.getUint32(at, true));
  if (magic !== SPARSE_MAGIC || page !== SPARSE_PAGE) fail("it is not in pages");
  if (into && length !== into.length) fail(`it unpacks to ${length} bytes, not the ${into.length} the page expects`);
  if (length > UNPACKED_LIMIT) fail(`it unpacks to ${length} bytes, more than ${UNPACKED_LIMIT}`);
  const pages = Math.ceil(length / SPARSE_PAGE);
  if (count > pages || 16 + 4 * count > packed.length) fail(`${count} pages do not fit`);
  const out = into || new Uint8Array(length);
  let at = 16 + 4 * count;
  let last = -1;
  for (let k = 0; k < count; k++) {
    const index = view.getUint32(16 + 4 * k, true);
    if (index <= last || index >= pages) fail(`page ${index} is out of order or past the end`);
    last = index;
    const size = Math.min(length, (index + 1) * SPARSE_PAGE) - index * SPARSE_PAGE;
    if (at + size > packed.length) fail("its pages run past its end");
    out.set(packed.subarray(at, at + size), index * SPARSE_PAGE);
    if (kept) kept[index] = 1;
    at += size;
  }
  if (at !== packed.length) fail(`${packed.length - at} bytes follow its last page`);
  return out;
}

// A packed file unpacked: {bytes: Uint8Array, copy: true} read back from an earlier visit's copy (unpackedCopy),
// or downloaded and unpacked, {bytes, handed: Promise (the packed file's copy for the service worker written)}.
// `decoder()` gives the decoder, loaded once (not at all when the copy is there).
async function obtain(url, decoder) {
  const copy = await unpackedCopy(url);
  if (copy) return { bytes: copy, copy: true };
  const response = await networkFetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const [body, handed] = handOver(url, response.body);
  const bytes = await readAll(unpack(await decoder(), body, response.headers.get("Content-Encoding"), url));
  return { bytes, handed };
}

// `unpacked`'s way to obtain a file, on this thread.
function unpackHere(decoder) {
  return (url) => obtain(url, decoder);
}

// The decoder, loaded once: brotli-dec-wasm's module from its URL (or the single-file page's import map).
function brotliDecoder(url, module = null) {
  let loading = null;
  return () => loading || (loading = (module ? Promise.resolve(module) : import(url))
    .then((m) => m.default({ module_or_path: new URL("brotli_dec_wasm_bg.wasm", url) }).then(() => m)));
}

// The unpacking runs in a second worker, this module again under the name UNPACKER: unpacking the snapshot
// (its 13.6 MiB of pages from 3.9 MB) takes a few hundred milliseconds of one core, reading back its unpacked copy at a later
// visit a few tens to a hundred, and on this thread the runtime's import and Pyodide's start would wait behind
// either. Returns `unpacked`'s way to obtain a file, like unpackHere's: the helper worker starts on the first call
// and ends once its files are handed over; where it cannot start (no nested workers) or its module fails to
// load, the files are obtained here.
const UNPACKER = "llm-memory-unpack";

function offThread(brotliURL) {
  let helper = null;
  const waiting = new Map();  // url -> {resolve, reject, delivered, handed (resolves written)}
  const inThread = unpackHere(brotliDecoder(brotliURL));
  function finish(url) {
    waiting.delete(url);
    if (!waiting.size && helper) {
      helper.terminate();
      helper = null;
    }
  }
  function start() {
    const worker = new Worker(import.meta.url, { type: "module", name: UNPACKER });
    worker.onmessage = ({ data }) => {
      const job = waiting.get(data.url);
      if (!job) return;
      if (data.error !== undefined) {
        job.reject(new Error(data.error));
        finish(data.url);
      } else if (data.handed) {
        job.handed();
        finish(data.url);
      } else {
        job.delivered = true;
        job.resolve(data.copy ? { bytes: data.bytes, copy: true } : { bytes: data.bytes, handed: job.written });
        if (data.copy) finish(data.url);
      }
    };
    worker.onerror = (event) => {  // its module did not load: what it was asked for is unpacked here
      event.preventDefault();
      console.warn("Unpacking on this thread:", event.message || "the unpacking worker did not start");
      worker.terminate();
      if (helper === worker) helper = null;
      for (const [url, job] of waiting) {
        waiting.delete(url);
        if (job.delivered) job.handed();  // its bytes came; its copy for the service worker may be missing
        else inThread(url).then(job.resolve, job.reject);
      }
    };
    return worker;
  }
  return (url) => {
    if (typeof Worker === "undefined") return inThread(url);
    try {
      helper = helper || start();
    } catch (refused) {
      return inThread(url);
    }
    return new Promise((resolve, reject) => {
      let handed = null;
      const written = new Promise((done) => { handed = done; });
      waiting.set(url, { resolve, reject, delivered: false, handed, written });
      helper.postMessage({ url, brotli: brotliURL });
    });
  };
}

// The helper worker's side: each {url, brotli} asked for is answered with {url, bytes, copy} (the array's memory
// transferred, not copied), then, for a file downloaded, {url, handed: true}; or {url, error}.
function serveUnpacking() {
  let decoder = null;
  self.onmessage = ({ data }) => {
    decoder = decoder || brotliDecoder(data.brotli);
    obtain(data.url, decoder).then(({ bytes, copy, handed }) => {
      self.postMessage({ url: data.url, bytes, copy: Boolean(copy) }, [bytes.buffer]);
      return copy || handed.then(() => self.postMessage({ url: data.url, handed: true }));
    }).catch((error) => self.postMessage({ url: data.url, error: String(error && error.message || error) }));
  };
}

// One packed file, unpacked: {bytes: Promise<Uint8Array>, handed: Promise (the copies for the service worker
// written), keep() (write the unpacked copy: called once the page shows Python's first answer, {t: "keep"}, so
// that writing it does not take the processor from the start)}. `source(url)` gives what `obtain` does, here or
// in the helper worker (unpackHere, offThread); `prepare(bytes)` (or a promise of it) makes a downloaded file what
// the start uses and the copy keeps (the snapshot: rebuilt from its base), so a later visit's copy needs nothing.
function unpacked(url, source, prepare = (bytes) => bytes) {
  let keep = () => {};
  const kept = new Promise((resolve) => { keep = resolve; });
  const got = source(url).then(({ bytes, copy, handed }) => (copy ? { bytes, handed: Promise.resolve() }
    : Promise.resolve(prepare(bytes)).then((done) => ({
      bytes: done,
      handed: Promise.all([handed, kept.then(() => storage() && handOff(url)
        .then((cache) => cache.put(url + UNPACKED, new Response(done))))]),
    }))));
  return { bytes: got.then((g) => g.bytes), handed: got.then((g) => g.handed).catch(() => {}), keep };
}

// The Hub's range reads (app.py's HubReader) go through the page: fetch(url, init) here answers with a
// Response-like object whose body the page reads chunk by chunk, and an abort of init.signal reaches it. (The
// page's own fetch is what browser automation can stand in for: tests/e2e/test_hub_page.py routes the Hub's
// hosts to a local stand-in, and Chromium's automation does not see a worker's requests.)
let fetchId = 0;
const fetches = new Map();  // id -> {resolve, reject} of the answer awaited

function ask(post, message) {
  return new Promise((resolve, reject) => {
    fetches.set(message.id, { resolve, reject });
    post(message);
  });
}

function answered(message) {
  const waiting = fetches.get(message.id);
  if (!waiting) return;
  fetches.delete(message.id);
  if (message.error) waiting.reject(new TypeError(message.error));
  else waiting.resolve(message);
}

function pageFetch(post, url, init) {
  const id = ++fetchId;
  const signal = init && init.signal;
  if (signal) signal.addEventListener("abort", () => post({ hub: "abort", id }));
  const headers = {};
  if (init && init.headers) for (const [k, v] of Object.entries(init.headers)) headers[k] = v;
  return ask(post, { hub: "fetch", id, url: String(url), headers }).then((head) => ({
    status: head.status,
    headers: { get: (name) => (name.toLowerCase() === "content-range" ? head.contentRange : null) },
    body: {
      getReader: () => ({
        read: () => ask(post, { hub: "read", id: ++fetchId, of: id }).then((m) => ({ done: m.done, value: m.value })),
        cancel: () => post({ hub: "cancel", id }),
      }),
    },
  }));
}

function now() {
  return performance.timeOrigin + performance.now();  // the page turns it into a mark on its own timeline
}

export function startPython(post, runtime = null) {
  let receive = null;
  let queued = [];
  let timer = null;
  const marks = [];

  function call(events, files) {
    try {
      receive(JSON.stringify(events), files);
    } catch (error) {
      console.error("The page's Python failed:", error);
    }
  }

  function drain() {
    timer = null;
    const batch = queued;
    queued = [];
    let plain = [];
    for (const event of batch) {  // inputs and clicks in one call; a file choice with its files
      if (event.t !== "files") {
        plain.push(event);
        continue;
      }
      if (plain.length) call(plain, null);
      plain = [];
      call([{ t: "files", id: event.id }], event.files);
    }
    if (plain.length) call(plain, null);
  }

  // Everything the start needs is asked for at once, so the downloads, the snapshot's unpacking, the WebAssembly
  // compile (on the engine's own threads) and the runtime's JavaScript overlap: Pyodide asks for them one after
  // another (the WebAssembly is compiled only once the snapshot is unpacked).
  function prefetch(urls) {
    marks.push(["py:load", now()]);  // bench/page.py reports the start-up phases between these marks
    const wasm = urls.pyodide + "pyodide.asm.wasm";
    const mark = (name) => (value) => { marks.push([name, now()]); return value; };
    // a failure is met where the start awaits it (load: the start without the snapshot), maybe later than it happens
    const later = (promise) => { promise.catch(() => {}); return promise; };
    // the single-file page (runtime given) runs on the main thread, its files inlined: unpacked there
    const source = runtime ? unpackHere(brotliDecoder(urls.brotli, runtime.brotli)) : offThread(urls.brotli);
    // the WebAssembly, read by the compile and for the snapshot's base;
    // asked for packed (pyodide.asm.wasm.br, which the browser unpacks on the way: netlify.toml, build.py
    // PACKED_IN_TRANSIT; so is the runtime's JavaScript below), or where the
    // single-file page has it inlined, or the packed copy is refused or not sent as WebAssembly, as it is
    const asPacked = runtime ? Promise.reject(new Error("inlined")) : fetch(wasm + ".br").then((response) => {
      const type = response.headers.get("Content-Type") || "";
      if (!response.ok || !type.startsWith("application/wasm")) throw new Error(`HTTP ${response.status}, ${type}`);
      return response;
    });
    const wasmResponses = asPacked.catch((error) => {
      if (!runtime) console.warn("Pyodide's WebAssembly is fetched unpacked:", error);
      return fetch(wasm);
    }).then((response) => [response, response.clone()]);
    // Pyodide sizes its memory by the snapshot's length (pyodide.mjs, prepareSnapshot) before it instantiates its
    // WebAssembly, links it and installs the standard library, and copies the snapshot in only once its module is
    // ready (bootstrapPyodide, restoreSnapshot), which waits for the standard library's installation (the run
    // dependency "install-stdlib"). The length known ahead (the page's data-snapshot-bytes, build.py), Pyodide gets
    // an array of that length at once, filled when the snapshot is unpacked and rebuilt, and its request for the
    // standard library is answered only then: the linking runs while the snapshot still downloads and unpacks. An
    // array left empty (the snapshot failed) fails restoreSnapshot's check of its magic number: the start goes the
    // normal way (load), with the snapshot's own error.
    const holder = urls.snapshotBytes > 0 ? new Uint8Array(urls.snapshotBytes) : null;  // null: a page without it
    // the base, read from the WebAssembly's second copy (its hash taken off this thread); on a first visit (no
    // unpacked copy of the snapshot kept) as soon as the WebAssembly arrives, so that it is there when the snapshot is
    let base = null;
    const readBase = () => base || (base = later(wasmResponses.then(([, copy]) => copy.arrayBuffer())
      .then((buffer) => snapshotBase(new Uint8Array(buffer)))));
    unpackedCopy(urls.snapshot, false).then((held) => held || readBase());
    // the snapshot downloaded: its pages written into that array, and its difference from the base undone there
    const rebuild = (got) => {
      const kept = [];
      const whole = scatter(got, holder, kept);
      return readBase().then((from) => {
        if (from.hash !== urls.snapshotBase) {
          throw new Error(`${wasm} is not the snapshot's base (its data hashes to ${from.hash}, not ${urls.snapshotBase})`);
        }
        xorBase(whole, from, kept);
        return whole;
      });
    };
    const snapshot = unpacked(urls.snapshot, source, rebuild);
    const stdlib = unpacked(urls.stdlib, source);
    const bytes = later(snapshot.bytes.then(mark("py:snapshot")));
    // a later visit's copy is rebuilt already: the WebAssembly's second reading is dropped unread
    bytes.catch(() => {}).then(() => base || wasmResponses.then(([, copy]) => copy.body.cancel())).catch(() => {});
    // a later visit's copy (the snapshot whole, rebuilt) is copied into the array; a download was written there
    const filled = later(bytes.then((got) => {
      if (!holder || got === holder) return got;
      if (got.length !== holder.length) {
        throw new Error(`${urls.snapshot} unpacks to ${got.length} bytes, not the ${holder.length} the page expects`);
      }
      holder.set(got);
      return holder;
    }, (error) => {
      // a download written into the array only in part (a page past its end, a base that does not match): no
      // snapshot at all, so that restoreSnapshot's check of its magic number fails on it, as on an array left empty
      if (holder) holder.fill(0);
      throw error;
    }));
    return {
      wasm,
      stdlibURL: urls.stdlib,
      stdlib: later(stdlib.bytes),
      snapshot: holder ? Promise.resolve(holder) : filled,  // a page without the length: once it is there
      filled,
      snapshotError: filled.then(() => null, (error) => error),
      handed: Promise.all([snapshot.handed, stdlib.handed]),
      keep: () => { snapshot.keep(); stdlib.keep(); },
      compiled: (WebAssembly.compileStreaming ? WebAssembly.compileStreaming(wasmResponses.then(([response]) => response))
        : Promise.reject(new Error("no streaming compile"))).then(mark("py:compiled"), (error) => {
        console.warn("Compiling Python's WebAssembly ahead failed:", error);
        return null;
      }),
      runtime: later((runtime ? Promise.resolve(runtime)
        : Promise.all([import(urls.pyodide + "pyodide.mjs"), import(urls.pyodide + "pyodide.asm.mjs.br").catch((error) => {
          console.warn("Pyodide's JavaScript is fetched unpacked:", error);  // as the WebAssembly above
          return import(urls.pyodide + "pyodide.asm.mjs");
        })])
          .then(([mjs, asm]) => ({ loadPyodide: mjs.loadPyodide, createPyodideModule: asm.default })))
        .then(mark("py:runtime"))),
    };
  }

  // Pyodide fetches its WebAssembly and instantiates it with instantiateStreaming(that response), and fetches
  // its standard library. While it starts, what was fetched ahead stands in: its request for the WebAssembly is
  // answered with a placeholder and the instance made from the module compiled ahead (or, if that compile failed,
  // from a download of its own); its request for the standard library is answered with the copy unpacked here,
  // once the snapshot is in the array Pyodide was given (prefetch), or has failed.
  async function withPrefetched(started, start) {
    const [streaming, fetch_] = [WebAssembly.instantiateStreaming, self.fetch];
    const placeholder = new Response(new Uint8Array(0), { headers: { "Content-Type": "application/wasm" } });
    self.fetch = (input, init) => {
      const url = String(input && input.url || input);
      if (url === started.wasm) return Promise.resolve(placeholder);
      if (url === started.stdlibURL) {
        return Promise.all([started.stdlib, started.filled.catch(() => {})]).then(([bytes]) => new Response(bytes));
      }
      return fetch_.call(self, input, init);
    };
    WebAssembly.instantiateStreaming = async (source, imports) => {
      const response = await source;
      if (response !== placeholder) return streaming.call(WebAssembly, response, imports);  // not Pyodide's
      const module = await started.compiled;
      if (!module) return streaming.call(WebAssembly, fetch_.call(self, started.wasm), imports);
      return { module, instance: await WebAssembly.instantiate(module, imports) };
    };
    try {
      return await start();
    } finally {
      WebAssembly.instantiateStreaming = streaming;
      self.fetch = fetch_;
    }
  }

  async function load(init, started) {
    const { loadPyodide, createPyodideModule } = await started.runtime;
    // the lock file's header inline (build.py): the page loads no package, and it saves a request
    const options = { indexURL: init.pyodide, lockFileContents: init.lock, createPyodideModule };
    try {
      // stdlib.zip.br: the standard library less the modules the snapshot holds (tools/trim_stdlib.py, snapshot.mjs).
      return await withPrefetched(started, () => loadPyodide({ ...options, stdLibURL: init.stdlib,
                                                            _loadSnapshot: started.snapshot }));
    } catch (error) {  // a normal start: the whole python_stdlib.zip and pycore.zip (not kept by the service worker)
      console.warn("Starting Python without its snapshot:", (await started.snapshotError) || error);
      const pyodide = await loadPyodide(options);
      const zip = await fetch(init.pycore);
      pyodide.unpackArchive(await zip.arrayBuffer(), "zip", { extractDir: "/home/pyodide" });
      pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide')");
      return pyodide;
    }
  }

  let started = null;  // the downloads under way (prefetch), from the first message
  async function boot(init) {
    try {
      const pyodide = await load(init, started || (started = prefetch(init)));
      started = { handed: started.handed, keep: started.keep };  // the snapshot (30 MiB) is in Pyodide's memory now
      marks.push(["py:loaded", now()]);
      post(JSON.stringify({ marks }));
      const inputs = queued.filter((event) => event.t === "input" || event.t === "change");
      queued = queued.filter((event) => !(event.t === "input" || event.t === "change"));
      receive = pyodide.pyimport("app").main(post, JSON.stringify(init), JSON.stringify(inputs));
      if (queued.length) drain();
      started.handed.then(() => post(JSON.stringify({ handed: true })));
    } catch (error) {
      console.error("Python could not start:", error);
      post(JSON.stringify({ failed: String(error && error.message || error) }));
    }
  }

  if (!runtime) self.llmPageFetch = (url, init) => pageFetch(post, url, init);

  return {
    send(message) {
      if (message.t === "fetched") {
        answered(message);
        return;
      }
      if (message.t === "start") {  // the runtime's URLs: the downloads begin (the form may still be parsing)
        if (!started) started = prefetch(message);
        return;
      }
      if (message.t === "keep") {  // the page shows Python's first answer: the unpacked copies may be written now
        if (started && started.keep) started.keep();
        return;
      }
      if (message.t === "init") {  // the page parsed: its form and address
        boot(message);
        return;
      }
      queued.push(message);
      if (receive && timer === null) timer = setTimeout(drain, 0);
    },
  };
}

if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  if (self.name === UNPACKER) {
    serveUnpacking();
  } else {
    const python = startPython((text) => self.postMessage(text));
    self.onmessage = (event) => python.send(event.data);
  }
}
