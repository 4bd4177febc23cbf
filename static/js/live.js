/* Live updates for a hall's pages.
 *
 * One WebSocket per page to the hall's group (body[data-live-socket]). A message only
 * says "the queue changed": every [data-live] element then fetches its own fragment
 * (htmx, hx-trigger="queue-changed"). Those elements also poll every 30 s, since the
 * channel layer may drop a message. While the socket is down a badge says so and the
 * page reconnects with exponential backoff and jitter; after a reconnect it refreshes
 * at once, to catch up with what it missed.
 */
(function () {
  "use strict";
  var body = document.body;
  var MIN_DELAY = 1000;
  var MAX_DELAY = 30000;
  var COALESCE_MS = 250; // a busy hall sends bursts: one refresh per burst

  // An element being typed into is not replaced under the user's fingers: its refresh
  // waits until the focus leaves it.
  function editing(el) {
    var active = document.activeElement;
    return (
      active && el.contains(active) &&
      active.matches("input[type=text], input:not([type]), textarea, select")
    );
  }

  function refreshAll() {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      htmx.trigger(el, "queue-changed");
    });
  }

  var pending = null;
  function refreshSoon() {
    if (pending === null) {
      pending = setTimeout(function () { pending = null; refreshAll(); }, COALESCE_MS);
    }
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail.elt;
    if (el.hasAttribute("data-live") && evt.detail.requestConfig.verb === "get" && editing(el)) {
      evt.preventDefault();
      el.setAttribute("data-stale", "");
    }
  });
  document.addEventListener("focusout", function () {
    setTimeout(function () {
      document.querySelectorAll("[data-live][data-stale]").forEach(function (el) {
        if (!editing(el)) {
          el.removeAttribute("data-stale");
          htmx.trigger(el, "queue-changed");
        }
      });
    }, 0);
  });

  // A fragment request answered by the login page means the session ended: go there.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var url = evt.detail.xhr && evt.detail.xhr.responseURL;
    if (url && new URL(url).pathname === body.dataset.loginUrl) {
      evt.detail.shouldSwap = false;
      window.location.href = url;
    }
  });

  var path = body.dataset.liveSocket;
  if (!path || !("WebSocket" in window)) return;
  var delay = MIN_DELAY;
  var everOpen = false;

  function setState(state) { body.setAttribute("data-live-state", state); }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.onopen = function () {
      if (everOpen) refreshSoon();
      everOpen = true;
      delay = MIN_DELAY;
      setState("up");
    };
    socket.onmessage = function (evt) {
      var message;
      try { message = JSON.parse(evt.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("hall:queue-changed", { detail: message }));
      refreshSoon();
    };
    socket.onclose = function (evt) {
      setState("down");
      // full jitter, so that a hall's screens do not all reconnect in the same second
      setTimeout(connect, Math.round(delay / 2 + Math.random() * delay / 2));
      delay = Math.min(delay * 2, MAX_DELAY);
    };
  }
  connect();
})();

/* Clocks and countdowns used by the kiosk and the display.
 *
 * A clock shows the hall's time, never the device's: the page says the server's time
 * (data-clock-now, seconds since the epoch) and the hall's time zone (data-clock-zone),
 * so a kiosk set to another zone, or with its clock off, still shows what the hall's
 * clocks show. */
(function () {
  "use strict";
  var formats = {};

  function format(zone) {
    if (!(zone in formats)) {
      try {
        formats[zone] = new Intl.DateTimeFormat("en-GB", {
          timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23"
        });
      } catch (e) { formats[zone] = null; }
    }
    return formats[zone];
  }

  function hallTime(el) {
    if (el.hallSkew === undefined) {
      var server = parseInt(el.getAttribute("data-clock-now"), 10) * 1000;
      el.hallSkew = isNaN(server) ? 0 : server - Date.now();
    }
    var fmt = format(el.getAttribute("data-clock-zone") || "");
    // no zone the browser knows: keep the time the server wrote
    return fmt ? fmt.format(new Date(Date.now() + el.hallSkew)) : null;
  }

  function tick() {
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      var text = hallTime(el);
      if (text !== null && el.textContent !== text) el.textContent = text;
    });
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-countdown"), 10) - 1;
      if (left >= 0) { el.setAttribute("data-countdown", String(left)); el.textContent = String(left); }
    });
  }
  setInterval(tick, 1000);
})();
