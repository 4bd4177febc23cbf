/* Live alerts for the operations pages (board, tablet, overview).
 *
 * The alert socket (ws/halls/<code>/alerts/) pushes each changed alert as a row read
 * from the database. The page keeps the sequence number it was rendered at
 * ([data-alert-seq]) and, each time the socket opens (the first time included, which
 * covers the gap between the render and the socket), asks for everything after it:
 * nothing is lost when the channel layer drops a message or the network goes away.
 * Any change makes the [data-alerts-live] fragments fetch themselves again (htmx,
 * hx-trigger="alerts-changed"); a fragment being typed into waits until the focus
 * leaves it, like live.js does for the queue fragments.
 *
 * The overview opens a queue and an alert socket per hall card
 * ([data-overview-hall]) and refreshes only the card whose hall changed.
 *
 * While any of these sockets is down, body[data-ops-state="down"] shows the badge of
 * base.html; the sockets reconnect with backoff and jitter and then catch up.
 * Each alert that arrives is announced as an "ops:alerts" event (the tablet beeps).
 */
(function () {
  "use strict";
  var body = document.body;
  var MIN_DELAY = 1000;
  var MAX_DELAY = 30000;
  var COALESCE_MS = 250;
  var sockets = [];

  function updateState() {
    var states = sockets.map(function (s) { return s.state; });
    if (states.indexOf("down") >= 0) body.setAttribute("data-ops-state", "down");
    else if (states.length && states.every(function (s) { return s === "up"; })) {
      body.setAttribute("data-ops-state", "up");
    }
  }

  /* A socket that reconnects by itself. handlers.open(send, reconnected) runs at each
   * opening; handlers.message(data) for each JSON message. */
  function openSocket(path, handlers) {
    var entry = { state: "connecting", socket: null };
    var delay = MIN_DELAY;
    var everOpen = false;
    sockets.push(entry);

    function send(data) {
      if (entry.socket && entry.socket.readyState === WebSocket.OPEN) {
        entry.socket.send(JSON.stringify(data));
      }
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + path);
      entry.socket = socket;
      socket.onopen = function () {
        delay = MIN_DELAY;
        if (handlers.open) handlers.open(send, everOpen);
        everOpen = true;
        entry.state = "up";
        updateState();
      };
      socket.onmessage = function (evt) {
        var message;
        try { message = JSON.parse(evt.data); } catch (e) { return; }
        if (handlers.message) handlers.message(message);
      };
      socket.onclose = function () {
        entry.state = "down";
        updateState();
        setTimeout(connect, Math.round(delay / 2 + Math.random() * delay / 2));
        delay = Math.min(delay * 2, MAX_DELAY);
      };
    }
    connect();
  }

  function coalesced(fn) {
    var pending = null;
    return function () {
      if (pending === null) {
        pending = setTimeout(function () { pending = null; fn(); }, COALESCE_MS);
      }
    };
  }

  // ---------------------------------------------------------------- typing guard
  function editing(el) {
    var active = document.activeElement;
    return (
      active && el.contains(active) &&
      active.matches("input[type=text], input:not([type]), textarea, select")
    );
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail.elt;
    if (el.hasAttribute("data-alerts-live") && !el.hasAttribute("data-live") &&
        evt.detail.requestConfig.verb === "get" && editing(el)) {
      evt.preventDefault();
      el.setAttribute("data-stale", "");
    }
  });
  document.addEventListener("focusout", function () {
    setTimeout(function () {
      document.querySelectorAll("[data-alerts-live][data-stale]:not([data-live])").forEach(function (el) {
        if (!editing(el)) {
          el.removeAttribute("data-stale");
          htmx.trigger(el, "alerts-changed");
        }
      });
    }, 0);
  });

  if (!("WebSocket" in window)) return;

  // ------------------------------------------------------------ the alert feed
  var feed = document.querySelector("[data-alert-socket]");
  if (feed) {
    var lastSeq = parseInt(feed.getAttribute("data-alert-seq") || "0", 10) || 0;
    var refreshAlerts = coalesced(function () {
      document.querySelectorAll("[data-alerts-live]").forEach(function (el) {
        htmx.trigger(el, "alerts-changed");
      });
    });
    var announce = function (alerts) {
      document.dispatchEvent(new CustomEvent("ops:alerts", { detail: alerts }));
    };
    openSocket(feed.getAttribute("data-alert-socket"), {
      open: function (send) { send({ type: "resync", since: lastSeq }); },
      message: function (message) {
        if (message.type === "alert" && message.alert) {
          lastSeq = Math.max(lastSeq, message.alert.seq);
          announce([message.alert]);
          refreshAlerts();
        } else if (message.type === "resync") {
          lastSeq = Math.max(lastSeq, message.last_seq || 0);
          if (message.alerts && message.alerts.length) {
            announce(message.alerts);
            refreshAlerts();
          }
        }
      },
    });
  }

  // -------------------------------------------------------------- the overview
  document.querySelectorAll("[data-overview-hall]").forEach(function (card) {
    var code = card.getAttribute("data-overview-hall");
    // the card is replaced by each refresh: find it again by its id
    var refresh = coalesced(function () {
      var current = document.getElementById("hall-" + code);
      if (current) htmx.trigger(current, "hall-changed");
    });
    var reopen = function (send, reconnected) { if (reconnected) refresh(); };
    openSocket(card.getAttribute("data-queue-socket"), { open: reopen, message: refresh });
    openSocket(card.getAttribute("data-alert-socket-hall"), { open: reopen, message: refresh });
  });
})();
