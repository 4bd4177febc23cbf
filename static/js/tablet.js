/* The floor tablet's sound: browsers play audio only after the user touched the page,
 * so the first tap anywhere (or on the sound button) turns it on; from then each new
 * alert (one this page has not seen, still open) plays a short two-tone beep made with
 * the Web Audio API, no sound file needed. body[data-beeps] counts them (for tests). */
(function () {
  "use strict";
  var body = document.body;
  var toggle = document.querySelector("[data-sound-toggle]");
  var audio = null;
  var seen = {};
  document.querySelectorAll("[data-alert-id]").forEach(function (el) {
    seen[el.getAttribute("data-alert-id")] = true;
  });

  function enable() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = new Ctx();
    }
    if (audio.state === "suspended") audio.resume();
    if (toggle) {
      toggle.setAttribute("aria-pressed", "true");
      toggle.textContent = toggle.getAttribute("data-label-on");
    }
    body.setAttribute("data-sound", "on");
  }
  document.addEventListener("pointerdown", enable, { once: true });
  if (toggle) toggle.addEventListener("click", enable);

  function beep() {
    if (!audio) return;
    body.setAttribute("data-beeps", String((parseInt(body.getAttribute("data-beeps") || "0", 10)) + 1));
    var t = audio.currentTime;
    [880, 660].forEach(function (freq, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.3, t + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.17);
    });
  }

  document.addEventListener("ops:alerts", function (evt) {
    var fresh = false;
    (evt.detail || []).forEach(function (alert) {
      var id = String(alert.id);
      if (!seen[id] && alert.state === "open") fresh = true;
      seen[id] = true;
    });
    if (fresh) beep();
  });
})();
