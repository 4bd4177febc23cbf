/* The kiosk's on-screen keypad for the ID number: digits and X, delete. */
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
})();
