"use strict";
// mitsu's dashboard, live: refreshes the page's tables and charts from its JSON twin (/api/...)
// and, on the overview, follows the event stream (/api/events?after=ID). Everything from the
// store is attacker-influenced: it is only ever set as text (textContent), never as markup, and
// charts are images (data: URIs), which run nothing. The page works without this file.
(function () {
  const body = document.body;
  const api = body.dataset.api;
  if (!api) return;
  const period = Math.max(1, Number(body.dataset.refresh) || 5) * 1000;
  const status = document.getElementById("status");
  const charts = {};
  let lastEvent = null;

  function say(text) { if (status) status.textContent = text; }

  function cellText(col, v) {
    if (v === null || v === undefined) return "";
    if (col.type === "percent" && typeof v === "number") return v.toFixed(1) + " %";
    if (col.type === "real" && typeof v === "number") return v.toFixed(2);
    return String(v);
  }

  function cell(col, v) {
    const td = document.createElement("td");
    if (col.type !== "str") td.className = "num";
    const text = cellText(col, v);
    if (col.link && typeof v === "string" && v !== "") {
      const a = document.createElement("a");
      a.href = col.link + encodeURIComponent(v);
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function fillTable(key, t) {
    const section = document.getElementById("t-" + key);
    const table = section && section.querySelector("table");
    if (!table || !table.tBodies.length || !Array.isArray(t.rows)) return;
    const rows = document.createDocumentFragment();
    t.rows.forEach(function (row) {
      const tr = document.createElement("tr");
      t.columns.forEach(function (col) { tr.appendChild(cell(col, row[col.name])); });
      rows.appendChild(tr);
    });
    table.tBodies[0].replaceChildren(rows);
  }

  function fillChart(c) {
    const fig = document.getElementById("c-" + c.name);
    const img = fig && fig.querySelector("img");
    if (!img || charts[c.name] === c.svg) return;
    charts[c.name] = c.svg;
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(c.svg);
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  async function refresh() {
    try {
      const page = await getJSON(api);
      (page.tables || []).forEach(function (key) { if (page[key]) fillTable(key, page[key]); });
      (page.charts || []).forEach(function (c) { if (c && c.svg) fillChart(c); });
      say("live, updated " + new Date().toLocaleTimeString());
    } catch (e) {
      say("cannot reach the dashboard (" + e.message + ")");
    }
  }

  // The overview's event stream: new events go on top of the latest events table.
  const recent = document.getElementById("t-recent_events");
  const columns = [["id", "int"], ["timestamp", "str"], ["eventid", "str"], ["src_ip", "str"],
                   ["session", "str"], ["message", "str"]];
  async function follow() {
    try {
      if (lastEvent === null) {
        const latest = await getJSON("/api/events?limit=1");
        lastEvent = latest.last_id || 0;
      }
      const got = await getJSON("/api/events?limit=100&after=" + lastEvent);
      const tbody = recent.querySelector("tbody");
      got.events.forEach(function (ev) {
        const tr = document.createElement("tr");
        tr.className = "new";
        columns.forEach(function (c) {
          tr.appendChild(cell({ type: c[1], link: c[0] === "src_ip" ? "/ip/" : null }, ev[c[0]]));
        });
        tbody.insertBefore(tr, tbody.firstChild);
      });
      while (tbody.rows.length > 30) tbody.deleteRow(tbody.rows.length - 1);
      lastEvent = got.last_id;
    } catch (e) {
      say("cannot reach the dashboard (" + e.message + ")");
    }
  }

  setInterval(refresh, period);
  if (recent && body.dataset.page === "overview") {
    follow();
    setInterval(follow, Math.max(500, period / 2));
  }
})();
