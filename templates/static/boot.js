// Runs before PyScript: shows how long Python has been starting, keeps the form from submitting,
// and reports a runtime that failed to start instead of spinning forever.
(function () {
  "use strict";

  // PyScript's storage (@webreflection/idb-map) opens IndexedDB before Python starts and waits for it.
  // A browser that refuses a third-party frame IndexedDB (blocked third-party storage, "block all site
  // data", Playwright's default contexts) makes that open fail; idb-map then rejects with an Event that
  // nothing reports, and the page would wait forever. On refusal, hand back a small in-memory store
  // with the calls idb-map makes. When IndexedDB works, nothing changes.
  function request(result) {  // an IDBRequest-like object that succeeds with result() on the next tick
    var req = {};
    setTimeout(function () { if (req.onsuccess) req.onsuccess({ target: { result: result() } }); }, 0);
    return req;
  }
  function memoryDatabase() {
    var data = new Map();
    var store = {
      count: function () { return request(function () { return data.size; }); },
      clear: function () { return request(function () { data.clear(); }); },
      delete: function (k) { return request(function () { data.delete(k); }); },
      get: function (k) { return request(function () { return data.get(k); }); },
      getKey: function (k) { return request(function () { return data.has(k) ? k : undefined; }); },
      getAllKeys: function () { return request(function () { return Array.from(data.keys()); }); },
      put: function (v, k) { return request(function () { data.set(k, v); return k; }); }
    };
    return {
      objectStoreNames: ["entries"],
      transaction: function () { return { objectStore: function () { return store; } }; },
      close: function () {}
    };
  }
  function memoryOpen() {
    return request(memoryDatabase);
  }
  function guardedOpen(realOpen, factory) {
    return function () {
      var args = arguments;
      var outer = {};
      var real;
      try { real = realOpen.apply(factory || this, args); } catch (refused) { return memoryOpen(); }
      real.onupgradeneeded = function (event) { if (outer.onupgradeneeded) outer.onupgradeneeded(event); };
      real.onsuccess = function (event) { if (outer.onsuccess) outer.onsuccess(event); };
      real.onerror = function (event) {
        event.preventDefault();
        if (outer.onsuccess) outer.onsuccess({ target: { result: memoryDatabase() } });
      };
      return outer;
    };
  }
  var factory = null;
  try { factory = window.indexedDB; } catch (refused) { factory = null; }
  if (factory && window.IDBFactory) {
    IDBFactory.prototype.open = guardedOpen(IDBFactory.prototype.open);
  } else {
    try {
      Object.defineProperty(window, "indexedDB", { configurable: true, value: { open: memoryOpen } });
    } catch (ignored) { /* nothing more can be done; PyScript will report the failure */ }
  }
  var started = Date.now();
  window.llmRecalcMs = [];  // recalculation times measured inside the page (bench/page.py reads them)
  var root = document.documentElement;
  function status(text) {
    var el = document.getElementById("py-status-text");
    if (el) el.textContent = text;
  }
  var timer = setInterval(function () {
    if (root.dataset.py !== "loading") {
      clearInterval(timer);
      if (root.dataset.py === "ready") fillWorkerCache();
      return;
    }
    var s = ((Date.now() - started) / 1000).toFixed(1);
    status("Result computed in advance; starting Python for live inputs… " + s + " s");
    if (Date.now() - started > 60000) {
      clearInterval(timer);
      root.dataset.py = "failed";
      status("Python did not start. The figures shown are for the default scenario; reload to try again.");
    }
  }, 200);
  document.addEventListener("submit", function (event) { event.preventDefault(); }, true);

  // Once the pre-rendered result is painted (first contentful paint), start every runtime download.
  var preloaded = false;
  function preload() {
    var preloads = document.getElementById("preloads");
    if (preloaded || !preloads) return;
    preloaded = true;
    document.head.appendChild(preloads.content.cloneNode(true));
  }
  if (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes &&
      PerformanceObserver.supportedEntryTypes.indexOf("paint") >= 0) {
    new PerformanceObserver(function (list) {
      if (list.getEntriesByName("first-contentful-paint").length) preload();
    }).observe({ type: "paint", buffered: true });
  }
  setTimeout(preload, 1000);  // a page painted in the background still gets them

  // Keep the site for offline use (sw.js sits at the site root, next to the pages). The worker is registered
  // once the page is live (a worker taking control mid-start would send the page's own fetches past the
  // preloads it already made) and asked to fill its cache: from the copy of the snapshot the page handed
  // over and from the HTTP cache, so that no file is downloaded twice.
  var worker = null;
  function registerWorker() {
    if (worker || !("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return;
    worker = navigator.serviceWorker.register("sw.js").catch(function () { return null; /* e.g. a third-party frame: run online */ });
  }
  function fillWorkerCache() {
    registerWorker();
    if (!worker) return;
    worker.then(function (registration) {
      if (!registration) return;
      return navigator.serviceWorker.ready.then(function (ready) { if (ready.active) ready.active.postMessage("fill"); });
    }).catch(function () {});
  }

  // The embed tells the page hosting it how tall it is, so the host can size its iframe.
  if (root.dataset.page === "embed" && window.parent !== window) {
    var lastHeight = 0;
    var post = function () {
      var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (height !== lastHeight) {
        lastHeight = height;
        window.parent.postMessage({ type: "llm-memory:height", height: height }, "*");
      }
    };
    document.addEventListener("DOMContentLoaded", function () {
      post();
      if (window.ResizeObserver) new ResizeObserver(post).observe(document.documentElement);
    });
  }
  window.addEventListener("error", function (event) {
    if (root.dataset.py === "loading" && event && event.message && /pyodide|pyscript/i.test(event.message)) {
      root.dataset.py = "failed";
      status("Python could not start (" + event.message + "). The figures shown are for the default scenario.");
    }
  });
})();
