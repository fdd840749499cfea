// Runs before PyScript: shows how long Python has been starting, keeps the form from submitting,
// and reports a runtime that failed to start instead of spinning forever.
(function () {
  "use strict";
  var started = Date.now();
  window.llmRecalcMs = [];  // recalculation times measured inside the page (bench/page.py reads them)
  var root = document.documentElement;
  function status(text) {
    var el = document.getElementById("py-status-text");
    if (el) el.textContent = text;
  }
  var timer = setInterval(function () {
    if (root.dataset.py !== "loading") { clearInterval(timer); return; }
    var s = ((Date.now() - started) / 1000).toFixed(1);
    status("Showing a result computed in advance; starting Python so the inputs work… " + s + " s");
    if (Date.now() - started > 60000) {
      clearInterval(timer);
      root.dataset.py = "failed";
      status("Python did not start. The figures shown are for the default scenario; reload to try again.");
    }
  }, 200);
  document.addEventListener("submit", function (event) { event.preventDefault(); }, true);
  window.addEventListener("error", function (event) {
    if (root.dataset.py === "loading" && event && event.message && /pyodide|pyscript/i.test(event.message)) {
      root.dataset.py = "failed";
      status("Python could not start (" + event.message + "). The figures shown are for the default scenario.");
    }
  });
})();
