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

  // Amounts as the page's tables print them (crm/templatetags/formatting.py ``money``, the
  // one rule): in Chinese (<html lang="zh-hans">) from 1万 on in 万, from 1亿 on in 亿, with
  // at most two decimals (¥1.23万, ¥100万, ¥1.23亿); else whole yuan with thousands
  // separators (¥1,234,568). Half-way rounds up on the size, the sign goes in front.
  var CHINESE = /^zh/i.test(document.documentElement.lang || "");
  var WAN = 1e4;
  var YI = 1e8;

  function grouped(whole) {
    return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function inChineseUnits(size) {
    // Math.round(size / 100) is the amount in hundredths of 万 (exact at the half-way x50).
    var scaled = Math.round(size / (WAN / 100)) / 100;
    if (scaled >= WAN) { return Math.round(size / (YI / 100)) / 100 + "\u4ebf"; }
    return scaled + "\u4e07";
  }

  function money(value) {
    var amount = Number(value);
    var size = Math.abs(amount);
    var whole = Math.round(size);
    if (whole === 0) { return "\u00a50"; }
    var text = CHINESE && whole >= WAN ? inChineseUnits(size) : grouped(whole);
    return (amount < 0 ? "-" : "") + "\u00a5" + text;
  }

  // Tooltips are drawn in the canvas (renderMode "richText"): ECharts' HTML tooltip writes
  // style attributes into the page, which the CSP (style-src 'self') refuses. Canvas text
  // is never HTML; only "{style|text}" is markup there, so a typed "{" is kept literal.
  function plainText(text) {
    return String(text).replace(/\{/g, "{\u200b");
  }

  function drawFunnel(element, data) {
    var open = data.grades.filter(function (g) { return g.kind === "open"; });
    var weightedLabel = element.getAttribute("data-label-weighted") || "";
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", renderMode: "richText", confine: true, formatter: function (p) {
        return plainText(p.name + ": " + p.value + " \u00b7 " + weightedLabel + " " + money(p.data.weighted));
      } },
      series: [{
        type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "12%", gap: 2,
        label: { show: true, position: "inside", formatter: function (p) {
          return plainText(p.data.code + "  " + p.value + "  (" + money(p.data.weighted) + ")");
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
      tooltip: { trigger: "axis", renderMode: "richText", confine: true, formatter: function (points) {
        return points.map(function (p) { return plainText(p.name + ": " + money(p.value)); }).join("\n");
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
