// Service worker: keeps this build's files so the calculator works offline and starts from disk, and
// fetches each byte once. It is registered once the page is live, which then asks it to fill its cache
// ("fill"): the snapshot from the copy the page handed over, the rest from the browser's HTTP cache when it
// holds a copy, from the network only when it does not. Nothing is precached at install: that would
// download everything a second time. Later visits' files pass through it and are kept as they go by.
// build.py fills in the version and FILES, the files the pages use (tests/e2e/test_offline.py checks the
// list against what the pages request); a new build is a new cache and drops the old.
const CACHE = "llm-memory-__VERSION__";
const FILES = __FILES__;
const HANDOFF = "handoff-llm-memory";  // see templates/static/worker.js
const UNPACKED = ".unpacked";  // a packed file's unpacked copy, under its URL + this (worker.js)
const KEEP = new Set(FILES.map((f) => new URL(f, self.registration.scope).href));

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("llm-memory-") && k !== CACHE).map((k) => caches.delete(k))))
    // a page's request leaves while this worker starts (navigation preload), not once it has started
    .then(() => self.registration.navigationPreload && self.registration.navigationPreload.enable())
    .then(() => self.clients.claim()));
});

function keep(request, response) {
  // Only this build's own files, whole (a 206 or an opaque answer is not a copy of the file).
  if (response.status === 200 && response.type === "basic" && KEEP.has(request.url.split("?")[0].split("#")[0])) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request.url.split("?")[0], copy)).catch(() => {});
  }
  return response;
}

async function fill() {
  // The files the page did not fetch through this worker (those it fetched before the worker took control,
  // the other page): from the HTTP cache when it has them ("force-cache" takes any stored copy without
  // asking the server), else from the network, once.
  // The page's worker hands over the copy of the snapshot it downloaded (worker.js, HANDOFF).
  const cache = await caches.open(CACHE);
  const handed = await caches.open(HANDOFF);
  for (const url of KEEP) {
    if (await cache.match(url)) continue;
    try {
      const response = (await handed.match(url)) || await fetch(url, { cache: "force-cache" });
      if (response.ok) await cache.put(url, response);
    } catch (offline) { /* the next visit tries again */ }
  }
  // and the packed files unpacked (the snapshot, the standard library), which later visits read instead of
  // unpacking them again (worker.js)
  for (const copy of await handed.keys()) {
    const url = copy.url.slice(0, -UNPACKED.length);
    if (copy.url.endsWith(UNPACKED) && KEEP.has(url)) await cache.put(copy.url, await handed.match(copy));
  }
  await caches.delete(HANDOFF);
  return (await cache.keys()).length;
}

self.addEventListener("message", (event) => {
  if (event.data === "fill") {
    event.waitUntil(fill().then((count) => event.source && event.source.postMessage({ type: "llm-memory:cached", count })));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: the network when it answers (a new build shows at once), this build's copy when offline.
    const network = Promise.resolve(event.preloadResponse).then((preloaded) => preloaded || fetch(request));
    event.respondWith(network.then((response) => keep(request, response)).catch(() =>
      caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true }))
        .then((hit) => hit || caches.match("./", { ignoreSearch: true }))));
    return;
  }
  if (request.headers.has("range")) return;  // partial reads (a model file) go to the network as asked
  // Everything else is versioned by its path: the cached copy is always right.
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true }))
    .then((hit) => hit || fetch(request).then((response) => keep(request, response))));
});
