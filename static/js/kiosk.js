/* The kiosk: the on-screen keypad for the ID number (digits and X, delete), the ID box
 * kept as typed when the answer is an error, and the ticket slip's printing. */
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var key = evt.target.closest("[data-key]");
    if (!key) return;
    var pad = key.closest("[data-keypad-for]");
    var input = pad && document.getElementById(pad.getAttribute("data-keypad-for"));
    if (!input) return;
    var value = input.value;
    if (key.dataset.key === "back") {
      input.value = value.slice(0, -1);
    } else if (value.length < 18) {
      input.value = value + key.dataset.key;
    }
  });

  // The ID box survives a swap (hx-preserve: the server never sends the number back),
  // so it does not carry the answer's aria-invalid: set it from the error shown.
  document.addEventListener("htmx:afterSwap", function () {
    var input = document.querySelector(".id-input");
    if (!input) return;
    if (document.getElementById("id-number-error")) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  });

  // Slip width (58 or 80 mm) and automatic printing are the device's settings: given
  // once in the address (?slip=58, ?autoprint=1), then kept by this browser. A kiosk
  // that prints on its own runs Chromium with --kiosk-printing (no print dialog).
  var params = new URLSearchParams(window.location.search);
  try {
    if (params.has("slip")) localStorage.setItem("kiosk-slip", params.get("slip") === "58" ? "58" : "80");
    if (params.has("autoprint")) localStorage.setItem("kiosk-autoprint", params.get("autoprint") === "1" ? "1" : "0");
  } catch (e) { /* no storage: the defaults */ }
  function setting(name, fallback) {
    try { return localStorage.getItem(name) || fallback; } catch (e) { return fallback; }
  }
  document.documentElement.setAttribute("data-slip-width", setting("kiosk-slip", "80"));

  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-print-ticket]")) window.print();
  });
  function autoPrint() {
    var slip = document.querySelector("[data-ticket-slip]:not([data-printed])");
    if (slip && setting("kiosk-autoprint", "0") === "1") {
      slip.setAttribute("data-printed", "");  // once per ticket, not per settle
      window.print();
    }
  }
  document.addEventListener("htmx:afterSettle", autoPrint);
  document.addEventListener("DOMContentLoaded", autoPrint);
})();
