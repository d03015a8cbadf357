/* Coverage-gap dashboard: Chart.js charts and the Leaflet choropleth (no tile layer: polygons only).
   Data comes from the json_script blocks "gap-chart-data", "gap-labels" and "gap-map-data". */
(function () {
  "use strict";

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var data = readJson("gap-chart-data") || {};
  var t = readJson("gap-labels") || {};
  var RED = "#dc3545", BLUE = "#0d6efd", GREY = "#adb5bd", GREEN = "#198754", ORANGE = "#fd7e14";
  var number = new Intl.NumberFormat("id-ID");

  // Table rows open the same place as their link (kecamatan: drill down; desa: household list).
  document.querySelectorAll("tr[data-href]").forEach(function (row) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a")) return;
      window.location.href = row.getAttribute("data-href");
    });
  });

  function canvas(id) { return document.getElementById(id); }
  var base = { animation: false, maintainAspectRatio: false, locale: "id-ID" };
  // Long names (OPD, cluster) are cut on the axis; the tooltip shows them whole.
  var shortTicks = { callback: function (value) {
    var label = String(this.getLabelForValue(value));
    return label.length > 22 ? label.slice(0, 21) + "\u2026" : label;
  } };

  function horizontalBars(id, rows, label, color) {
    if (!canvas(id) || !rows || !rows.length) return;
    new Chart(canvas(id), {
      type: "bar",
      data: { labels: rows.map(function (r) { return r[0]; }),
              datasets: [{ label: label, data: rows.map(function (r) { return r[1]; }), backgroundColor: color }] },
      options: Object.assign({}, base, { indexAxis: "y", plugins: { legend: { display: false } },
                                         scales: { x: { ticks: { precision: 0 } }, y: { ticks: shortTicks } } })
    });
  }

  if (typeof Chart !== "undefined") {
    if (canvas("desil-chart") && data.desil) {
      new Chart(canvas("desil-chart"), {
        type: "bar",
        data: { labels: data.desil.map(function (r) { return /^\d+$/.test(r[0]) ? t.desil + " " + r[0] : r[0]; }),
                datasets: [{ label: t.households, data: data.desil.map(function (r) { return r[1]; }),
                             backgroundColor: data.desil.map(function (r) { return r[0] === "1" ? RED : BLUE; }) }] },
        options: Object.assign({}, base, { plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 } } } })
      });
    }
    if (canvas("children-chart") && data.children) {
      var kids = data.children.slice(0, 30);
      new Chart(canvas("children-chart"), {
        type: "bar",
        data: { labels: kids.map(function (r) { return r.name; }),
                datasets: [{ label: t.desil1, data: kids.map(function (r) { return r.desil1; }), backgroundColor: GREY },
                           { label: t.uncovered, data: kids.map(function (r) { return r.uncovered; }), backgroundColor: RED }] },
        options: Object.assign({}, base, {
          indexAxis: "y", scales: { x: { ticks: { precision: 0 } }, y: { ticks: shortTicks } },
          onClick: function (event, elements) {
            if (!elements.length) return;
            var row = document.querySelector('tr[data-code="' + kids[elements[0].index].code + '"]');
            if (row) window.location.href = row.getAttribute("data-href");
          }
        })
      });
    }
    horizontalBars("cluster-chart", data.cluster, t.covered, BLUE);
    horizontalBars("strategy-chart", data.strategy, t.covered, GREEN);
    horizontalBars("organization-chart", data.organization, t.covered, ORANGE);
    if (canvas("trend-chart") && data.trend) {
      var years = data.trend.map(function (r) { return String(r.year); });
      function serie(key) { return data.trend.map(function (r) { return r[key]; }); }
      new Chart(canvas("trend-chart"), {
        type: "line",
        data: { labels: years, datasets: [
          { label: t.desil1, data: serie("desil1"), borderColor: GREY, backgroundColor: GREY },
          { label: t.uncovered, data: serie("desil1_uncovered"), borderColor: RED, backgroundColor: RED },
          { label: t.covered, data: serie("covered"), borderColor: BLUE, backgroundColor: BLUE },
          { label: t.graduated, data: serie("graduated"), borderColor: GREEN, backgroundColor: GREEN }] },
        options: Object.assign({}, base, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } })
      });
    }
    if (canvas("targets-chart") && data.targets && data.targets.length) {
      var ty = data.targets.map(function (r) { return String(r.year); });
      function col(key) { return data.targets.map(function (r) { return r[key]; }); }
      new Chart(canvas("targets-chart"), {
        type: "line",
        data: { labels: ty, datasets: [
          { label: t.poverty_target, data: col("poverty_target"), borderColor: BLUE, borderDash: [6, 4], backgroundColor: BLUE, spanGaps: true },
          { label: t.poverty_actual, data: col("poverty_actual"), borderColor: BLUE, backgroundColor: BLUE, spanGaps: true },
          { label: t.extreme_target, data: col("extreme_target"), borderColor: RED, borderDash: [6, 4], backgroundColor: RED, spanGaps: true },
          { label: t.extreme_actual, data: col("extreme_actual"), borderColor: RED, backgroundColor: RED, spanGaps: true }] },
        options: Object.assign({}, base, { scales: { y: { beginAtZero: true } },
                                           plugins: { legend: { labels: { boxWidth: 12, font: { size: 10 } } } } })
      });
    }
  }

  // Choropleth of Desil 1 uncovered (five classes up to the largest value), polygons only.
  var geo = readJson("gap-map-data");
  var mapEl = document.getElementById("gap-map");
  if (geo && mapEl && typeof L !== "undefined") {
    var values = geo.features.map(function (f) { return f.properties.desil1_uncovered || 0; });
    var max = Math.max.apply(null, values.concat([1]));
    var palette = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
    // Class i holds the values in (max*i/5, max*(i+1)/5]; 0 stays grey.
    function classOf(v) { return Math.min(palette.length - 1, Math.ceil((v / max) * palette.length) - 1); }
    function colour(v) { return v > 0 ? palette[classOf(v)] : "#f1f3f5"; }
    var map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25 });
    var layer = L.geoJSON(geo, {
      style: function (f) {
        return { color: "#495057", weight: 1, fillOpacity: 0.85, fillColor: colour(f.properties.desil1_uncovered) };
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties;
        var name = document.createElement("strong");
        name.textContent = p.name;
        lyr.bindTooltip(name.outerHTML + "<br>" + t.uncovered + ": " + number.format(p.desil1_uncovered) +
                        " / " + number.format(p.desil1), { sticky: true });
        lyr.on("mouseover", function () { lyr.setStyle({ weight: 3 }); });
        lyr.on("mouseout", function () { layer.resetStyle(lyr); });
        if (p.url) lyr.on("click", function () { window.location.href = p.url; });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    var legend = document.getElementById("gap-map-legend");
    if (legend) {
      var swatch = function (c) {
        return '<span class="d-inline-block border align-middle" style="width:1rem;height:.8rem;background:' + c + '"></span> ';
      };
      var html = t.legend + ": " + swatch("#f1f3f5") + "0 ";
      palette.forEach(function (c, i) {
        var lo = Math.floor((max * i) / palette.length) + 1, hi = Math.floor((max * (i + 1)) / palette.length);
        if (lo > hi) return;
        html += swatch(c) + (lo === hi ? number.format(lo) : number.format(lo) + "\u2013" + number.format(hi)) + " ";
      });
      legend.innerHTML = html;
    }
  }
})();
