"""map.html as a councillor reads it: on a laptop, on a phone, from the keyboard, in greyscale.

Every phase-1 pick is numbered and named where nothing hides it, at 1366x768 and at 390x844;
on a phone the map starts within the first screen and nothing scrolls sideways; the layer list
is a few Tab presses from the top; axe-core finds nothing at either size; legends and need
profiles speak in words; the optional OpenStreetMap background is the only thing the page
may load, and only when asked for.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import lacgeo
from lacgeo.config import config_from_dict
from lacgeo.outputs import map as maps
from lacgeo.outputs.escape import escape_text
from lacgeo.schema import PATCH_NAME, PHASE, RANK, WGS84

from .test_maps import _map_view, axe_violations, open_map  # noqa: F401 - open_map is a fixture

MAP_JS = "window[document.querySelector('.folium-map').id]"
FAST = {"recommend": {"robustness_draws": 0}}
DESKTOP = (1366, 768)
PHONE = (390, 844)

# Each pick's name and number: shown, inside the map, overlapped by no other label, and on top
# where it is (probed at its corners and centre, its pointer events switched on for the probe).
PICK_LABELS = """() => {
    const map = document.querySelector('.folium-map').getBoundingClientRect();
    const shown = (e) => getComputedStyle(e).visibility !== 'hidden' && e.getBoundingClientRect().width > 0;
    const selector = '.lacgeo-label .name, .lacgeo-place .name, .lacgeo-town .name, .lacgeo-pick .pin';
    const labels = [...document.querySelectorAll(selector)].filter(shown);
    const hit = (a, b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
    const within = (r) => r.left >= map.left && r.right <= map.right && r.top >= map.top && r.bottom <= map.bottom;
    return [...document.querySelectorAll('.lacgeo-pick')].map((m) => {
        const name = m.querySelector('.name'), pin = m.querySelector('.pin');
        const r = name.getBoundingClientRect(), p = pin.getBoundingClientRect();
        name.style.pointerEvents = 'auto';
        const probes = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2],
                        [r.right - 2, r.bottom - 2], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
        const covered = probes.filter(([x, y]) => {
            const e = document.elementFromPoint(x, y);
            return !(e && (e === name || name.contains(e)));
        }).length;
        name.style.pointerEvents = '';
        return {
            name: name.textContent, number: pin.textContent, shown: shown(name) && shown(pin),
            inside: within(r) && within(p), covered: covered,
            overlapped: labels.filter((o) => o !== name && o !== pin && hit(o.getBoundingClientRect(), r))
                .map((o) => o.textContent),
        };
    });
}"""


def _picks(patches: pd.DataFrame) -> list[str]:
    return patches[patches[PHASE] == 1].sort_values(RANK)[PATCH_NAME].tolist()


def _assert_picks_readable(page, patches: pd.DataFrame) -> None:
    found = page.evaluate(PICK_LABELS)
    picks = _picks(patches)
    assert [f["name"] for f in sorted(found, key=lambda f: int(f["number"]))] == picks
    assert sorted(int(f["number"]) for f in found) == list(range(1, len(picks) + 1))
    for f in found:
        assert f["shown"] and f["inside"] and f["covered"] == 0 and f["overlapped"] == [], f


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("which", ["solihull", "wiltshire"])
def test_every_pick_is_numbered_and_named_where_nothing_hides_it(
    open_map,  # noqa: F811
    viewport,
    which,
    solihull_run,
    solihull_out,
    synthetic_run,
    synthetic_out,
):
    run, out = (solihull_run, solihull_out) if which == "solihull" else (synthetic_run, synthetic_out)
    opened = open_map(out / "map.html", viewport=viewport)
    page = opened.page
    _assert_picks_readable(page, run.patches)
    # zoomed in on the first pick, and out again: still named, still clear
    page.evaluate(
        "() => { const m = window[document.querySelector('.folium-map').id]; m.zoomIn(2, {animate: false}); }"
    )
    page.evaluate(
        "() => { const m = window[document.querySelector('.folium-map').id]; m.zoomOut(3, {animate: false}); }"
    )
    _assert_picks_readable(page, run.patches)
    opened.assert_clean()


@pytest.fixture(scope="module")
def kent(tmp_path_factory):
    """Kent (12 districts, about 150 patches), whose picks are neighbours on the map's north-east edge."""
    run = lacgeo.run(config_from_dict({"area": {"la": "Kent"}, **FAST}))
    path = tmp_path_factory.mktemp("kent") / "map.html"
    maps.make_result_map(run, title="Kent").save(str(path))
    return run, path


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_kents_neighbouring_picks_are_all_numbered_and_named(open_map, kent, viewport):  # noqa: F811
    run, path = kent
    opened = open_map(path, viewport=viewport)
    _assert_picks_readable(opened.page, run.patches)
    pins = opened.page.evaluate(
        "() => [...document.querySelectorAll('.lacgeo-pick .pin')].map((p) => p.getBoundingClientRect().toJSON())"
    )
    for i, a in enumerate(pins):  # no marker hides another
        for b in pins[i + 1 :]:
            assert (
                a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
            )
    opened.assert_clean()


def test_on_a_phone_the_map_comes_first_and_nothing_scrolls_sideways(open_map, solihull_out):  # noqa: F811
    opened = open_map(solihull_out / "map.html", viewport=PHONE)
    page = opened.page
    box = page.evaluate(
        "() => { const r = document.querySelector('.folium-map').getBoundingClientRect(); "
        "return {top: r.top, height: r.height}; }"
    )
    assert box["top"] < 0.35 * PHONE[1], box  # the map starts within the first screen
    assert box["top"] + box["height"] / 2 < PHONE[1], box  # and most of it is on it
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE[0]
    # the words point at what is there: the layers button, not a list
    assert page.locator(".leaflet-control-layers-toggle").is_visible()
    assert page.locator(".lacgeo-about .lacgeo-narrow").first.is_visible()
    assert not page.locator(".lacgeo-about .lacgeo-wide").first.is_visible()
    assert "the layers button at the top right of the map" in page.locator(".lacgeo-about").inner_text()
    # no patch name is cut off by the map's edge
    clipped = page.evaluate("""() => {
        const map = document.querySelector('.folium-map').getBoundingClientRect();
        return [...document.querySelectorAll('.lacgeo-label .name, .lacgeo-place .name, .lacgeo-town .name')]
            .filter((e) => getComputedStyle(e).visibility !== 'hidden')
            .map((e) => [e.textContent, e.getBoundingClientRect()])
            .filter(([, r]) => r.left < map.left || r.right > map.right || r.top < map.top || r.bottom > map.bottom)
            .map(([t]) => t);
    }""")
    assert clipped == []
    opened.assert_clean()


def test_on_a_laptop_the_words_name_the_layer_list(open_map, solihull_out):  # noqa: F811
    page = open_map(solihull_out / "map.html", viewport=DESKTOP).page
    assert page.locator(".leaflet-control-layers-list").is_visible()
    assert "the list of layers at the top right of the map" in page.locator(".lacgeo-about").inner_text()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= DESKTOP[0]


def test_on_paper_the_map_is_whole_the_legend_under_it_and_the_table_open(open_map, solihull_run, solihull_out):  # noqa: F811
    opened = open_map(solihull_out / "map.html", viewport=(1000, 1400))
    page = opened.page
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details.lacgeo-table").evaluate("d => d.open")
    for hidden in (".lacgeo-search", ".leaflet-control-layers", ".lacgeo-howto", ".lacgeo-skip"):
        assert not page.locator(hidden).first.is_visible(), hidden
    boxes = page.evaluate("""() => {
        const box = (s) => document.querySelector(s).getBoundingClientRect().toJSON();
        return {map: box('.folium-map'), legend: box('.lacgeo-legend')};
    }""")
    assert boxes["legend"]["top"] >= boxes["map"]["bottom"] - 1  # under the map, hiding none of it
    view = _map_view(page)  # fitted again to the paper's map: all of the area is on it
    west, south, east, north = solihull_run.areas.to_crs(WGS84).total_bounds
    assert view["south"] <= south and view["west"] <= west and view["north"] >= north and view["east"] >= east
    _assert_picks_readable(page, solihull_run.patches)
    opened.assert_clean()


def _tabs_to_layers(page, limit: int = 30) -> int | None:
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('.leaflet-control-layers')"):
            return n
    return None


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_layer_list_is_a_few_tab_presses_away(open_map, solihull_out, viewport):  # noqa: F811
    page = open_map(solihull_out / "map.html", viewport=viewport).page
    n = _tabs_to_layers(page)
    assert n is not None and n <= 5, n
    # no drawn shape is a tab stop
    assert page.evaluate("() => [...document.querySelectorAll('path')].filter((p) => p.tabIndex >= 0).length") == 0
    # the skip link: one Tab, then Enter, and the focus is on the layer list (opened on a phone)
    page.reload()
    page.wait_for_selector(f"path.{maps.CLASS_PATCH}", state="attached")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the map layers"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.closest('.leaflet-control-layers') !== null")
    assert page.evaluate("() => document.activeElement.checkVisibility()")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_nothing_at_either_size(open_map, full_map_path, viewport):  # noqa: F811
    opened = open_map(full_map_path, viewport=viewport)
    page = opened.page
    page.locator("details.lacgeo-table summary").click()
    page.get_by_label(maps.LAYER_PROFILES).check(force=True) if viewport == DESKTOP else None
    found = axe_violations(page)
    assert found == [], found
    opened.assert_clean()


@pytest.fixture(scope="module")
def full_map_path(solihull_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("reading") / "map.html"
    maps.make_result_map(solihull_run, title="Solihull").save(str(path))
    return path


# --- words, colours and styles, as text ---------------------------------------------------------


@pytest.mark.parametrize("method", ["zscore", "rank", "exponential"])
def test_the_need_legend_speaks_in_words_whatever_the_standardisation(method, solihull_run):
    if method == "zscore":
        run = solihull_run
    else:
        config = config_from_dict({"area": {"la": "Solihull"}, "need": {"standardise": method}, **FAST})
        run = lacgeo.run(config)
    page = maps.make_result_map(run, title="t").get_root().render()
    legend = page[page.index('<div class="lacgeo-legend"') : page.index('<div class="shading" data-shading="1"')]
    assert "less need than the Solihull average" in legend and "more need than the Solihull average" in legend
    need = run.areas["need_index"]
    for value in (need.min(), need.max()):
        assert f"{value:.2f}" not in legend  # no index numbers, whose scale depends on the method
    assert "z-score" not in legend.lower() and "zscore" not in legend.lower()


def test_an_unknown_standardisation_is_refused(solihull_run):
    with pytest.raises(ValueError, match=r"standardise = 'minmax'; use one of zscore, rank, exponential"):
        maps.make_map(solihull_run.areas, solihull_run.patches, title="t", standardise="minmax")


def test_pick_outline_is_no_profile_colour_and_the_legend_draws_it_as_the_map_does(solihull_out):
    def rgb(colour: str) -> np.ndarray:
        return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)

    pick = rgb(maps.PICK_COLOUR)
    for colour in maps.PROFILE_COLOURS:
        assert np.abs(rgb(colour) - pick).sum() > 120, colour
    page = (solihull_out / "map.html").read_text(encoding="utf-8")
    legend = page[page.index('<div class="lacgeo-legend"') : page.index("</div><svg")]
    line = re.search(r"<li><svg[^>]*>(.*?)</svg>Recommended for phase 1</li>", legend).group(1)
    assert 'stroke="#ffffff" stroke-width="10"' in line  # the halo: 5 px wider than the line
    assert f'stroke="{maps.PICK_COLOUR}" stroke-width="5" stroke-dasharray="10 7"' in line
    halo = re.search(r'\{"color": "#ffffff", "fill": false, "opacity": 0.95, "weight": (\d+)\}', page)
    assert halo and int(halo.group(1)) == 10, "the map's halo is the legend's"
    assert '"dashArray": "10 7"' in page


def test_need_profiles_are_named_by_what_sets_them_apart():
    """Three groups high in both indicators, told apart by the one each is highest in; never 'group 1'."""
    from lacgeo.need.profiles import name_profiles

    means = pd.DataFrame(
        {"IMD score": [2.0, 0.7, 1.6, -1.0], "preventable deaths": [0.7, 2.0, 1.6, -1.0]}, index=list("abcd")
    )
    names = name_profiles(means, order=list("abcd"))
    assert len(set(names.values())) == 4 and all("group" not in n for n in names.values())
    assert re.match(r"(Far above|Above) average in IMD score\b", names["a"]), names["a"]
    assert re.match(r"(Far above|Above) average in preventable deaths\b", names["b"]), names["b"]
    assert re.match(r"(Far below|Below) average in", names["d"])


def test_the_map_uses_the_runs_profile_names(solihull_run):
    page = maps.make_result_map(solihull_run, title="t").get_root().render()
    for name in solihull_run.areas["need_profile"].unique():
        assert escape_text(name) in page


def test_the_same_run_draws_a_byte_identical_map(solihull_run):
    first = maps.make_result_map(solihull_run, title="t").get_root().render()
    second = maps.make_result_map(solihull_run, title="t").get_root().render()
    assert first == second


# --- the background map, only when asked for ------------------------------------------------------


def test_no_basemap_by_default(solihull_out):
    page = (solihull_out / "map.html").read_text(encoding="utf-8")
    assert "openstreetmap" not in page.lower()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert "img-src data:;" in policy and "default-src 'none'" in policy and "http" not in policy


def test_a_basemap_loads_openstreetmap_tiles_and_nothing_else(open_map, solihull_run, tmp_path):  # noqa: F811
    path = tmp_path / "map.html"
    maps.make_map(solihull_run.areas, solihull_run.patches, title="t", basemap=True).save(str(path))
    page_text = path.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page_text).group(1)
    assert f"img-src data: {maps.OSM_ORIGIN};" in policy and policy.count("http") == 1
    assert "https://www.openstreetmap.org/copyright" in page_text
    opened = open_map(path)
    page = opened.page
    page.wait_for_timeout(300)
    assert opened.external and all(u.startswith(maps.OSM_ORIGIN + "/") for u in opened.external), opened.external
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.get_by_label(maps.LAYER_BASEMAP).is_checked()


# --- no picks, districts ----------------------------------------------------------------------------


def test_a_map_with_no_pick_still_draws(open_map, solihull_run, tmp_path):  # noqa: F811
    patches = solihull_run.patches.copy()
    patches[PHASE] = 2
    path = tmp_path / "map.html"
    maps.make_map(solihull_run.areas, patches, title="t").save(str(path))
    text = path.read_text(encoding="utf-8")
    assert "No patch could be recommended for phase 1." in text and "numbered in need order" not in text
    opened = open_map(path)
    assert opened.page.locator(f"path.{maps.CLASS_PATCH}").count() == len(patches)
    assert opened.page.locator(f".{maps.CLASS_PICK}").count() == 0
    assert opened.page.locator(f".{maps.CLASS_LABEL} .name").count() == len(patches)
    opened.assert_clean()


def test_towns_are_named_from_the_neighbourhood_names(synthetic_run, synthetic_out):
    """Without a background map, Wiltshire's towns are labelled: several MSOAs share each name."""
    towns = maps.town_names(synthetic_run.areas)
    kind = dict(zip(towns["name"], towns["kind"], strict=True))
    assert {kind.get(t) for t in ("Salisbury", "Trowbridge", "Chippenham", "Warminster")} == {"town"}
    assert kind.get("Marlborough") == "place"
    assert not any("&" in n or "," in n for n in towns["name"])
    page = (synthetic_out / "map.html").read_text(encoding="utf-8")
    assert f'"{maps.LAYER_TOWNS}" : ' in page  # in the layer control
    for town in ("Salisbury", "Trowbridge", "Chippenham"):  # a label of the town kind (markup JSON-escaped)
        label = rf'"html": "\\u003cspan class=\\"name\\"\\u003e{town}\\u003c/span\\u003e",\s*"iconSize": \[0, 0\],'
        assert re.search(label + rf'\s*"className": "{maps.CLASS_TOWN} town"', page), town


def test_districts_are_named_on_the_map(two_districts, open_map):  # noqa: F811
    result, out = two_districts
    page = open_map(out / "map.html").page
    names = page.locator(f".{maps.CLASS_PLACE} .name").all_text_contents()
    assert sorted(names) == sorted(maps.result_areas(result)["district"].unique())
    _assert_picks_readable(page, result.patches)
