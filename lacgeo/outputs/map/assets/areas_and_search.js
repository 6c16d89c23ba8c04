
(function () {
  var map = __MAP__;
  var data = __DATA__;
  var shadings = __SHADINGS__;
  var layers = [__LAYERS__];
  var patchLayers = [__PATCH_LAYERS__];
  var places = __PLACES__;
  var maxResults = __MAX_RESULTS__;

  function details(p, k) {
    var rows = shadings[k].map(function (row) {
      var value = typeof row[1] === "number" ? p.v[row[1]] : p[row[1]];
      return "<tr><th>" + row[0] + "</th><td>" + (value === null || value === undefined ? "" : value) + "</td></tr>";
    });
    return "<table>" + rows.join("") + "</table>";
  }

  layers.forEach(function (layer, k) {
    layer.options.style = function (f) {
      return {fillColor: f.properties.fill[k], color: "#777777", weight: 0.4, fillOpacity: __FILL_OPACITY__};
    };
    layer.addData(data);
    layer.bindTooltip(function (sub) { return details(sub.feature.properties, k); },
                      {sticky: true, className: "foliumtooltip"});
  });

  function shown() {
    for (var k = 0; k < layers.length; k++) {
      if (map.hasLayer(layers[k])) { return k; }
    }
    return 0;
  }

  var sections = Array.prototype.slice.call(document.querySelectorAll(".lacgeo-legend [data-shading]"));
  function showLegend() {
    var k = shown();
    sections.forEach(function (s) { s.hidden = Number(s.getAttribute("data-shading")) !== k; });
  }
  map.on("baselayerchange", showLegend);
  showLegend();

  // --- place search: names arrive escaped; they are shown with textContent, never as markup
  var decoder = document.createElement("textarea");
  function plain(s) { decoder.innerHTML = s; return decoder.value; }
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  var kinds = [];
  places.forEach(function (e) {
    e.text = plain(e.n);
    e.label = plain(e.l);
    e.key = fold(e.text + " " + plain(e.c));
    if (kinds.indexOf(e.k) < 0) { kinds.push(e.k); }
  });

  var input = document.getElementById("lacgeo-search-input");
  var list = document.getElementById("lacgeo-search-results");
  var status = document.getElementById("lacgeo-search-status");
  var found = [];

  function search(query) {
    var terms = fold(query).split(/\s+/).filter(function (t) { return t.length > 0; });
    if (terms.join("").length < 2) { return []; }
    var hits = [];
    places.forEach(function (e) {
      if (!terms.every(function (t) { return e.key.indexOf(t) >= 0; })) { return; }
      var at = e.key.indexOf(terms[0]);
      var quality = at === 0 ? 0 : (/[\s(,&'-]/.test(e.key.charAt(at - 1)) ? 1 : 2);
      hits.push({e: e, q: quality});
    });
    hits.sort(function (a, b) {
      return a.q - b.q || kinds.indexOf(a.e.k) - kinds.indexOf(b.e.k) || (a.e.text < b.e.text ? -1 : 1);
    });
    return hits.map(function (h) { return h.e; });
  }

  function buttons() { return Array.prototype.slice.call(list.querySelectorAll("button")); }

  function update() {
    found = search(input.value);
    list.textContent = "";
    found.slice(0, maxResults).forEach(function (e) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = e.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = " (" + e.k + ")";
      button.appendChild(kind);
      button.addEventListener("click", function () { choose(e, button); });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (input.value.trim() === "") {
      status.textContent = "";
    } else if (found.length === 0) {
      status.textContent = fold(input.value).trim().length < 2 ? "Type at least 2 letters." : "No place matches.";
    } else if (found.length > maxResults) {
      status.textContent = "Showing " + maxResults + " of " + found.length + " places: type more to narrow the list.";
    } else {
      status.textContent = found.length + (found.length === 1 ? " place matches." : " places match.");
    }
  }

  // a patch's tooltip content (bound to its layer) for the patch, from a patch layer that is shown
  function patchDetails(id) {
    var content = null;
    patchLayers.forEach(function (layer) {
      if (content || !map.hasLayer(layer) || !layer.getTooltip()) { return; }
      layer.eachLayer(function (sub) {
        if (content || !sub.feature || sub.feature.properties.id !== id) { return; }
        var tip = layer.getTooltip().getContent();
        content = typeof tip === "function" ? tip(sub) : tip;
      });
    });
    return content;
  }

  function choose(e, button) {
    map.fitBounds(e.b, {animate: false, maxZoom: 16, padding: [24, 24]});
    var content = null;
    if (e.a >= 0) {
      content = details(data.features[e.a].properties, shown());
    } else if (e.t) {
      content = patchDetails(e.t);
    }
    if (!content) {
      content = "<strong>" + e.n + "</strong><br>" + e.d;
    }
    L.popup({maxWidth: 360, className: "lacgeo-found"}).setLatLng(e.p).setContent(content).openOn(map);
    buttons().forEach(function (b) { b.removeAttribute("aria-current"); });
    if (button) { button.setAttribute("aria-current", "true"); }
    status.textContent = "Showing " + e.label + " (" + e.k + ") on the map.";
  }

  input.addEventListener("input", update);
  input.addEventListener("keydown", function (ev) {
    var all = buttons();
    if (ev.key === "ArrowDown" && all.length) { ev.preventDefault(); all[0].focus(); }
    if (ev.key === "Enter" && found.length) { ev.preventDefault(); choose(found[0], all[0]); }
    if (ev.key === "Escape") { input.value = ""; update(); }
  });
  list.addEventListener("keydown", function (ev) {
    var all = buttons();
    var at = all.indexOf(document.activeElement);
    if (at < 0) { return; }
    if (ev.key === "ArrowDown" && at < all.length - 1) { ev.preventDefault(); all[at + 1].focus(); }
    if (ev.key === "ArrowUp") { ev.preventDefault(); (at > 0 ? all[at - 1] : input).focus(); }
    if (ev.key === "Escape") { ev.preventDefault(); input.focus(); }
  });
})();
