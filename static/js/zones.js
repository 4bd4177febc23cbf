// The zone editor (templates/vision/zones.html): draws the camera's zones as SVG
// polygons over the blurred snapshot, in 0–1 coordinates (the SVG's viewBox), and
// keeps the form's JSON field in step with the drawing. Plain JS, no library.
(function () {
  "use strict";
  const svg = document.getElementById("zone-svg");
  const form = document.getElementById("zone-form");
  if (!svg || !form) return;
  const field = document.getElementById("id_zones");
  const tbody = document.querySelector("#zone-table tbody");
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const zones = read("zones-data");
  const kinds = read("zone-kinds");
  const services = read("zone-services");
  const labels = read("zone-labels");
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = { entrance: "#1d6fd6", waiting_area: "#2e9d5b", queue_line: "#d98a0b", window_area: "#8a4fd1" };
  let selected = zones.length ? 0 : -1;
  let dragging = null; // {zone, corner, moved}

  // a zone typed by hand into the JSON box may hold anything: draw only a list of
  // points (the server names what is wrong with the rest when it is saved)
  const corners = (zone) =>
    Array.isArray(zone.polygon) && zone.polygon.every((p) => Array.isArray(p) && p.length === 2) ? zone.polygon : [];
  const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

  function toUnit(event) {
    const box = svg.getBoundingClientRect();
    return [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
  }

  function option(value, text, current) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    o.selected = String(value) === String(current);
    return o;
  }

  function sync() {
    field.value = JSON.stringify(zones);
  }

  function drawing() {
    return selected >= 0 && corners(zones[selected]).length < 3;
  }

  // "Zone 3" for a new zone, unless a zone already has that name (names are unique
  // per camera): the first free number then.
  function freshName() {
    const taken = new Set(zones.map((zone) => zone.name));
    let n = zones.length + 1;
    while (taken.has(`${labels.zone} ${n}`)) n += 1;
    return `${labels.zone} ${n}`;
  }

  function drawSvg() {
    svg.replaceChildren();
    zones.forEach((zone, i) => {
      const colour = COLOURS[zone.kind] || "#555";
      const points = corners(zone).map((p) => p.join(",")).join(" ");
      const shape = document.createElementNS(NS, "polygon");
      shape.setAttribute("points", points);
      shape.setAttribute("fill", colour);
      shape.setAttribute("fill-opacity", i === selected ? "0.35" : "0.18");
      shape.setAttribute("stroke", colour);
      shape.setAttribute("stroke-width", i === selected ? "0.004" : "0.002");
      shape.addEventListener("mousedown", (event) => {
        // A zone still being drawn takes every click as a corner, even one inside
        // another zone (zones may overlap); a finished one lets a click select.
        if (i !== selected && !drawing()) {
          selected = i;
          event.stopPropagation();
          render();
        }
      });
      svg.appendChild(shape);
      if (i !== selected) return;
      corners(zone).forEach((p, corner) => {
        const dot = document.createElementNS(NS, "circle");
        dot.setAttribute("cx", p[0]);
        dot.setAttribute("cy", p[1]);
        dot.setAttribute("r", "0.008");
        dot.setAttribute("fill", "#fff");
        dot.setAttribute("stroke", colour);
        dot.setAttribute("stroke-width", "0.003");
        dot.style.cursor = "move";
        dot.addEventListener("mousedown", (event) => {
          dragging = { zone: i, corner, moved: false };
          event.stopPropagation();
        });
        dot.addEventListener("dblclick", (event) => {
          zone.polygon.splice(corner, 1);
          event.stopPropagation();
          render();
        });
        svg.appendChild(dot);
      });
    });
  }

  function drawTable() {
    tbody.replaceChildren();
    zones.forEach((zone, i) => {
      const row = document.createElement("tr");
      if (i === selected) row.className = "selected";
      row.addEventListener("focusin", () => {
        if (selected !== i) {
          selected = i;
          tbody.querySelectorAll("tr").forEach((other, j) => other.classList.toggle("selected", j === i));
          drawSvg();
        }
      });
      const name = document.createElement("input");
      name.value = zone.name || "";
      name.maxLength = 80;
      name.addEventListener("input", () => { zone.name = name.value; sync(); });
      const kind = document.createElement("select");
      kinds.forEach(([value, text]) => kind.appendChild(option(value, text, zone.kind)));
      kind.addEventListener("change", () => { zone.kind = kind.value; render(); });
      const capacity = document.createElement("input");
      capacity.type = "number";
      capacity.min = "1";
      capacity.value = zone.capacity || 1;
      capacity.addEventListener("input", () => { zone.capacity = parseInt(capacity.value, 10) || 0; sync(); });
      const service = document.createElement("select");
      service.appendChild(option("", labels.none, zone.service ?? ""));
      services.forEach(([value, text]) => service.appendChild(option(value, text, zone.service ?? "")));
      service.addEventListener("change", () => { zone.service = service.value ? parseInt(service.value, 10) : null; sync(); });
      const count = document.createElement("span");
      count.textContent = String(corners(zone).length);
      [name, kind, capacity, service, count].forEach((element) => {
        const cell = document.createElement("td");
        cell.appendChild(element);
        row.appendChild(cell);
      });
      tbody.appendChild(row);
    });
  }

  function render() {
    drawSvg();
    drawTable();
    sync();
  }

  svg.addEventListener("mousedown", (event) => {
    if (selected < 0) return;
    zones[selected].polygon = corners(zones[selected]);
    zones[selected].polygon.push(toUnit(event));
    render();
  });
  window.addEventListener("mousemove", (event) => {
    if (!dragging) return;
    zones[dragging.zone].polygon[dragging.corner] = toUnit(event);
    dragging.moved = true;
    drawSvg();
    sync();
  });
  window.addEventListener("mouseup", () => {
    // a press without a move leaves the corners in place, so that a double-click
    // lands twice on the same one
    if (dragging) {
      const moved = dragging.moved;
      dragging = null;
      if (moved) render();
    }
  });
  document.getElementById("zone-add").addEventListener("click", () => {
    zones.push({ id: null, name: freshName(), kind: "waiting_area", capacity: 20, polygon: [], line: null, service: null });
    selected = zones.length - 1;
    render();
  });
  document.getElementById("zone-remove").addEventListener("click", () => {
    if (selected < 0) return;
    zones.splice(selected, 1);
    selected = zones.length - 1;
    render();
  });
  // The JSON box, edited by hand: a list redraws the editor; anything else is posted
  // as typed (the server names the fault), so the box is not overwritten on submit.
  field.addEventListener("input", () => {
    let value = null;
    try {
      value = JSON.parse(field.value);
    } catch (error) {
      return;
    }
    if (!Array.isArray(value) || !value.every((zone) => zone && typeof zone === "object")) return;
    zones.splice(0, zones.length, ...value);
    selected = Math.min(Math.max(selected, 0), zones.length - 1);
    drawSvg();
    drawTable();
  });
  // a refused post shows what was sent, as typed; otherwise show the drawing
  if (!field.value) render();
  else { drawSvg(); drawTable(); }
})();
