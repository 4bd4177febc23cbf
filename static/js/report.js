/* The weekly report: its Print button (no inline handler, so the page keeps a
 * script-src 'self' Content-Security-Policy). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
