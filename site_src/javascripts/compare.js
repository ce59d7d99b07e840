/* Densitometer compare view: 2-4 models or revisions side by side in one setting, per-task
 * differences with the overlap of their 95% intervals; the selection lives in the query string
 * (?s=<setting>&m=<model>[@<revision>]&m=...). Data: data/compare.json and data/models/<id>.json.
 * Strings from the data are inserted with textContent only.
 */
(function () {
  "use strict";

  var MISSING = window.Densitometer.MISSING;
  var el = window.Densitometer.el;
  var getJSON = window.Densitometer.getJSON;

  function Compare(root, index) {
    this.root = root;
    this.index = index;
    this.base = root.getAttribute("data-root") || "";
    this.max = parseInt(root.getAttribute("data-max") || "4", 10);
    this.cache = {};
    var q = new URLSearchParams(window.location.search);
    this.items = q.getAll("m").slice(0, this.max).map(function (x) {
      var p = x.split("@");
      return { model: p[0], revision: p[1] || null };
    });
    var settings = Object.keys(index.settings);
    this.setting = q.get("s") || settings[0];
    this.build();
    this.refresh();
  }

  Compare.prototype.save = function () {
    var q = new URLSearchParams();
    q.set("s", this.setting);
    this.items.forEach(function (it) {
      q.append("m", it.model + (it.revision ? "@" + it.revision : ""));
    });
    window.history.replaceState(window.history.state, "",
                                window.location.pathname + "?" + q.toString());
  };

  Compare.prototype.build = function () {
    var self = this;
    this.root.textContent = "";
    var controls = el("div", { "class": "dm-controls" });
    var lab = el("label", {}, "Setting: ");
    var sel = el("select", { name: "setting", "aria-label": "Setting" });
    Object.keys(this.index.settings).forEach(function (s) {
      sel.appendChild(el("option", { value: s }, self.index.settings[s]));
    });
    sel.value = this.setting;
    sel.addEventListener("change", function () {
      self.setting = sel.value;
      self.items.forEach(function (it) { it.revision = null; });
      self.refresh();
    });
    lab.appendChild(sel);
    controls.appendChild(lab);

    var listId = "dm-compare-models";
    var list = el("datalist", { id: listId });
    this.byLabel = {};
    this.index.models.forEach(function (m) {
      var label = m[1] + " (" + m[2] + ")";
      self.byLabel[label] = m[0];
      self.byLabel[m[0]] = m[0];
      list.appendChild(el("option", { value: label }));
    });
    var add = el("input", { type: "search", list: listId, name: "add",
                            placeholder: "Add a model…", "aria-label": "Add a model" });
    add.addEventListener("change", function () {
      var id = self.byLabel[add.value];
      if (id && self.items.length < self.max) {
        self.items.push({ model: id, revision: null });
        add.value = "";
        self.refresh();
      }
    });
    controls.appendChild(add);
    controls.appendChild(list);
    this.root.appendChild(controls);
    this.status = el("p", { "class": "dm-status", "aria-live": "polite" });
    this.root.appendChild(this.status);
    var wrap = el("div", { "class": "dm-table-wrap" });
    this.table = el("table", { id: "dm-compare-table" });
    wrap.appendChild(this.table);
    this.root.appendChild(wrap);
  };

  Compare.prototype.load = function (id) {
    if (!this.cache[id]) {
      this.cache[id] = getJSON(this.base + "data/models/" + encodeURIComponent(id) + ".json");
    }
    return this.cache[id];
  };

  Compare.prototype.refresh = function () {
    var self = this;
    this.save();
    Promise.all(this.items.map(function (it) {
      return self.load(it.model).catch(function () { return null; });
    })).then(function (docs) { self.render(docs); });
  };

  Compare.prototype.render = function (docs) {
    var self = this, tasks = this.index.tasks, z = this.index.z;
    var cols = this.items.map(function (it, i) {
      var doc = docs[i];
      var s = doc && doc.settings[self.setting];
      if (s && !it.revision) {
        var finals = s.revisions.filter(function (r) { return r[3]; });
        var pick = (finals.length ? finals : s.revisions);
        it.revision = pick[pick.length - 1][0];
      }
      return { item: it, doc: doc, s: s, scores: s ? (s.scores[it.revision] || {}) : {} };
    });
    this.save();
    this.status.textContent = this.items.length < 2
      ? "Add at least two models (or pick two revisions of one model) to compare."
      : this.items.length + " columns; Δ is the difference to the first column, in points.";

    var thead = el("thead"), head = el("tr");
    head.appendChild(el("th", { scope: "col" }, "Task"));
    cols.forEach(function (c, i) {
      var th = el("th", { scope: "col", "class": "dm-compare-col" });
      var name = c.doc ? c.doc.name : c.item.model;
      if (c.doc) {
        th.appendChild(el("a", { href: self.base + "models/" + encodeURIComponent(c.doc.id) +
                                 "/" }, name));
      } else {
        th.appendChild(document.createTextNode(name + " (unknown)"));
      }
      if (c.s) {
        var rs = el("select", { "aria-label": "Revision of " + name, name: "rev" + i });
        c.s.revisions.forEach(function (r) {
          rs.appendChild(el("option", { value: r[0] },
                            r[0] + (r[2] && r[2] !== MISSING ? " (" + r[2] + " tokens)" : "")));
        });
        rs.value = c.item.revision;
        rs.addEventListener("change", function () { c.item.revision = rs.value; self.refresh(); });
        th.appendChild(el("br"));
        th.appendChild(rs);
      } else {
        th.appendChild(el("div", { "class": "dm-note" }, "not evaluated in this setting"));
      }
      var rm = el("button", { type: "button", "class": "dm-remove",
                              "aria-label": "Remove " + name }, "×");
      rm.addEventListener("click", function () { self.items.splice(i, 1); self.refresh(); });
      th.appendChild(rm);
      head.appendChild(th);
      if (i > 0) head.appendChild(el("th", { scope: "col", "class": "dm-num" }, "Δ"));
    });
    thead.appendChild(head);

    var present = {};
    cols.forEach(function (c) { Object.keys(c.scores).forEach(function (t) { present[t] = 1; }); });
    var ids = Object.keys(present).sort(function (a, b) {
      var pa = tasks[a] && tasks[a][1] ? 1 : 0, pb = tasks[b] && tasks[b][1] ? 1 : 0;
      return pa - pb || a.localeCompare(b);
    });
    var tbody = el("tbody");
    ids.forEach(function (t) {
      var tr = el("tr");
      var name = tasks[t] ? tasks[t][0] : t;
      var td = el("td");
      td.appendChild(el("a", { href: self.base + "tasks/" + encodeURIComponent(t) + "/" }, name));
      tr.appendChild(td);
      var first = cols.length ? cols[0].scores[t] : null;
      cols.forEach(function (c, i) {
        var v = c.scores[t];
        tr.appendChild(el("td", { "class": "dm-num" }, v ? v[0].toFixed(1) +
                          (v[1] !== null ? " \u00b1 " + v[1].toFixed(1) : "") : MISSING));
        if (i === 0) return;
        var cell = el("td", { "class": "dm-num" });
        if (v && first) {
          var d = v[0] - first[0];
          var overlap = v[1] !== null && first[1] !== null
            ? Math.abs(d) <= z * (v[1] + first[1]) : null;
          cell.textContent = (d > 0 ? "+" : "") + d.toFixed(1);
          if (overlap === true) {
            cell.className += " dm-overlap";
            cell.setAttribute("title", "95% intervals overlap: not distinguishable");
            cell.textContent += " \u2248";
          } else if (overlap === false) {
            var lower = tasks[t] && tasks[t][2] === "lower";  // a loss: lower is better
            cell.className += (d > 0) !== lower ? " dm-better" : " dm-worse";
            cell.setAttribute("title", "95% intervals do not overlap");
          }
        } else {
          cell.textContent = MISSING;
        }
        tr.appendChild(cell);
      });
      tbody.appendChild(tr);
    });
    this.table.textContent = "";
    this.table.appendChild(thead);
    this.table.appendChild(tbody);
  };

  function init() {
    document.querySelectorAll("div.dm-compare[data-src]").forEach(function (root) {
      if (root.dataset.ready) return;
      root.dataset.ready = "1";
      getJSON(root.getAttribute("data-src"))
        .then(function (index) { root.compare = new Compare(root, index); })
        .catch(function (err) {
          root.textContent = "The compare view could not be loaded (" + err.message + ").";
          console.error(err);
        });
    });
  }

  window.Densitometer.onEachPage(init);
})();
