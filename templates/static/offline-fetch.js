// The single-file page's files live in <script type="application/octet-stream" data-file="name">
// elements as base64. A file:// page cannot fetch files next to it, so fetch() answers for these names
// from the page itself (gzip-packed ones inflated on the way), whatever directory a URL points at.
(function () {
  "use strict";
  var networkFetch = window.fetch.bind(window);
  function embedded(url) {
    var name = String(url).split("?")[0].split("#")[0].split("/").pop();
    if (!name || !/^[\w.\-]+$/.test(name)) return null;
    return document.querySelector('script[type="application/octet-stream"][data-file="' + name + '"]');
  }
  window.fetch = function (input, init) {
    var node = embedded(input instanceof Request ? input.url : String(input));  // a string or a URL
    if (!node) return networkFetch(input, init);
    return networkFetch("data:application/octet-stream;base64," + node.textContent.trim()).then(function (response) {
      var body = node.hasAttribute("data-gzip") ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
      return new Response(body, { status: 200, headers: { "Content-Type": node.dataset.type } });
    });
  };
})();
