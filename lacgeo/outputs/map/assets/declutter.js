(function () {
  // Patch names are permanent labels. The "In post" names of coordinators already working stay on
  // their areas, always shown. Then the phase-1 picks: each numbered marker stays on its
  // patch and its name takes the first side of the marker where it is clear of the other picks,
  // the map's controls and the map's edge (the clearest side if none is), so a pick is never hidden.
  // Then district names, town names, the other patch names (highest need first) and the names of
  // smaller places: a label that would overlap
  // one already placed, a control, or the edge of the map is hidden until zooming in makes room.
  var map = __MAP__;
  var container = map.getContainer();
  var SIDES = ["e", "w", "s", "n", "se", "ne", "sw", "nw"];
  var SHIFTS = [0, 1, -1, 2, -2];
  // Where two picks' markers would overlap (neighbouring patches seen from afar), the later one
  // steps aside by the first of these offsets (px) that clears the markers already placed.
  var STEPS = [[0, 0], [0, -26], [26, 0], [0, 26], [-26, 0], [22, -22], [22, 22], [-22, 22], [-22, -22],
               [0, -50], [50, 0], [0, 50], [-50, 0]];

  function box(el) { return el.getBoundingClientRect(); }
  function overlap(a, b) {
    var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  }
  function outside(r, frame) { return r.width * r.height - overlap(r, frame); }
  function rank(el) { return Number(el.querySelector(".name").getAttribute("data-rank")); }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function declutter() {
    var c = box(container);
    var frame = {left: c.left + 2, top: c.top + 2, right: c.right - 2, bottom: c.bottom - 2};
    var controls = all(".leaflet-control", container).concat(all(".lacgeo-search, .lacgeo-legend"))
      .map(box).filter(function (r) { return r.width > 0 && overlap(r, frame) > 0; });
    function cost(r, placed) {
      var total = 1000 * outside(r, frame);
      controls.forEach(function (k) { total += 10 * overlap(r, k); });
      placed.forEach(function (p) { total += overlap(r, p); });
      return total;
    }
    var picks = all(".lacgeo-pick", container).sort(function (a, b) { return rank(a) - rank(b); });
    var placed = [];
    // an "In post" name stays on its area: on its point, or a line or two up or down where that is clearer
    all(".lacgeo-in-post-label .name", container).forEach(function (span) {
      span.style.visibility = "";
      span.style.marginTop = "0px";
      var high = box(span).height + 3, best = null;
      for (var k = 0; k < SHIFTS.length && !(best && best.cost === 0); k++) {
        span.style.marginTop = SHIFTS[k] * high + "px";
        var score = cost(box(span), placed);
        if (!best || score < best.cost) { best = {shift: SHIFTS[k], cost: score}; }
      }
      span.style.marginTop = best.shift * high + "px";
      placed.push(box(span));
    });
    picks.forEach(function (m) {
      var pin = m.querySelector(".pin"), name = m.querySelector(".name");
      var best = null;
      for (var i = 0; i < STEPS.length && !(best && best.cost === 0); i++) {
        pin.style.left = STEPS[i][0] + "px";
        pin.style.top = STEPS[i][1] + "px";
        var r = box(pin), score = 0;
        placed.forEach(function (p) { score += overlap(r, p); });
        if (!best || score < best.cost) { best = {step: STEPS[i], cost: score}; }
      }
      [pin, name].forEach(function (el) { el.style.left = best.step[0] + "px"; el.style.top = best.step[1] + "px"; });
      placed.push(box(pin));
    });
    picks.forEach(function (m) {
      var name = m.querySelector(".name");
      name.style.visibility = "";
      var best = null;
      name.style.marginTop = "0px";
      var high = box(name).height + 3;
      // each side of the marker, then each side again a line or two up or down
      for (var k = 0; k < SHIFTS.length && !(best && best.cost === 0); k++) {
        name.style.marginTop = SHIFTS[k] * high + "px";
        for (var i = 0; i < SIDES.length && !(best && best.cost === 0); i++) {
          name.setAttribute("data-side", SIDES[i]);
          var score = cost(box(name), placed);
          if (!best || score < best.cost) { best = {side: SIDES[i], shift: SHIFTS[k], cost: score}; }
        }
      }
      name.setAttribute("data-side", best.side);
      name.style.marginTop = best.shift * high + "px";
      placed.push(box(name));
    });
    var others = all(".lacgeo-place .name", container).concat(
      all(".lacgeo-town.town .name", container),
      all(".lacgeo-label:not(.lacgeo-pick):not(.lacgeo-in-post-label) .name", container).sort(function (a, b) {
        return Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank"));
      }),
      all(".lacgeo-town.place .name", container));
    others.forEach(function (span) {
      span.style.visibility = "";
      var r = box(span);
      if (cost(r, placed) > 0) { span.style.visibility = "hidden"; } else { placed.push(r); }
    });
  }
  map.on("zoomend moveend overlayadd overlayremove resize", declutter);
  declutter();
})();
