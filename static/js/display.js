/* The calling display: when a new number is called, make it flash and chime.
 * The chime needs the browser to allow sound without a click (a TV in kiosk mode:
 * chromium --autoplay-policy=no-user-gesture-required); otherwise it stays silent. */
(function () {
  "use strict";
  var lastCall = null;
  var audio = null;

  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [660, 880].forEach(function (freq, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        var start = audio.currentTime + i * 0.35;
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.3, start + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
        osc.connect(gain).connect(audio.destination);
        osc.start(start);
        osc.stop(start + 0.65);
      });
    } catch (e) { /* no sound: the flash is enough */ }
  }

  function check(board) {
    var call = board.getAttribute("data-latest-call");
    if (lastCall !== null && call && call !== lastCall) {
      board.classList.add("board-fresh");
      chime();
    }
    lastCall = call;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("display-board");
    if (board) check(board);
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var board = document.getElementById("display-board");
    if (board) check(board);
  });
})();
