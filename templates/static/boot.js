// The page's main thread: starts the page's Python in a Web Worker (worker.js), forwards the form's events to it
// (field id + value), and applies the updates it sends back (see app.py) in animation frames, a few milliseconds of
// work in each. It computes nothing; it builds elements with createElement and textContent only, and parses charts
// as SVG (XML).
// Also: the start-up status line, the service worker that keeps the site offline, the embed's height.
(function () {
  "use strict";

  var root = document.documentElement;
  var started = Date.now();
  window.llmRecalcMs = [];  // recalculation times measured in the worker (bench/page.py can read them)

  function byId(id) { return document.getElementById(id); }
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function status(text) {
    var el = byId("py-status-text");
    if (el) el.textContent = text;
  }

  // ------------------------------------------------------------------ the channel to Python
  var channel = null;  // {send(message)}
  var waiting = [];  // events before the channel exists
  var seq = 0;
  var lastEdit = {};  // field id or group name -> seq of the user's last input there
  var link = null;  // the current scenario's query, as app.py computes it (Copy link)

  function send(message) {
    if (channel) channel.send(message);
    else waiting.push(message);
  }

  function formSnapshot() {
    var form = { values: {}, checked: {}, radios: {}, boxes: {}, bad: [] };
    all("input[id], select[id], textarea[id]").forEach(function (el) {
      if (el.type === "file") return;
      form.values[el.id] = String(el.value);
      if (el.type === "checkbox" || el.type === "radio") form.checked[el.id] = el.checked;
      if (el.validity && el.validity.badInput) form.bad.push(el.id);
    });
    all("input[type=radio][name]").forEach(function (el) {
      if (!(el.name in form.radios)) form.radios[el.name] = "";
      if (el.checked) form.radios[el.name] = el.value;
    });
    all("input[type=checkbox][name]:not([id])").forEach(function (el) {
      form.boxes[el.name] = checkedValues(el.name);
    });
    return form;
  }

  function checkedValues(name) {
    return all('input[type=checkbox][name="' + name + '"]:checked').map(function (el) { return el.value; });
  }

  function urls() {
    var base = document.baseURI;
    return {
      pyodide: new URL(root.dataset.pyodide, base).href, snapshot: new URL(root.dataset.snapshot, base).href,
      pycore: new URL(root.dataset.pycore, base).href, stdlib: new URL(root.dataset.stdlib, base).href,
      brotli: new URL(root.dataset.brotli, base).href, snapshotBytes: Number(root.dataset.snapshotBytes) || 0,
      snapshotBase: root.dataset.snapshotBase || ""
    };
  }

  function connect(ch) {
    function go() {
      var init = urls();
      init.t = "init";
      init.page = root.dataset.page || "";
      init.href = location.href;
      init.search = location.search;
      init.form = formSnapshot();
      init.hubTimeoutMs = window.llmHubTimeoutMs || 0;
      init.lock = root.dataset.lock;
      ch.send(init);
      channel = ch;
      waiting.splice(0).forEach(send);
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
    else go();
  }
  window.llmConnect = connect;  // offline.html runs Python on this thread and connects itself,
  window.llmReceive = function (text) { receive(text); };  // and hands its updates here

  // The worker starts once the pre-rendered result is painted (first contentful paint), so that its start does
  // not compete with the first paint for the processor, and starts its downloads at once ("start"): they and the
  // WebAssembly compile run on other threads. A page painted in the background starts it after a second.
  var workerStarted = false;
  function startWorker() {
    if (workerStarted || root.dataset.page === "offline") return;
    workerStarted = true;
    try {
      var worker = new Worker(root.dataset.worker, { type: "module" });
      worker.onmessage = function (event) {
        if (typeof event.data === "string") receive(event.data);
        else hubFetch(event.data, function (m) { worker.postMessage(m); });
      };
      worker.onerror = function (event) { fail(event.message || "the worker did not start"); };
      var start = urls();
      start.t = "start";
      worker.postMessage(start);
      connect({ send: function (m) { worker.postMessage(m); } });
    } catch (error) {
      fail(String(error));
    }
  }
  if (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes &&
      PerformanceObserver.supportedEntryTypes.indexOf("paint") >= 0) {
    new PerformanceObserver(function (list) {
      if (list.getEntriesByName("first-contentful-paint").length) startWorker();
    }).observe({ type: "paint", buffered: true });
  }
  setTimeout(startWorker, 1000);

  // The Hub's range reads, asked for by the worker (worker.js pageFetch): fetched here, the body read a chunk at
  // a time as the worker asks, so its limits (bytes, time) hold and an abort reaches the request.
  var reads = {};  // id -> {controller, reader}
  function hubFetch(m, reply) {
    if (m.hub === "fetch") {
      var controller = new AbortController();
      reads[m.id] = { controller: controller, reader: null };
      fetch(m.url, { headers: m.headers, signal: controller.signal, credentials: "omit", referrerPolicy: "no-referrer" })
        .then(function (response) {
          reads[m.id].reader = response.body.getReader();
          reply({ t: "fetched", id: m.id, status: response.status, contentRange: response.headers.get("Content-Range") });
        }, function (error) { reply({ t: "fetched", id: m.id, error: String(error) }); });
    } else if (m.hub === "read") {
      var entry = reads[m.of];
      if (!entry || !entry.reader) { reply({ t: "fetched", id: m.id, error: "no such read" }); return; }
      entry.reader.read().then(function (chunk) {
        if (chunk.done) delete reads[m.of];
        reply({ t: "fetched", id: m.id, done: chunk.done, value: chunk.value || null });
      }, function (error) { delete reads[m.of]; reply({ t: "fetched", id: m.id, error: String(error) }); });
    } else if (m.hub === "abort" && reads[m.id]) {
      reads[m.id].controller.abort();
    } else if (m.hub === "cancel" && reads[m.id]) {
      if (reads[m.id].reader) reads[m.id].reader.cancel().catch(function () {});
      delete reads[m.id];
    }
  }

  function fail(message) {
    if (root.dataset.py !== "loading") return;
    root.dataset.py = "failed";
    status("Python could not start (" + message + "). The figures shown are for the default scenario.");
  }

  // ------------------------------------------------------------------ events out
  function onInput(event) {
    var t = event.target;
    if (!t || !("value" in t) || (!t.id && !t.name)) return;
    if (t.id === "model-search") { filterModels(String(t.value)); return; }
    if (t.type === "file") {
      if (event.type === "change" && t.files && t.files.length) send({ t: "files", id: t.id, files: Array.prototype.slice.call(t.files) });
      return;
    }
    var message = { t: event.type, seq: ++seq, id: t.id || "", name: t.name || "", type: t.type || "", value: String(t.value) };
    if (t.type === "checkbox" || t.type === "radio") message.checked = t.checked;
    if (t.type === "checkbox" && t.name && !t.id) message.group = checkedValues(t.name);
    if (t.validity && t.validity.badInput) message.bad = true;
    lastEdit[t.id || t.name] = seq;
    if (t.name) lastEdit["name:" + t.name] = seq;
    root.dataset.busy = "";  // until this input's update is on the page (tests wait for it to go)
    send(message);
  }
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);
  document.addEventListener("submit", function (event) { event.preventDefault(); }, true);
  window.addEventListener("popstate", function () { dropHistory(); send({ t: "popstate", search: location.search }); });
  window.addEventListener("beforeprint", function () { all("details").forEach(function (d) { d.open = true; }); });

  var BUTTONS = ["export-json", "export-md", "embed-code", "use-config", "hub-load", "hwfirst-run"];
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[id]") : null;
    if (!button) return;
    if (button.id === "copy-link") {
      copy(location.origin + location.pathname + (link || location.search), "action-status", "Link copied.",
           "Could not reach the clipboard: the link is in the address bar.");
    } else if (button.id === "copy-log") {
      copy(byId("engine-log").textContent, "log-status", "Log lines copied.",
           "Could not reach the clipboard: select the lines and copy them.");
    } else if (BUTTONS.indexOf(button.id) >= 0) {
      send({ t: "click", id: button.id });
    }
  });

  function copy(text, statusId, copied, refused) {
    function say(t) { byId(statusId).textContent = t; }
    try {
      navigator.clipboard.writeText(text).then(function () { say(copied); }, function () { say(refused); });
    } catch (noClipboard) {  // no clipboard API (not a secure context)
      say(refused);
    }
  }

  // The model list filtered by the search's words (a model's name, id, family and kind: moe, hybrid, mla...); the
  // hint under the search says how many match.
  function filterModels(query) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    all("#model option").forEach(function (option) {
      var text = (option.textContent + " " + option.value + " " + (option.dataset.terms || "")).toLowerCase();
      option.hidden = option.id === "imported-option" ? option.hidden : words.length > 0 && option.value !== "custom" &&
        !words.every(function (w) { return text.indexOf(w) >= 0; });
      if (!option.hidden && option.value !== "custom" && option.value !== "imported") shown++;
    });
    var hint = document.getElementById("model-search-hint");
    if (hint) hint.textContent = !words.length ? "Filters the list below." : shown ? shown + " model" + (shown === 1 ? "" : "s") + " match." : "No model matches: the list shows only the custom architecture.";
  }

  // ------------------------------------------------------------------ updates in
  // An update is cut into steps (a field, a group of slots, one chart, one table...) run in animation frames
  // under a budget: a large update (the first, or a new model) spreads over frames instead of holding one, in the
  // order Python sent it (figures first). The steps of one input's update usually take a millisecond or two.
  var steps = [];
  var frame = 0;
  var slots = null;
  var BUDGET_MS = 8;

  function receive(text) {
    var update = JSON.parse(text);
    if (update.failed) { fail(update.failed); return; }
    if (update.handed) { handed = true; fillWorkerCache(); return; }
    (update.marks || []).forEach(function (m) {  // worker time -> this page's timeline
      try { performance.mark(m[0], { startTime: Math.max(0, m[1] - performance.timeOrigin) }); } catch (old) { performance.mark(m[0]); }
    });
    Array.prototype.push.apply(steps, stepsOf(update));
    if (!frame) {
      frame = requestAnimationFrame(run);
      setTimeout(run, 100);  // a frame that is not painted (a hidden tab) must not hold the page back
    }
  }

  function run() {
    if (!frame) return;
    cancelAnimationFrame(frame);
    frame = 0;
    var start = performance.now();
    while (steps.length && performance.now() - start < BUDGET_MS) steps.shift()();
    if (steps.length) {
      frame = requestAnimationFrame(run);
      setTimeout(run, 100);
    }
  }

  // The elements a selector finds, kept until a step replaces elements (children, a chart): an update names the
  // same few selectors many times, and each search walks the whole page.
  var found = {};
  function each(selector, fn) {
    if (!found.hasOwnProperty(selector)) found[selector] = all(selector);
    found[selector].forEach(fn);
  }
  // Unchanged text or attributes are left alone: the first update mostly repeats the pre-rendered page, and a
  // write, even of the same text, costs a style and layout pass.
  function setText(n, text) { if (n.textContent !== text) n.textContent = text; }
  function entries(o) { return o ? Object.keys(o).map(function (k) { return [k, o[k]]; }) : []; }
  function userEdited(key, ack) { return (lastEdit[key] || 0) > ack; }

  var TAGS = { tr: 1, th: 1, td: 1, span: 1, li: 1, dt: 1, dd: 1 };
  function safeAttribute(name, value) {
    return !/^on/i.test(name) && name !== "style" && (name !== "href" || /^\.\/(\?|$)/.test(String(value)));
  }
  function build(node) {
    if (typeof node === "string") return document.createTextNode(node);
    if (!TAGS[node[0]]) throw new Error("not an element the page builds: " + node[0]);
    var el = document.createElement(node[0]);
    entries(node[1]).forEach(function (kv) { if (safeAttribute(kv[0], kv[1])) el.setAttribute(kv[0], kv[1]); });
    (node[2] || []).forEach(function (child) { el.appendChild(build(child)); });
    return el;
  }

  // A chart arrives as SVG text, parsed as XML (never as HTML). When it has the shape of the chart shown (the same
  // elements in the same order: a new context moves a marker, a new format resizes the bars), the changed
  // attributes and text are written into the chart in place; otherwise the chart is replaced.
  function putSvg(container, text) {
    var parsed = new DOMParser().parseFromString(text, "image/svg+xml");
    if (parsed.querySelector("parsererror")) return;
    var shown = container.firstElementChild;
    if (!shown || !sameShape(shown, parsed.documentElement)) {
      container.replaceChildren(document.importNode(parsed.documentElement, true));
      return;
    }
    patch(shown, parsed.documentElement);
  }
  function sameShape(a, b) {
    if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName || a.childNodes.length !== b.childNodes.length) return false;
    for (var k = 0; k < a.childNodes.length; k++) if (!sameShape(a.childNodes[k], b.childNodes[k])) return false;
    return true;
  }
  function patch(a, b) {
    if (a.nodeType !== 1) {
      if (a.nodeValue !== b.nodeValue) a.nodeValue = b.nodeValue;
      return;
    }
    var k;
    for (k = a.attributes.length - 1; k >= 0; k--) {
      var name = a.attributes[k].name;
      if (!b.hasAttribute(name)) a.removeAttribute(name);
    }
    for (k = 0; k < b.attributes.length; k++) {
      var at = b.attributes[k];
      if (a.getAttributeNS(at.namespaceURI, at.localName) !== at.value) a.setAttributeNS(at.namespaceURI, at.name, at.value);
    }
    for (k = 0; k < a.childNodes.length; k++) patch(a.childNodes[k], b.childNodes[k]);
  }

  // The address follows the figures a moment later, once inputs pause: a history entry costs the browser a
  // few milliseconds, too many to spend in the frame that shows an input's result, and quick changes make one
  // entry, not one per keystroke or click. A back or forward navigation drops the write still waiting.
  var HISTORY_DELAY_MS = 250;
  var pendingHistory = { kind: null, search: null, timer: 0 };
  function writeHistory(kind, search) {
    pendingHistory.kind = pendingHistory.kind === "push" ? "push" : kind;  // a change waiting stays an entry of its own
    pendingHistory.search = search;
    clearTimeout(pendingHistory.timer);
    pendingHistory.timer = setTimeout(flushHistory, HISTORY_DELAY_MS);
  }
  function flushHistory() {
    var kind = pendingHistory.kind, search = pendingHistory.search;
    pendingHistory.kind = null;
    pendingHistory.timer = 0;
    if (kind && search !== location.search) {
      if (kind === "push") history.pushState(null, "", search);
      else history.replaceState(null, "", search);
    }
    settle();
  }
  function dropHistory() {
    clearTimeout(pendingHistory.timer);
    pendingHistory.kind = null;
    pendingHistory.timer = 0;
  }
  var acked = 0;  // the last input an applied update took into account
  // <html data-busy> ends once every input's update is applied, no step waits and the address is written
  function settle() {
    if (acked >= seq && !steps.length && !pendingHistory.timer) delete root.dataset.busy;
  }

  // The steps of one update (see app.py for its parts), in order.
  function stepsOf(u) {
    var ack = u.ack || 0;
    var out = [];
    function add(fn) { out.push(fn); }
    function addEach(list, fn) { (list || []).forEach(function (p) { add(function () { fn(p); }); }); }
    add(function () {
      entries(u.values).forEach(function (kv) {
        var el = byId(kv[0]);
        if (el && !userEdited(kv[0], ack)) el.value = kv[1];
      });
      entries(u.checked).forEach(function (kv) {
        var el = byId(kv[0]);
        if (el && !userEdited(kv[0], ack)) el.checked = kv[1];
      });
      entries(u.radios).forEach(function (kv) {
        if (userEdited("name:" + kv[0], ack)) return;
        each('input[type=radio][name="' + kv[0] + '"]', function (r) { r.checked = r.value === kv[1]; });
      });
      entries(u.boxes).forEach(function (kv) {
        if (userEdited(kv[0], ack)) return;
        each('input[type=checkbox][name="' + kv[0] + '"]', function (b) { b.checked = kv[1].indexOf(b.value) >= 0; });
      });
      if (u.mode) each("[data-mode]", function (n) { n.hidden = n.dataset.mode !== u.mode; });
      if (u.engine) each("[data-engines]", function (n) { n.hidden = n.dataset.engines.split(" ").indexOf(u.engine) < 0; });
      if (u.show) each("[data-show]", function (n) { n.hidden = u.show.indexOf(n.dataset.show) < 0; });
    });
    var slotList = entries(u.slots);
    for (var k = 0; k < slotList.length; k += 100) {
      (function (part) {
        add(function () {
          if (!slots) {
            slots = {};
            each("[data-slot]", function (n) { slots[n.dataset.slot] = n; });
          }
          part.forEach(function (kv) { if (slots[kv[0]]) setText(slots[kv[0]], kv[1]); });
        });
      })(slotList.slice(k, k + 100));
    }
    add(function () {
      (u.text || []).forEach(function (p) { each(p[0], function (n) { setText(n, p[1]); }); });
      (u.hidden || []).forEach(function (p) { each(p[0], function (n) { if (n.hidden !== p[1]) n.hidden = p[1]; }); });
      (u.attrs || []).forEach(function (p) {
        if (!safeAttribute(p[1], p[2])) return;
        each(p[0], function (n) {
          if (p[2] === null) n.removeAttribute(p[1]);
          else if (n.getAttribute(p[1]) !== p[2]) n.setAttribute(p[1], p[2]);
        });
      });
      (u.classes || []).forEach(function (p) { each(p[0], function (n) { n.classList.toggle(p[1], p[2]); }); });
    });
    addEach(u.svg, function (p) { each(p[0], function (n) { putSvg(n, p[1]); }); found = {}; });
    addEach(u.children, function (p) { each(p[0], function (n) { n.replaceChildren.apply(n, p[1].map(build)); }); found = {}; });
    if (u.formats) {
      add(function () {
        each("#formats-table tbody tr[data-format]", function (row) {
          var state = u.formats[row.dataset.format];
          if (!state) return;
          if (row.hidden !== !state[0]) row.hidden = !state[0];
          if (row.className !== (state[1] ? "best" : "")) row.className = state[1] ? "best" : "";
        });
      });
    }
    add(function () {
      (u.reveal || []).forEach(function (selector) {
        each(selector, function (n) {
          var box = n.closest("[data-engines]");
          if (box) box.hidden = false;
          var details = n.closest("details");
          if (details) details.open = true;
        });
      });
      if (u.link) link = u.link;
      if (u.history) writeHistory(u.history[0], u.history[1]);
      if (typeof u.recalc === "number") window.llmRecalcMs.push(u.recalc);
      if (u.download) download(u.download[0], u.download[1], u.download[2]);
      if (u.focus && byId(u.focus)) { byId(u.focus).focus(); byId(u.focus).select(); }
      entries(u.root).forEach(function (kv) { root.dataset[kv[0]] = kv[1]; });
      acked = Math.max(acked, ack);
      settle();
    });
    return out;
  }

  function download(text, name, mime) {
    var url = URL.createObjectURL(new Blob([text], { type: mime }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // ------------------------------------------------------------------ status, offline, embed
  var timer = setInterval(function () {
    if (root.dataset.py !== "loading") {
      clearInterval(timer);
      if (root.dataset.py === "ready") send({ t: "keep" });  // the worker's copy for later visits (worker.js)
      fillWorkerCache();
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

  // Keep the site for offline use (sw.js sits at the site root, next to the pages). The service worker is
  // registered once the page is live (one taking control mid-start would send the page's own fetches past it)
  // and the worker's copy of the snapshot is handed over (worker.js, {handed}), then asked to fill its cache:
  // from that copy and from the HTTP cache, so that no file is downloaded twice.
  var registration = null;
  var handed = false;
  function fillWorkerCache() {
    if (registration || root.dataset.py !== "ready" || !handed) return;
    if (!("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return;
    registration = navigator.serviceWorker.register("sw.js").catch(function () { return null; /* e.g. a third-party frame: run online */ });
    registration.then(function (reg) {
      if (!reg) return;
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
    var watch = function () {
      post();
      if (window.ResizeObserver) new ResizeObserver(post).observe(document.documentElement);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
    else watch();
  }
})();
