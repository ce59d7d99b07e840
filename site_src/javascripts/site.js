/* Densitometer glue: runs on the first page and after every instant navigation.
 * - draws every <div class="vega-chart" data-spec="..."> with vega-embed, loading the Vega
 *   libraries (javascripts/vendor/, copied from node_modules at build time) only on pages that
 *   have a chart;
 * - makes every content table sortable (tablesort), numeric columns by their data-sort value;
 * - fills every <div class="dm-live" data-src="..."> from its data file (a note, a table or a
 *   chart: what moves without the page, such as a model's capacity density).
 * Other scripts (board.js, compare.js) register with Densitometer.onEachPage and use its
 * el (build an element), getJSON and MISSING.
 */
(function () {
  "use strict";

  var here = document.currentScript ? document.currentScript.src : "";
  var base = here.replace(/javascripts\/site\.js(\?.*)?$/, "");
  var VENDOR = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"];

  // Run fn for the first page and after every instant navigation (Material's document$).
  // From file:// document$ completes without a value: fall back to DOMContentLoaded.
  function onEachPage(fn) {
    var seen = false;
    if (typeof document$ === "undefined") {
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
      else fn();
      return;
    }
    document$.subscribe({
      next: function () { seen = true; fn(); },
      complete: function () {
        if (seen) return;
        if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
        else fn();
      },
    });
  }

  var vegaReady = null;
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }
  function loadVega() {
    if (!vegaReady) {
      vegaReady = VENDOR.reduce(function (p, name) {
        return p.then(function () { return loadScript(base + "javascripts/vendor/" + name); });
      }, Promise.resolve());
    }
    return vegaReady;
  }

  var embedded = [];
  var options = {
    renderer: "svg",
    // no "Open in Vega Editor" (an outside site), no source views; keep SVG/PNG export
    actions: { export: true, source: false, compiled: false, editor: false },
  };

  function embed(el, spec) {
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    vegaEmbed(el, spec, Object.assign({ theme: dark ? "dark" : undefined }, options))
      .then(function (result) { embedded.push(result); })
      .catch(function (err) {
        el.textContent = "Chart failed to render: " + err.message;
        console.error(err);
      });
  }

  function renderCharts() {
    embedded.forEach(function (r) { r.finalize(); });
    embedded = [];
    var charts = document.querySelectorAll("div.vega-chart[data-spec]");
    if (!charts.length) return;
    loadVega().then(function () {
      charts.forEach(function (el) {
        var spec;
        try {
          spec = JSON.parse(el.dataset.spec);
        } catch (err) {
          el.textContent = "Chart spec is not valid JSON: " + err.message;
          console.error(err);
          return;
        }
        embed(el, spec);
      });
    }).catch(function (err) { console.error(err); });
  }

  // Numbers sort by data-sort (a plain decimal); empty (missing) sorts below every number.
  if (typeof Tablesort !== "undefined") {
    Tablesort.extend("dm-number", function () { return false; }, function (a, b) {
      var x = a === "" ? -Infinity : parseFloat(a);
      var y = b === "" ? -Infinity : parseFloat(b);
      return y - x;
    });
  }

  function sortableTables() {
    if (typeof Tablesort === "undefined") return;
    document.querySelectorAll("article table:not([class])").forEach(function (table) {
      if (table.closest(".dm-board") || table.closest(".dm-compare")) return;
      if (table.tHead && table.tBodies.length) new Tablesort(table);
    });
  }

  // A live block's data file (evalrunner/site/live.py): {note}, {table} or {chart}; links in
  // it are relative to the file. Text only through textContent (el).
  function liveTable(t) {
    var wrap = el("div", { "class": "dm-table-wrap", id: "table-" + t.id });
    var table = wrap.appendChild(el("table"));
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    t.columns.forEach(function (c) {
      var attrs = c.numeric ? { "data-sort-method": "dm-number", "class": "dm-num" } : {};
      if (c.help) attrs.title = c.help;
      head.appendChild(el("th", attrs, c.label));
    });
    var body = table.appendChild(el("tbody"));
    t.rows.forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      row.forEach(function (cell) {
        var attrs = {};
        if (cell.sort !== undefined) { attrs["data-sort"] = cell.sort; attrs["class"] = "dm-num"; }
        if (cell.title) attrs.title = cell.title;
        tr.appendChild(el("td", attrs, cell.text));
      });
    });
    if (typeof Tablesort !== "undefined") new Tablesort(table);
    return wrap;
  }

  function liveChart(c, url) {
    var figure = el("figure", { "class": "dm-chart" });
    var target = figure.appendChild(el("div", { "class": "vega-chart", id: "chart-" + c.id }));
    var caption = figure.appendChild(el("figcaption", {}, c.title + " \u00b7 "));
    caption.appendChild(el("a", { href: new URL(c.csv, url).href, download: "" },
                           "chart data (CSV)"));
    loadVega().then(function () { embed(target, c.spec); })
      .catch(function (err) { console.error(err); });
    return figure;
  }

  function renderLive() {
    document.querySelectorAll("div.dm-live[data-src]").forEach(function (box) {
      var url = new URL(box.dataset.src, document.baseURI).href;
      getJSON(url).then(function (doc) {
        var shown = doc.table ? liveTable(doc.table)
          : doc.chart ? liveChart(doc.chart, url)
          : el("p", { "class": "dm-note" }, doc.note);
        box.replaceChildren(shown);
      }).catch(function (err) {
        box.replaceChildren(el("p", { "class": "dm-note" }, "Could not load " + url + ": " +
                               err.message));
        console.error(err);
      });
    });
  }

  // Shared by board.js and compare.js. Text goes in through textContent, never as HTML.
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function getJSON(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  window.Densitometer = { onEachPage: onEachPage, base: base, el: el, getJSON: getJSON,
                          MISSING: "\u2014" };
  onEachPage(renderCharts);
  onEachPage(sortableTables);
  onEachPage(renderLive);
})();
