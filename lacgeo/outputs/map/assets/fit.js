(function () {
  // Fit the whole area at once, clear of the layer list (right) and the legend (left) where they float
  // over the map (on a wide screen); a small control (a phone's layers button) is not counted.
  // Fitted again for paper, where the legend sits under the map.
  var map = __MAP__;
  function fit() {
    var c = map.getContainer().getBoundingClientRect();
    var left = 0, right = 0;
    var floating = map.getContainer().querySelectorAll(".leaflet-top.leaflet-right .leaflet-control");
    Array.prototype.concat.apply([], [Array.prototype.slice.call(floating),
      Array.prototype.slice.call(document.querySelectorAll(".lacgeo-legend"))]).forEach(function (el) {
      var r = el.getBoundingClientRect();
      var over = r.width > 0 && r.left < c.right && r.right > c.left && r.top < c.bottom && r.bottom > c.top;
      if (!over || r.height < 0.25 * c.height) { return; }
      if (r.left > c.left + c.width / 2) { right = Math.max(right, c.right - r.left); }
      if (r.right < c.left + c.width / 2) { left = Math.max(left, r.right - c.left); }
    });
    map.fitBounds(__BOUNDS__, {animate: false, paddingTopLeft: [left + 8, 8], paddingBottomRight: [right + 8, 8]});
  }
  fit();
  window.addEventListener("beforeprint", function () { map.invalidateSize({animate: false}); fit(); });
  window.addEventListener("afterprint", function () { map.invalidateSize({animate: false}); fit(); });
})();
