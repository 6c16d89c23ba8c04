
(function () {
  function declutter() {
    var spans = Array.prototype.slice.call(document.querySelectorAll(".lacgeo-label span"));
    spans.sort(function (a, b) { return Number(a.dataset.rank) - Number(b.dataset.rank); });
    var placed = [];
    spans.forEach(function (span) {
      span.style.visibility = "";
      var r = span.getBoundingClientRect();
      var clash = placed.some(function (p) {
        return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
      });
      if (clash) { span.style.visibility = "hidden"; } else { placed.push(r); }
    });
  }
  __MAP__.on("zoomend moveend overlayadd", declutter);
  declutter();
})();
