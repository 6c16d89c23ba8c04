"""Every output shows the coordinators already in post, phase 1 and the later phases apart, and writes the
evaluation design.

One Derby run with two learning sites in post (Mackworth & New Zealand, Chaddesden West: phase 0) and
five new picks, written once: patches.csv keeps ``phase`` an integer (0 = in post) with the names the
council gave; the rollout plan has an in-post row; the GeoPackage has a ``comparators`` layer and a
rollout style with a class for phase 0; the evaluation CSVs match ``result.evaluation`` and are in
run.json with their checksums; the report names the areas in post and explains the evaluation; the
map draws them in a layer of their own, labelled "In post", in headless Chromium with axe-core clean.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

import lacgeo
from lacgeo.config import replace
from lacgeo.outputs import map as maps
from lacgeo.outputs import sha256
from lacgeo.outputs.tables import EVALUATION_FILES, evaluation_tables
from lacgeo.outputs.workbook import FALLBACK
from lacgeo.rank.evaluation import BALANCE_COLUMNS, PAIR_COLUMNS
from lacgeo.schema import PATCH_ID, PATCH_NAME, PHASE, WGS84

from .conftest import with_small_patch_count
from .test_gpkg_qgis import _qgis_python, run_qgis_probe
from .test_maps import axe_violations
from .test_report_html import all_axe_violations
from .test_report_print import open_page, pdf_pages

pytestmark = pytest.mark.slow

IN_POST = {"Mackworth learning site": "Mackworth & New Zealand", "Chaddesden learning site": "Chaddesden West"}
"""Derby's two learning sites: the name the council gave each, and the ward it covers."""
EPOCH = "1796000000"


@pytest.fixture(scope="module", autouse=True)
def source_date_epoch():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        yield


def derby_config():
    areas = lacgeo.read_areas("E06000015")  # Derby
    existing = [
        {"name": name, "areas": sorted(areas.index[areas["ward_name"] == ward])} for name, ward in IN_POST.items()
    ]
    recommend = {"robustness_draws": 0, "n": 5, "phase_size": 3, "spread": "ward", "existing": existing}
    return replace(lacgeo.make_config(la="Derby"), recommend=recommend, budget={"total": 500_000.0})


@pytest.fixture(scope="module")
def derby(tmp_path_factory):
    """The run and its output folder."""
    out = tmp_path_factory.mktemp("derby") / "out"
    result = lacgeo.run(derby_config(), out=out)
    return result, out


@pytest.fixture(scope="module")
def in_post(derby) -> pd.Series:
    """patch id -> name of the areas in post."""
    result, _ = derby
    patches = result.patches
    return patches.loc[patches[PHASE] == 0, PATCH_NAME].sort_index()


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"')[1].split("</section>")[0]


# --- the tables ---------------------------------------------------------------------------------


def test_areas_in_post_are_phase_0_in_patches_csv_with_the_names_given(derby, in_post):
    result, out = derby
    patches = pd.read_csv(out / "patches.csv", index_col=PATCH_ID)
    assert pd.api.types.is_integer_dtype(patches[PHASE])
    assert sorted(in_post) == sorted(IN_POST)
    assert patches.loc[patches[PHASE] == 0, PATCH_NAME].sort_index().equals(in_post)
    assert (patches.loc[~patches.index.isin(in_post.index), PHASE] >= 1).all()
    assert list(patches.index[patches[PHASE] == 1]) == list(result.recommended.index)
    areas = pd.read_csv(out / "areas.csv", index_col="area_code")
    for pid, name in in_post.items():  # each kept exactly as given: the ward's LSOAs, nothing else
        ward = result.areas.index[result.areas["ward_name"] == IN_POST[name]]
        assert set(areas.index[areas[PATCH_ID] == pid]) == set(ward)
    ranks = patches.loc[in_post.index, "rank"]
    assert set(ranks) == set(range(len(patches) - len(in_post) + 1, len(patches) + 1))  # the last ranks


def test_rollout_has_an_in_post_row_first(derby, in_post):
    result, out = derby
    rollout = pd.read_csv(out / "rollout.csv")
    first = rollout.iloc[0]
    assert first[PHASE] == 0 and first["n_patches"] == len(in_post)
    assert set(first["patch_ids"].split(", ")) == set(in_post.index)
    assert list(rollout[PHASE]) == list(range(int(rollout[PHASE].max()) + 1))
    assert rollout["n_patches"].sum() == len(result.patches)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["in_post"] == list(in_post.index)


def test_evaluation_csvs_match_the_design_and_are_checksummed_in_run_json(derby):
    result, out = derby
    evaluation = result.evaluation
    assert evaluation is not None and len(evaluation.pairs)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for name in EVALUATION_FILES:
        assert manifest["outputs"][name] == sha256(out / name), name
    pairs = pd.read_csv(out / "evaluation.csv")
    assert list(pairs.columns) == PAIR_COLUMNS
    want = evaluation.pairs.reset_index(drop=True)
    for column in PAIR_COLUMNS:
        if column == "distance":
            np.testing.assert_allclose(pairs[column], want[column], atol=5e-4)
        else:
            assert list(pairs[column]) == list(want[column]), column
    balance = pd.read_csv(out / "evaluation_balance.csv", index_col="variable")
    assert list(balance.columns) == ["label", *BALANCE_COLUMNS]
    assert list(balance.index) == list(evaluation.balance.index)
    for column in BALANCE_COLUMNS:
        if column == "balanced":
            assert list(balance[column]) == list(evaluation.balance[column])
        else:
            np.testing.assert_allclose(balance[column], evaluation.balance[column], atol=5e-4)
    assert balance.at["population", "label"] == "Population"
    baseline = pd.read_csv(out / "evaluation_baseline.csv")
    assert len(baseline) == len(result.baseline)
    assert list(baseline[PATCH_ID]) == list(result.baseline[PATCH_ID])
    assert list(baseline["indicator"]) == list(result.baseline["indicator"])
    designed = set(evaluation.picks) | set(evaluation.pairs["comparator_id"])
    assert set(baseline[PATCH_ID]) == designed
    assert not baseline["period"].str.contains(" / ").any()  # the IoD release this run used, not both


def test_evaluation_tables_carry_no_council_data_or_need_index(synthetic_run, synthetic_out):
    """Matched on population and open data only: nothing to withhold, so no withheld value can leak."""
    council = set(synthetic_run.sources)
    assert council
    _, small = with_small_patch_count(synthetic_run)  # a phase-1 patch holding a council count of 3
    for result in (synthetic_run, small):
        tables = evaluation_tables(result)
        assert set(tables) == set(EVALUATION_FILES)
        for name, table in tables.items():
            columns = set(table.columns)
            assert not {c for c in columns if c.startswith(("value_", "contrib_"))} | (columns & {"need_index"})
            text = [str(cell) for cell in table.to_numpy().ravel()]
            assert not any(source in cell for source in council for cell in text), name
    balance = pd.read_csv(synthetic_out / "evaluation_balance.csv")
    assert not set(balance["variable"]) & council
    assert (balance["data_status"].str.startswith("SYNTHETIC")).all()  # made from synthetic picks


def test_same_config_gives_identical_tables(derby, tmp_path):
    _, out = derby
    lacgeo.run(derby_config(), out=tmp_path / "again")
    for name in ("patches.csv", "rollout.csv", *EVALUATION_FILES, "report.html", "map.html", "lacgeo.xlsx"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name


# --- the GeoPackage and the workbook --------------------------------------------------------------


def _styles(gpkg) -> pd.DataFrame:
    with sqlite3.connect(gpkg) as con:
        return pd.read_sql_query("SELECT * FROM layer_styles ORDER BY id", con)


def test_geopackage_has_the_comparators_and_a_rollout_class_for_phase_0(derby, in_post):
    result, out = derby
    gpkg = out / "lacgeo.gpkg"
    comparators = pyogrio.read_dataframe(gpkg, layer="comparators")
    pairs = result.evaluation.pairs
    assert sorted(comparators[PATCH_ID]) == sorted(pairs["comparator_id"])
    got = comparators.set_index(PATCH_ID).loc[pairs["comparator_id"]]
    assert list(got["pick_id"]) == list(pairs["pick_id"]) and list(got["match_order"]) == list(pairs["match_order"])
    assert set(comparators.geom_type) == {"MultiPolygon"}
    expected = result.patches.geometry.loc[pairs["comparator_id"]]
    assert np.allclose(got.geometry.area.to_numpy(), expected.area.to_numpy())
    assert list(got[PHASE]) == list(result.patches.loc[pairs["comparator_id"], PHASE])
    recommended = pyogrio.read_dataframe(gpkg, layer="recommended", read_geometry=False)
    assert (recommended[PHASE] == 1).all() and len(recommended) == len(result.recommended)
    patches = pyogrio.read_dataframe(gpkg, layer="patches", read_geometry=False)
    assert sorted(patches.loc[patches[PHASE] == 0, PATCH_ID]) == list(in_post.index)

    styles = _styles(gpkg)
    default = styles[(styles["f_table_name"] == "comparators") & (styles["useAsDefault"] == 1)]
    assert len(default) == 1 and "pick" in default["description"].iloc[0]
    rollout = styles[styles["styleName"] == "lacgeo rollout phases"]["styleQML"].iloc[0]
    renderer = ET.fromstring(rollout).find("renderer-v2")
    categories = {c.get("value"): c for c in renderer.find("categories")}
    assert categories["0"].get("label") == f"In post: coordinators already working ({len(in_post)} patches)"
    symbols = {s.get("name"): s for s in renderer.find("symbols").findall("symbol")}
    post = [
        {o.get("name"): o.get("value") for o in layer.find("Option")}
        for layer in symbols[categories["0"].get("symbol")].findall("layer")
    ]
    assert any(layer["style"] == "diagonal_x" for layer in post)  # cross-hatched: like no phase of the rollout
    others = [c.get("symbol") for v, c in categories.items() if v != "0"]
    assert not any(
        o.get("name") == "style" and o.get("value") == "diagonal_x"
        for s in others
        for layer in symbols[s].findall("layer")
        for o in layer.find("Option")
    )
    label = ET.fromstring(rollout).find("labeling/settings/text-style").get("fieldName")
    assert "(in post)" in label


def test_workbook_has_the_evaluation_sheets_and_says_what_phase_0_is(derby, in_post):
    result, out = derby
    wb = openpyxl.load_workbook(out / "lacgeo.xlsx")
    for sheet, name in zip(("Evaluation", "Evaluation balance", "Evaluation baseline"), EVALUATION_FILES, strict=True):
        rows = list(wb[sheet].iter_rows(values_only=True))
        assert len(rows) == len(pd.read_csv(out / name)) + 1, sheet
    described = {(s, c): d for s, c, d in list(wb["Columns"].iter_rows(values_only=True))[1:]}
    assert not [key for key, text in described.items() if not text or text == FALLBACK]
    assert described[("Patches", PHASE)].startswith("Rollout phase: 0 = a coordinator already in post")
    assert described[("Rollout", PHASE)].startswith("Rollout phase: 0 = a coordinator already in post")
    about = dict(list(wb["About"].iter_rows(values_only=True))[1:])
    assert about["In post"] == "; ".join(f"{pid} {name}" for pid, name in in_post.items())
    rollout = list(wb["Rollout"].iter_rows(values_only=True))
    assert rollout[1][0] == 0  # phase stays a number in the workbook too


# --- the report -----------------------------------------------------------------------------------


def test_report_names_the_areas_in_post_and_shows_them_apart(derby, in_post):
    result, out = derby
    page = (out / "report.html").read_text(encoding="utf-8")
    summary = _text(_section(page, "summary"))
    assert f"{len(in_post)} coordinators are already in post, kept as given:" in summary
    for pid, name in in_post.items():
        assert f"{pid} {name}" in summary
    assert "areas of coordinators already in post green, cross-hatched" in summary
    rollout = _section(page, "rollout")
    assert '<tr><th scope="row">In&nbsp;post</th>' in rollout  # the plan's first row, never "0"
    assert '<th scope="row">0</th>' not in rollout
    svg = re.search(r"<svg .*?</svg>", rollout, re.S).group(0)
    assert svg.count('class="in-post"') == 1 and 'patternTransform="rotate(45)"><rect' in svg  # cross-hatched
    labels = re.findall(r">([^<]*)</text>", re.search(r'<g class="places">(.*?)</g>', svg, re.S).group(1))
    assert labels.count("In post") == len(in_post)
    assert 'class="swatch crosshatch"' in rollout and "In post</li>" in rollout
    method = _text(_section(page, "method"))
    assert "Coordinators in post. The areas of the 2 coordinators already working" in method
    assert "kept exactly as Derby gave them" in method and "New picks never overlap them" in method
    assert "phase 0" not in _text(page).lower().replace("phase 0 in the csv files", "")


def test_report_explains_how_to_evaluate_phase_1(derby):
    result, out = derby
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<li><a href="#evaluation">Evaluating phase 1</a></li>' in page
    section = _section(page, "evaluation")
    words = _text(section)
    for phrase in (
        "difference-in-differences",
        "for the same kind of period as the baseline",
        "spills over the boundary",
        "standardised mean difference (SMD)",
        "|SMD| < 0.1 counts as balanced",
        "Here none of the 5 is balanced",
        "On each, no eligible patch even reaches the picks' average (IMD score: picks 50.7",
        "so every pick has fewer",
        "look for comparison patches outside Derby",
    ):
        assert phrase in words, phrase
    tables = re.findall(r"<table.*?</table>", section, re.S)
    assert len(tables) == 2
    balance, pairs = tables
    assert balance.count("<tr>") - 1 == len(result.evaluation.balance)
    assert pairs.count("<tr>") - 1 == len(result.evaluation.pairs)
    for pid, cid in zip(result.evaluation.pairs["pick_id"], result.evaluation.pairs["comparator_id"], strict=True):
        assert f"{cid} " in pairs and f"{pid} " in pairs


def test_report_prints_tidily_and_reads_on_a_phone(browser, tmp_path, derby):
    _, out = derby
    page_html = (out / "report.html").read_text(encoding="utf-8")
    context, page, external = open_page(browser, tmp_path, page_html, width=1200, height=900)
    pdf = page.pdf(format="A4", print_background=True)
    context.close()
    pages = pdf_pages(pdf, tmp_path)
    for i, (text, _) in enumerate(pages):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        assert lines[-1] not in ("Evaluating phase 1", "Rollout plan", "Method"), i + 1  # no heading left alone
    assert any("Evaluating phase 1" in text for text, _ in pages)
    for width, height in ((1200, 900), (390, 844)):
        context, page, external = open_page(browser, tmp_path, page_html, width=width, height=height)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        assert all_axe_violations(page) == [], width
        context.close()
        assert external == []


# --- the map --------------------------------------------------------------------------------------


def test_map_html_says_in_post_not_phase_0(derby, in_post):
    _, out = derby
    page = (out / "map.html").read_text(encoding="utf-8")
    header = page[page.index('<header class="lacgeo-header">') : page.index("</header>")]
    assert "Coordinators already in post" in header
    assert all(f"{pid} {html.escape(name)}" in header for pid, name in in_post.items())
    table = page[page.index('<details class="lacgeo-table"') : page.index("</details>")]
    rows = re.findall(r'<tr class="post">(.*?)</tr>', table)
    assert len(rows) == len(in_post)
    assert all(r.endswith('<td class="num">–</td><td class="num">In post</td>') for r in rows)
    assert '<td class="num">0</td></tr>' not in table
    legend = page[page.index('<div class="lacgeo-legend"') : page.index("</div><svg")]
    assert "Coordinators already in post: area kept as given" in legend
    assert maps.IN_POST_COLOUR in legend


def _point(frame, key: str) -> tuple[float, float]:
    point = frame.loc[[key]].geometry.representative_point().to_crs(WGS84).iloc[0]
    return point.y, point.x


def test_map_draws_the_areas_in_post_in_a_layer_of_their_own(browser, derby, in_post):
    result, out = derby
    context = browser.new_context(viewport={"width": 1366, "height": 768}, service_workers="block")
    external, errors = [], []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else (external.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((out / "map.html").resolve().as_uri())
    page.wait_for_selector(f"path.{maps.CLASS_IN_POST}", state="attached")
    assert page.locator(f"path.{maps.CLASS_IN_POST}").count() == len(in_post)
    assert page.locator(f"path.{maps.CLASS_IN_POST_HALO}").count() == len(in_post)
    assert page.locator(f"path.{maps.CLASS_RECOMMENDED}").count() == len(result.recommended)
    stroke = page.evaluate(
        "(cls) => [...document.querySelectorAll('path.' + cls)].map(p => [p.getAttribute('stroke'), "
        "p.getAttribute('stroke-dasharray')])",
        maps.CLASS_IN_POST,
    )
    assert all(colour == maps.IN_POST_COLOUR and not dash for colour, dash in stroke)  # solid, never dashed
    labels = page.locator(f".{maps.CLASS_IN_POST_LABEL} .name")
    assert sorted(labels.all_text_contents()) == sorted(f"In post: {name}" for name in in_post)
    assert all(labels.nth(i).is_visible() for i in range(labels.count()))  # never hidden by the decluttering
    assert page.locator(f".{maps.CLASS_PICK} .pin").all_text_contents() == [
        str(n) for n in range(1, len(result.recommended) + 1)
    ]  # the picks are numbered 1..n; the areas in post carry no number
    legend = page.locator(".lacgeo-legend").inner_text()
    assert "Coordinators already in post" in legend and "In post" in legend
    # a tooltip says "in post", never "phase 0", and gives no need rank
    pid = in_post.index[0]
    lat, lon = _point(result.patches, pid)
    x, y = page.evaluate(
        """([lat, lon]) => {
            const map = window[document.querySelector('.folium-map').id];
            map.setView([lat, lon], 15, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [lat, lon],
    )
    page.mouse.move(x, y, steps=4)
    tooltip = page.locator(".leaflet-tooltip-pane .leaflet-tooltip")
    tooltip.first.wait_for()
    text = tooltip.first.inner_text()
    assert "in post" in text and "Phase\t0" not in text
    # the layer list switches them off and on, their names with them
    page.get_by_label(maps.LAYER_IN_POST).uncheck()
    assert page.locator(f"path.{maps.CLASS_IN_POST}").count() == 0 and labels.count() == 0
    page.get_by_label(maps.LAYER_IN_POST).check()
    assert page.locator(f"path.{maps.CLASS_IN_POST}").count() == len(in_post)
    page.mouse.move(1, 1)
    assert axe_violations(page) == []
    context.close()
    assert errors == [] and external == []


def test_map_on_a_phone_keeps_the_in_post_names_apart(browser, derby, in_post):
    _, out = derby
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = context.new_page()
    page.goto((out / "map.html").resolve().as_uri())
    page.wait_for_selector(f".{maps.CLASS_IN_POST_LABEL} .name", state="visible")
    boxes = page.evaluate(
        "(cls) => [...document.querySelectorAll('.' + cls + ' .name')].map(e => { const b = "
        "e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; })",
        maps.CLASS_IN_POST_LABEL,
    )
    (a, b) = boxes
    assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), boxes  # the two names do not overlap
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    context.close()


QGIS_PROBE = r"""
import json, sys
from qgis.core import (QgsApplication, QgsExpression, QgsExpressionContext, QgsExpressionContextUtils,
                       QgsRenderContext, QgsVectorLayer)
from qgis.PyQt.QtXml import QDomDocument
app = QgsApplication([], False)
app.initQgis()
out = {}
for name, style in (("comparators", None), ("patches", "lacgeo rollout phases")):
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    if style:  # an alternative style, as Layer Properties > Style > Load Style > From Database loads it
        listed = layer.listStylesInDatabase()
        qml, _ = layer.getStyleFromDatabase(listed[1][listed[2].index(style)])
        doc = QDomDocument()
        doc.setContent(qml)
        layer.importNamedStyle(doc)
    renderer = layer.renderer()
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    drawn = sum(1 for f in layer.getFeatures() if renderer.willRenderFeature(f, context))
    renderer.stopRender(context)
    expression = QgsExpression(layer.labeling().settings().fieldName)
    scope = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    labels = {}
    for feature in layer.getFeatures():
        scope.setFeature(feature)
        labels[feature["patch_id"]] = expression.evaluate(scope)
    out[name] = {"valid": layer.isValid(), "renderer": renderer.type(), "labelled": layer.labelsEnabled(),
                 "drawn": drawn, "features": layer.featureCount(),
                 "legend": [item.label() for item in renderer.legendSymbolItems()], "labels": labels}
print(json.dumps(out))
"""


def test_qgis_opens_the_comparators_and_the_in_post_class(derby, in_post, tmp_path):
    """Where PyQGIS is installed: QGIS draws every comparison patch and every class of the rollout style,
    and its labels say "in post", never "phase 0"."""
    python = _qgis_python()
    result, out = derby
    layers = run_qgis_probe(python, QGIS_PROBE, out / "lacgeo.gpkg", tmp_path)
    comparators, patches = layers["comparators"], layers["patches"]
    assert comparators["valid"] and comparators["labelled"] and comparators["renderer"] == "singleSymbol"
    assert comparators["drawn"] == comparators["features"] == len(result.evaluation.pairs)
    for pick, comparator in zip(
        result.evaluation.pairs["pick_id"], result.evaluation.pairs["comparator_id"], strict=True
    ):
        assert comparators["labels"][comparator].endswith(f"(comparator for {pick})")
    assert patches["renderer"] == "categorizedSymbol" and patches["drawn"] == patches["features"] == len(result.patches)
    assert patches["legend"][0] == f"In post: coordinators already working ({len(in_post)} patches)"
    assert patches["legend"][1].startswith("Phase 1: start here")
    for pid in in_post.index:
        assert patches["labels"][pid] == f"{pid} (in post)"
    pick = result.recommended.index[0]
    assert patches["labels"][pick] == f"{pick} (phase 1)"
