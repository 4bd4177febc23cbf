/* The hall board: draws today's arrivals and served visitors with plotly.js from the
 * JSON that the live fragment carries (#board-chart-data), again after each refresh
 * of that fragment; and keeps the fragment still while a skills editor is open, so a
 * push does not close it under the manager's hand. */
(function () {
  "use strict";
  var chart = document.getElementById("arrivals-chart");

  var drawn = null;

  function draw() {
    var source = document.getElementById("board-chart-data");
    if (!chart || !source || !window.Plotly || source.textContent === drawn) return;
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    drawn = source.textContent;
    var traces = [
      { type: "bar", name: chart.dataset.labelArrivals, x: data.labels, y: data.arrivals,
        marker: { color: "#1557c0" } },
      { type: "bar", name: chart.dataset.labelServed, x: data.labels, y: data.served,
        marker: { color: "#17803d" } },
    ];
    var layout = {
      barmode: "group", height: 280, margin: { l: 36, r: 12, t: 8, b: 48 },
      legend: { orientation: "h", y: -0.25 }, font: { family: getComputedStyle(document.body).fontFamily },
      xaxis: { type: "category", tickangle: -45, nticks: 16 }, yaxis: { rangemode: "tozero", dtick: 5 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    };
    window.Plotly.react(chart, traces, layout, { displaylogo: false, responsive: true, displayModeBar: false });
  }

  // redrawn only when a refresh brought other figures
  document.addEventListener("htmx:afterSettle", draw);
  draw();

  function editingSkills(el) { return !!el.querySelector("details.skills-editor[open]"); }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail.elt;
    if (el.id === "board-live" && evt.detail.requestConfig.verb === "get" && editingSkills(el)) {
      evt.preventDefault();
      el.setAttribute("data-stale", "");
    }
  });
  document.addEventListener("toggle", function (evt) {
    var live = document.getElementById("board-live");
    if (live && live.hasAttribute("data-stale") && !editingSkills(live)) {
      live.removeAttribute("data-stale");
      htmx.trigger(live, "queue-changed");
    }
  }, true);
})();
