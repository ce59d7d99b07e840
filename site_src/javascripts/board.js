/* Densitometer tables rendered in the browser from compact JSON (evalrunner/site/boarddata.py):
 * the first page from the board's head file at once, every row once the complete file is in;
 * sorting (numbers by value, missing always last), filters, free-text search, column toggles,
 * pagination, and the whole state in the query string (it survives a reload and can be shared).
 * Every string from the data goes in through textContent or setAttribute, never as HTML.
 */
(function () {
  "use strict";

  var PAGE = 50;
  var SIZES = [1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12];
  var MISSING = window.Densitometer.MISSING;
  var el = window.Densitometer.el;

  function sizeLabel(n) {
    var units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i++) {
      if (n >= units[i][0]) return String(n / units[i][0]) + units[i][1];
    }
    return String(n);
  }

  function readState(doc) {
    var q = new URLSearchParams(window.location.search);
    var st = { q: q.get("q") || "", sort: q.get("sort") || doc.default_sort || null,
               dir: q.get("dir") || null, page: parseInt(q.get("p") || "1", 10) || 1,
               filters: {}, cols: null };
    doc.filters.forEach(function (f) {
      var v = q.get(f.key);
      if (v) st.filters[f.key] = v;
    });
    if (q.get("cols")) st.cols = q.get("cols").split(",");
    return st;
  }

  function writeState(doc, st) {
    var q = new URLSearchParams(window.location.search);
    ["q", "sort", "dir", "p", "cols"].concat(doc.filters.map(function (f) { return f.key; }))
      .forEach(function (k) { q.delete(k); });
    if (st.q) q.set("q", st.q);
    if (st.sort && st.sort !== doc.default_sort) q.set("sort", st.sort);
    if (st.dir) q.set("dir", st.dir);
    if (st.page > 1) q.set("p", String(st.page));
    Object.keys(st.filters).sort().forEach(function (k) {
      if (st.filters[k]) q.set(k, st.filters[k]);
    });
    if (st.cols) q.set("cols", st.cols.join(","));
    var search = q.toString();
    var url = window.location.pathname + (search ? "?" + search : "") + window.location.hash;
    window.history.replaceState(window.history.state, "", url);
  }

  function Board(root, doc) {
    this.root = root;
    this.doc = doc;
    this.base = root.getAttribute("data-root") || "";
    this.idx = {};
    var self = this;
    doc.fields.forEach(function (f, i) { self.idx[f] = i; });
    this.cols = doc.columns;
    this.st = readState(doc);
    this.build();
    this.render();
  }

  Board.prototype.get = function (row, key) {
    var i = this.idx[key];
    return i === undefined ? null : row[i];
  };

  Board.prototype.visible = function () {
    var st = this.st;
    return this.cols.filter(function (c) {
      return st.cols ? st.cols.indexOf(c.key) >= 0 : !c.hidden;
    });
  };

  // While only the head (first page) of a big board is loaded, the complete rows follow.
  Board.prototype.partial = function () {
    return this.doc.total !== undefined && this.doc.total > this.doc.rows.length;
  };

  Board.prototype.replace = function (doc) {
    var self = this;
    this.doc = doc;
    this.idx = {};
    doc.fields.forEach(function (f, i) { self.idx[f] = i; });
    this.cols = doc.columns;
    this.build();
    this.render();
  };

  Board.prototype.defaultDir = function (key) {
    if (key === this.doc.default_sort && this.doc.default_dir) return this.doc.default_dir;
    if (key === "rank" || key === "name" || key === "family_name") return "asc";
    var c = this.cols.filter(function (x) { return x.key === key; })[0];
    return c && c.type === "num" ? "desc" : "asc";
  };

  Board.prototype.changed = function (resetPage) {
    if (resetPage) this.st.page = 1;
    writeState(this.doc, this.st);
    this.render();
  };

  Board.prototype.build = function () {
    var self = this, doc = this.doc, st = this.st;
    this.root.textContent = "";
    var controls = el("div", { "class": "dm-controls" });
    var search = el("input", { type: "search", placeholder: "Search models, families…",
                               "aria-label": "Search", "class": "dm-search" });
    search.value = st.q;
    search.addEventListener("input", function () { st.q = search.value; self.changed(true); });
    controls.appendChild(search);

    doc.filters.forEach(function (f) {
      var box = el("span", { "class": "dm-filter", "data-filter": f.key });
      box.appendChild(el("span", { "class": "dm-filter-label" }, f.label + ": "));
      var values = self.values(f.key);
      if (f.kind === "select") {
        var sel = el("select", { "aria-label": f.label, name: f.key });
        sel.appendChild(el("option", { value: "" }, "all"));
        values.forEach(function (v) { sel.appendChild(el("option", { value: v }, v)); });
        sel.value = st.filters[f.key] || "";
        sel.addEventListener("change", function () {
          st.filters[f.key] = sel.value; self.changed(true);
        });
        box.appendChild(sel);
      } else if (f.kind === "check") {
        var chosen = (st.filters[f.key] || "").split(",").filter(Boolean);
        values.forEach(function (v) {
          var lab = el("label", { "class": "dm-check" });
          var cb = el("input", { type: "checkbox", value: v, name: f.key });
          cb.checked = chosen.indexOf(v) >= 0;
          cb.addEventListener("change", function () {
            var now = Array.prototype.slice.call(
              box.querySelectorAll("input:checked")).map(function (x) { return x.value; });
            st.filters[f.key] = now.join(","); self.changed(true);
          });
          lab.appendChild(cb);
          lab.appendChild(document.createTextNode(" " + v));
          box.appendChild(lab);
        });
      } else if (f.kind === "range") {
        var parts = (st.filters[f.key] || "..").split("..");
        ["min", "max"].forEach(function (end, i) {
          var s = el("select", { "aria-label": f.label + " " + end, name: f.key + "_" + end });
          s.appendChild(el("option", { value: "" }, end === "min" ? "any" : "any"));
          SIZES.forEach(function (n) {
            s.appendChild(el("option", { value: String(n) }, sizeLabel(n)));
          });
          s.value = parts[i] || "";
          s.addEventListener("change", function () {
            var p = (st.filters[f.key] || "..").split("..");
            p[i] = s.value;
            st.filters[f.key] = p[0] || p[1] ? p[0] + ".." + p[1] : "";
            self.changed(true);
          });
          box.appendChild(s);
          if (end === "min") box.appendChild(document.createTextNode(" to "));
        });
      }
      controls.appendChild(box);
    });

    var toggles = el("details", { "class": "dm-columns" });
    toggles.appendChild(el("summary", {}, "Columns"));
    this.cols.forEach(function (c) {
      var lab = el("label", { "class": "dm-check" });
      var cb = el("input", { type: "checkbox", value: c.key, name: "col" });
      cb.checked = self.visible().indexOf(c) >= 0;
      cb.addEventListener("change", function () {
        st.cols = Array.prototype.slice.call(toggles.querySelectorAll("input:checked"))
          .map(function (x) { return x.value; });
        self.changed(false);
      });
      lab.appendChild(cb);
      lab.appendChild(document.createTextNode(" " + c.label));
      toggles.appendChild(lab);
    });
    controls.appendChild(toggles);
    this.root.appendChild(controls);
    if (doc.note) this.root.appendChild(el("p", { "class": "dm-board-note" }, doc.note));
    this.status = el("p", { "class": "dm-status", "aria-live": "polite" });
    this.root.appendChild(this.status);
    var wrap = el("div", { "class": "dm-table-wrap" });
    this.table = el("table");
    wrap.appendChild(this.table);
    this.root.appendChild(wrap);
    this.pager = el("nav", { "class": "dm-pager", "aria-label": "Pages" });
    this.root.appendChild(this.pager);
  };

  Board.prototype.values = function (key) {
    var self = this, seen = {};
    this.doc.rows.forEach(function (r) {
      var v = self.get(r, key);
      if (v !== null && v !== undefined && v !== "") seen[v] = true;
    });
    return Object.keys(seen).sort(function (a, b) { return a.localeCompare(b); });
  };

  Board.prototype.rows = function () {
    var self = this, st = this.st, doc = this.doc;
    var q = st.q.trim().toLowerCase();
    var rows = doc.rows.filter(function (r) {
      if (q) {
        var hay = ["name", "family_name", "id"].map(function (k) {
          return String(self.get(r, k) || "");
        }).join(" ").toLowerCase();
        if (hay.indexOf(q) < 0) return false;
      }
      return doc.filters.every(function (f) {
        var want = st.filters[f.key];
        if (!want) return true;
        var v = self.get(r, f.key);
        if (f.kind === "select") return String(v) === want;
        if (f.kind === "check") return want.split(",").indexOf(String(v)) >= 0;
        var p = want.split("..");
        if (v === null) return false;
        if (p[0] && v < parseFloat(p[0])) return false;
        if (p[1] && v > parseFloat(p[1])) return false;
        return true;
      });
    });
    var key = st.sort, col = this.cols.filter(function (c) { return c.key === key; })[0];
    if (col) {
      var dir = (st.dir || this.defaultDir(key)) === "asc" ? 1 : -1;
      rows = rows.slice().sort(function (a, b) {
        var x = self.get(a, key), y = self.get(b, key);
        if (x === null && y === null) return 0;
        if (x === null) return 1;  // missing always last
        if (y === null) return -1;
        if (col.type === "num") return (x - y) * dir;
        return String(x).localeCompare(String(y)) * dir;
      });
    }
    return rows;
  };

  Board.prototype.cell = function (row, c) {
    var v = this.get(row, c.key);
    var td = el("td");
    var text;
    if (c.text) text = this.get(row, c.text);
    else if (v === null || v === undefined || v === "") text = MISSING;
    else if (c.type === "num") text = Number(v).toFixed(c.digits || 0);
    else text = v;
    if (text === null || text === undefined) text = MISSING;
    if (c.type === "num") {
      td.className = "dm-num";
      td.setAttribute("data-sort", v === null ? "" : String(v));
    }
    if (c.err) {
      var err = this.get(row, c.err);
      if (err) td.setAttribute("title", err);
    }
    if (c.link === "model" || c.link === "family") {
      var id = c.link === "model" ? this.get(row, "id") : this.get(row, "family");
      var a = el("a", { href: this.base + (c.link === "model" ? "models/" : "families/") +
                        encodeURIComponent(id) + "/" }, text);
      td.appendChild(a);
    } else if (c.key === "tier") {
      td.appendChild(el("span", { "class": "dm-tier dm-tier-" + String(v) }, text));
    } else {
      td.textContent = String(text);
    }
    return td;
  };

  Board.prototype.render = function () {
    var self = this, st = this.st;
    var cols = this.visible();
    var rows = this.rows();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    var partial = this.partial();
    if (st.page > pages && !partial) st.page = pages;  // a page of the complete rows: keep it
    var page = Math.min(st.page, pages);
    var shown = rows.slice((page - 1) * PAGE, page * PAGE);

    var thead = el("thead"), tr = el("tr");
    cols.forEach(function (c) {
      var th = el("th", { scope: "col", tabindex: "0", "data-key": c.key });
      if (c.help) th.setAttribute("title", c.help);
      if (c.type === "num") th.className = "dm-num";
      th.textContent = c.label;
      if (st.sort === c.key) {
        var dir = st.dir || self.defaultDir(c.key);
        th.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
      }
      var sort = function () {
        if (st.sort === c.key) {
          st.dir = (st.dir || self.defaultDir(c.key)) === "asc" ? "desc" : "asc";
        } else {
          st.sort = c.key; st.dir = null;
        }
        self.changed(true);
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    var tbody = el("tbody");
    shown.forEach(function (r) {
      var row = el("tr", { "data-id": String(self.get(r, "id")) });
      var tier = self.get(r, "tier");
      if (tier) row.className = "dm-row-" + tier;
      cols.forEach(function (c) { row.appendChild(self.cell(r, c)); });
      tbody.appendChild(row);
    });
    this.table.textContent = "";
    this.table.appendChild(thead);
    this.table.appendChild(tbody);
    this.status.textContent = partial
      ? "The first " + this.doc.rows.length + " of " + this.doc.total + " rows; loading the rest…"
      : rows.length + " of " + this.doc.rows.length + " rows" +
        (pages > 1 ? ", page " + page + " of " + pages : "");

    this.pager.textContent = "";
    if (pages > 1) {
      var go = function (p, label) {
        var b = el("button", { type: "button", "class": "md-button" }, label);
        if (p < 1 || p > pages || p === page) b.disabled = true;
        b.addEventListener("click", function () { st.page = p; self.changed(false); });
        self.pager.appendChild(b);
      };
      go(1, "« first"); go(page - 1, "‹ previous"); go(page + 1, "next ›");
      go(pages, "last »");
    }
  };

  function init() {
    document.querySelectorAll("div.dm-board[data-src]").forEach(function (root) {
      if (root.dataset.ready) return;
      root.dataset.ready = "1";
      var src = new URL(root.getAttribute("data-src"), window.location.href).href;
      window.Densitometer.getJSON(src)
        .then(function (doc) {
          root.board = new Board(root, doc);
          if (!root.board.partial()) return null;
          return window.Densitometer.getJSON(new URL(doc.full, src).href)
            .then(function (full) { root.board.replace(full); });
        })
        .catch(function (err) {
          root.textContent = window.location.protocol === "file:"
            ? "Browsers do not load data files from file:// pages: serve the site instead " +
              "(densitometer serve), or use the downloads below."
            : "The table could not be loaded (" + err.message + ").";
          console.error(err);
        });
    });
  }

  window.Densitometer.onEachPage(init);
})();
