/* Musrenbang CSR summary: Chart.js charts from the json_script blocks "csr-summary-data" and
   "csr-summary-labels" (the same numbers as the tables below them). */
(function () {
  "use strict";

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var data = readJson("csr-summary-data") || {};
  var t = readJson("csr-summary-labels") || {};
  var RED = "#b02a37", BLUE = "#0d6efd", GREEN = "#198754", TEAL = "#20c997", ORANGE = "#fd7e14";
  var number = new Intl.NumberFormat("id-ID");
  var base = { animation: false, maintainAspectRatio: false, locale: "id-ID" };
  // Long names (cluster, strategy) are cut on the axis; the tooltip shows them whole.
  function shortTicks(max) {
    return { callback: function (value) {
      var label = String(this.getLabelForValue(value));
      return label.length > max ? label.slice(0, max - 1) + "\u2026" : label;
    } };
  }
  var valueTicks = { precision: 0, callback: function (value) { return number.format(value); } };

  function canvas(id) { return document.getElementById(id); }

  function bars(id, rows, label, color, max) {
    if (typeof Chart === "undefined" || !canvas(id) || !rows || !rows.length) return;
    new Chart(canvas(id), {
      type: "bar",
      data: { labels: rows.map(function (r) { return r[0]; }),
              datasets: [{ label: label, data: rows.map(function (r) { return r[1]; }), backgroundColor: color }] },
      options: Object.assign({}, base, { indexAxis: "y", plugins: { legend: { display: false } },
                                         scales: { x: { ticks: valueTicks }, y: { ticks: shortTicks(max || 24) } } })
    });
  }

  bars("sector-chart", data.sector_value, t.value, RED);
  bars("cluster-chart", data.cluster_proposals, t.proposals, BLUE, 16);
  bars("strategy-chart", data.strategy_proposals, t.proposals, TEAL, 16);
  bars("kind-chart", data.kind_value, t.value, ORANGE, 16);

  if (typeof Chart !== "undefined" && canvas("kecamatan-chart") && data.kecamatan && data.kecamatan.length) {
    new Chart(canvas("kecamatan-chart"), {
      type: "bar",
      data: { labels: data.kecamatan.map(function (r) { return r[0]; }),
              datasets: [
                { label: t.targeted, data: data.kecamatan.map(function (r) { return r[1]; }), backgroundColor: BLUE },
                { label: t.delivered, data: data.kecamatan.map(function (r) { return r[2]; }), backgroundColor: GREEN }
              ] },
      options: Object.assign({}, base, { indexAxis: "y", scales: { x: { ticks: valueTicks }, y: { ticks: shortTicks(24) } } })
    });
  }
})();
