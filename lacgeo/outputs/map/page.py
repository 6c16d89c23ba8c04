"""The page around the folium map: one self-contained ``map.html`` that draws offline.

Leaflet's script and stylesheet are inlined from the copies vendored in ``lacgeo/vendor/``
(pinned versions, with their licences; the stylesheet's images become data: URIs), there
are no background tiles, and rendering refuses anything that would be loaded from the
network. Element ids come from a counter, so the same run writes a byte-identical page.
"""

from __future__ import annotations

import base64
import functools
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import folium
from branca.element import Element, Figure, Link
from folium.template import Template

from ...load import ATTRIBUTION
from ..assets import vendor_bytes
from ..escape import escape_text
from .widgets import PAGE_CSS, WIDGET_CSS

LEAFLET_VERSION = "1.9.4"  # lacgeo/vendor/leaflet/, from the npm registry; see lacgeo/vendor/README.md

NARROW = "(max-width: 640px)"  # the page's phone layout (map_widgets.PAGE_CSS) starts here
_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE)


# --- vendored assets -------------------------------------------------------------------------


def _inline_safe(text: str, *, tag: str, source: str) -> str:
    """Refuse vendored text that would end its inline <script>/<style> element early."""
    if re.search(rf"</{tag}|<!--", text, re.IGNORECASE):
        raise ValueError(f"{source} contains '</{tag}' or '<!--' and cannot be inlined in map.html")
    return text


@functools.cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet, the stylesheet's images made data: URIs."""
    js = vendor_bytes("leaflet", "leaflet.js").decode("utf-8")
    css = vendor_bytes("leaflet", "leaflet.css").decode("utf-8")

    def data_uri(match: re.Match) -> str:
        name = match.group(1)
        payload = base64.b64encode(vendor_bytes("leaflet", "images", name)).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    if "url(images/" in css:  # pragma: no cover - a new Leaflet image not vendored yet
        raise ValueError("leaflet.css refers to an image that is not vendored in lacgeo/vendor/leaflet/images/")
    return (
        _inline_safe(js, tag="script", source="vendor/leaflet/leaflet.js"),
        _inline_safe(css, tag="style", source="vendor/leaflet/leaflet.css"),
    )


def content_policy(tiles: str = "") -> str:
    """The page's Content-Security-Policy: inline script and style only, images from data: URIs, no
    connections; with a basemap, images from ``tiles`` (one origin, such as https://tile.openstreetmap.org)."""
    images = f"data: {tiles}" if tiles else "data:"
    return (
        f"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src {images}; "
        "base-uri 'none'; form-action 'none'"
    )


class _Raw(Element):
    """Markup put in the page exactly as given: never compiled as a Jinja template."""

    def __init__(self, markup: str):
        super().__init__()
        self._markup = markup

    def render(self, **kwargs) -> str:
        return self._markup


class Page(Figure):
    """The whole ``map.html``: an accessible page around the folium map.

    ``lang``, a title, a zoomable viewport, a content security policy, the inlined Leaflet assets, a skip
    link, a short heading (``summary``), the map with its place search and legend, then the words on how
    to read it (``about``) and a table of the patches: on a phone the map starts within the first
    screen. Rendering refuses any script or stylesheet that would be loaded from the network.
    """

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="{{ this.policy }}">\n'
        "<title>{{ this.page_title }}</title>\n"
        '<link rel="icon" href="data:,">\n'
        "{{ this.header.render(**kwargs) }}\n"
        "<style>{{ this.page_css }}</style>\n"
        "</head>\n"
        "<body>\n"
        "{{ this.skip }}\n"
        '<header class="lacgeo-header">{{ this.summary }}</header>\n'
        "<main>\n"
        '<div class="lacgeo-map-wrap" role="region" aria-label="Map of the patches">\n'
        "{{ this.html.render(**kwargs) }}\n"
        "{{ this.search }}\n"
        "{{ this.legend }}\n"
        "</div>\n"
        '<section class="lacgeo-about" aria-label="About this map">{{ this.about }}</section>\n'
        "{{ this.table }}\n"
        "</main>\n"
        '<footer class="lacgeo-credits"><p>{{ this.credits }}</p></footer>\n'
        "<script>\n"
        "{{ this.script.render(**kwargs) }}\n"
        "{{ this.after_script }}\n"
        "</script>\n"
        "</body>\n"
        "</html>\n"
    )

    def __init__(
        self,
        *,
        title: str,
        summary: str,
        about: str,
        legend: str,
        table: str,
        search: str = "",
        skip: str = "",
        tiles: str = "",
    ):
        super().__init__()
        self._name = "Page"
        self.header._children.clear()  # Figure's http-equiv charset; the template sets charset itself
        js, css = _leaflet_assets()
        license_note = f"<!-- Leaflet {LEAFLET_VERSION} (BSD-2-Clause), inlined from lacgeo/vendor/leaflet -->"
        self.header.add_child(_Raw(f"{license_note}\n<style>\n{css}\n</style>"), name="leaflet_css")
        self.header.add_child(_Raw(f"<script>\n{js}\n</script>"), name="leaflet_js")
        self.page_title = escape_text(title)
        self.page_css = PAGE_CSS + WIDGET_CSS
        self.summary = summary
        self.about = about
        self.skip = skip
        self.policy = content_policy(tiles)
        self.legend = legend
        self.table = table
        self.search = search
        self.credits = escape_text(ATTRIBUTION)
        self.after_script = ""

    def render(self, **kwargs) -> str:
        for child in self._children.values():
            child.render(**kwargs)
        remote = [f"{name} ({child.url})" for name, child in self.header._children.items() if isinstance(child, Link)]
        if remote:
            raise ValueError(f"map.html must draw offline, but would load {', '.join(remote)} from the network")
        page = self._template.render(this=self, kwargs=kwargs)
        # folium's map header disables pinch zoom (user-scalable=no, maximum-scale); keep only ours.
        first = _VIEWPORT.search(page)
        return page[: first.end()] + _VIEWPORT.sub("", page[first.end() :])


class _SequentialIds:
    """Element ids from a counter instead of folium's random ones, so the same run writes a
    byte-identical map.html. Active only while a map is built or saved (single-threaded)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    @contextmanager
    def active(self) -> Iterator[None]:
        original = Element.__dict__["_generate_id"]
        Element._generate_id = classmethod(lambda cls: f"{next(self._counter):032x}")
        try:
            yield
        finally:
            Element._generate_id = original


class OfflineMap(folium.Map):
    """A folium map that adds no CDN links: the page inlines what it needs."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []
    ids: _SequentialIds | None = None

    def save(self, outfile, close_file: bool = True, **kwargs) -> None:  # noqa: ANN001 - folium's signature
        if self.ids is None:
            return super().save(outfile, close_file=close_file, **kwargs)
        with self.ids.active():
            return super().save(outfile, close_file=close_file, **kwargs)


def stable_ids(build: Callable[..., OfflineMap]) -> Callable[..., OfflineMap]:
    """Build (and later save) the map with counter ids: same inputs, byte-identical page."""

    @functools.wraps(build)
    def wrapper(*args, **kwargs) -> OfflineMap:
        ids = _SequentialIds()
        with ids.active():
            fmap = build(*args, **kwargs)
        fmap.ids = ids
        return fmap

    return wrapper
