(function () {
  // Keyboard: the drawn shapes are not tab stops (Leaflet's tooltips make each one focusable, so a
  // keyboard user would tab through hundreds of unnamed shapes); the table of patches is their text
  // alternative. The skip link moves focus to the layer list, opening it where it is collapsed.
  var map = __MAP__;
  function quiet(el) {
    if (el && el.tagName && el.tagName.toLowerCase() === "path") { el.setAttribute("tabindex", "-1"); }
  }
  Array.prototype.forEach.call(map.getContainer().querySelectorAll("path"), quiet);
  map.on("layeradd", function (e) { if (e.layer.getElement) { quiet(e.layer.getElement()); } });

  // On paper the table of patches is printed open.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details.lacgeo-table"), function (d) { d.open = true; });
  });

  var control = map.getContainer().querySelector(".leaflet-control-layers");
  var skip = document.querySelector(".lacgeo-skip");
  if (!control || !skip) { return; }
  control.id = "lacgeo-layers";
  control.setAttribute("role", "group");
  control.setAttribute("aria-label", "Map layers");
  skip.addEventListener("click", function (ev) {
    ev.preventDefault();
    control.classList.add("leaflet-control-layers-expanded");
    var first = control.querySelector("input:checked") || control.querySelector("input");
    if (first) { first.focus(); }
  });
})();
