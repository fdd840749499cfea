// Service worker: keeps this build's files so the calculator works offline and starts from disk.
// build.py fills in the version and the file list; a new build installs a new cache and drops the old.
const CACHE = "llm-memory-__VERSION__";
const FILES = __FILES__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("llm-memory-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: the network when it answers (a new build shows at once), this build's copy when offline.
    event.respondWith(fetch(request).catch(() =>
      caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true }))
        .then((hit) => hit || caches.match("./", { ignoreSearch: true }))));
    return;
  }
  // Everything else is versioned by its path: the cached copy is always right.
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(request)).then((hit) => hit || fetch(request)));
});
