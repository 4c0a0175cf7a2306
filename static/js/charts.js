// Report charts (ECharts). Data comes from <script type="application/json"> blocks written by
// Django's json_script (never executed, so the CSP's script-src 'self' holds). Grade colours are
// read from the CSS variables in app.css, so a grade has the same colour everywhere.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }

  function gradeColour(grade) {
    var name = grade.kind === "won" ? "won" : (grade.kind === "lost" ? "lost" : grade.code);
    var value = getComputedStyle(document.documentElement).getPropertyValue("--grade-" + name);
    return (value || "#888").trim();
  }

  function readData(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function money(value) {
    return "\u00a5" + Math.round(value).toLocaleString();
  }

  // ECharts puts a tooltip formatter's string into the page as HTML: every name in it
  // (grade names are admin-typed text) is escaped first.
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function drawFunnel(element, data) {
    var open = data.grades.filter(function (g) { return g.kind === "open"; });
    var weightedLabel = element.getAttribute("data-label-weighted") || "";
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      // confine: kept inside the chart (phones), and drawn without the arrow ECharts
      // would add as HTML with a style attribute, which the CSP refuses.
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        return escapeHtml(p.name) + ": " + escapeHtml(p.value) + " \u00b7 " + escapeHtml(weightedLabel) +
          " " + escapeHtml(money(p.data.weighted));
      } },
      series: [{
        type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "12%", gap: 2,
        label: { show: true, position: "inside", formatter: function (p) {
          return p.data.code + "  " + p.value + "  (" + money(p.data.weighted) + ")";
        } },
        data: open.map(function (g) {
          // Funnel area needs a positive value to draw a layer; the label shows the real count.
          return { name: g.code + " " + g.name, code: g.code, value: g.count, weighted: g.weighted,
                   itemStyle: { color: gradeColour(g) } };
        })
      }]
    });
    return chart;
  }

  function drawWeighted(element, data) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 70, right: 16, top: 16, bottom: 30 },
      tooltip: { trigger: "axis", formatter: function (points) {
        return points.map(function (p) {
          return escapeHtml(p.name) + ": " + escapeHtml(money(p.value));
        }).join("<br>");
      } },
      xAxis: { type: "category", data: data.grades.map(function (g) { return g.code; }) },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return money(v); } } },
      series: [{
        type: "bar",
        data: data.grades.map(function (g) { return { value: g.weighted, itemStyle: { color: gradeColour(g) } }; })
      }]
    });
    return chart;
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var data = readData(element.getAttribute("data-source"));
    if (!data) { return; }
    var kind = element.getAttribute("data-chart");
    if (kind === "funnel") { charts.push(drawFunnel(element, data)); }
    if (kind === "weighted") { charts.push(drawWeighted(element, data)); }
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
