"""map.html and report.html of a Welsh run: WIMD and Wales throughout, never England's IMD.

A Welsh council is measured with the Welsh Index of Multiple Deprivation 2019, which cannot be
compared with England's IMD: no output may call it "IMD" or put Welsh areas in "England's" fifths.
The default indicators that do not exist for Wales are left out, and both pages say which and why.
"""

from __future__ import annotations

import json
import re

import pytest

import lacgeo
from lacgeo.outputs.escape import escape_text
from lacgeo.outputs.map import make_result_map
from lacgeo.outputs.report import render_report

NOT_WIMD = re.compile(r"(?<!W)IMD")
REPUBLISHER = "humaniverse/IMD"
"""A repository that republishes the English IoD, named in the attribution of every shipped dataset."""


@pytest.fixture(scope="module")
def swansea():
    return lacgeo.run(lacgeo.make_config(la="Swansea"))


@pytest.fixture(scope="module")
def swansea_report(swansea) -> str:
    return render_report(swansea)


@pytest.fixture(scope="module")
def swansea_map(swansea, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("wales") / "map.html"
    make_result_map(swansea, title="Swansea").save(str(path))
    return path.read_text(encoding="utf-8")


def _split_attribution(report: str) -> tuple[str, str]:
    """The report before its data sources and attribution, and that section."""
    head, sources = report.split('<section id="sources">')
    return head, sources


def test_swansea_is_a_welsh_run_with_a_left_out_indicator(swansea):
    assert swansea.deprivation.short == "WIMD" and swansea.deprivation.nation == "Wales"
    assert "wimd_quintile" in swansea.areas and "imd_quintile" not in swansea.areas
    assert swansea.left_out  # what the pages below must name


def test_welsh_report_never_says_imd(swansea_report):
    head, sources = _split_attribution(swansea_report)
    assert NOT_WIMD.findall(head) == []
    assert NOT_WIMD.findall(sources.replace(REPUBLISHER, "")) == []  # only the republisher's name
    assert swansea_report.count("WIMD") > 10


def test_welsh_map_never_says_imd(swansea_map):
    assert NOT_WIMD.findall(swansea_map) == []
    assert '"National WIMD quintile" : ' in swansea_map  # the layer control
    assert "<h2>National WIMD quintile</h2>" in swansea_map and "1: most deprived 20% of Wales" in swansea_map
    assert '["WIMD quintile (1 = most deprived)","quintile"]' in swansea_map  # the area tooltip


def test_welsh_report_puts_areas_in_wales_fifths(swansea, swansea_report):
    pid = swansea.recommended.index[0]
    body = swansea_report.split(f'id="patch-{escape_text(pid)}"')[1].split("</section>")[0]
    for q in range(1, 6):
        assert f"fifth (WIMD quintile {q})</th>" in body
    assert "In Wales's most deprived fifth (WIMD quintile 1)</th>" in body
    assert "<h3>Profile against Swansea and Wales</h3>" in body
    assert '<th scope="col" class="num">Wales</th>' in body
    lead = re.search(r'<p class="lead">(.*?)</p>', body).group(1)
    assert "fifth of neighbourhoods in Wales" in lead and "Wales's " in lead
    assert "by WIMD score within Swansea" in swansea_report
    assert "fifths of residents by WIMD score" in swansea_report  # the needs-assessment chart's axis


def test_welsh_method_names_the_index_by_its_title(swansea_report):
    method = swansea_report.split('id="method"')[1].split("</section>")[0]
    assert "the Welsh Index of Multiple Deprivation (WIMD 2019)" in method
    assert "LSOA 2011 with WIMD 2019." in method
    assert "English Indices" not in method and "IoD" not in method


def test_welsh_pages_say_england_only_in_the_left_out_reason_and_attribution(swansea, swansea_report, swansea_map):
    reasons = [escape_text(reason) for reason in swansea.left_out.values()]
    head, _ = _split_attribution(swansea_report)
    page = re.sub(r'<footer class="lacgeo-credits">.*?</footer>', "", swansea_map, flags=re.S)
    for text in (head, page):
        for reason in reasons:
            text = text.replace(reason, "")
        assert "England" not in text


@pytest.mark.parametrize("page", ["swansea_report", "swansea_map"])
def test_left_out_indicators_and_why_are_in_both_pages(swansea, page, request):
    text = request.getfixturevalue(page)
    assert swansea.left_out == {
        "preventable_mortality_smr": "Local Health (OHID) publishes it for England only; no Welsh equivalent is"
        " shipped",
        "acute_morbidity": "MHCLG publishes it for England only; no Welsh equivalent is shipped",
    }
    labels = {"preventable_mortality_smr": "Preventable mortality (SMR)", "acute_morbidity": "Acute morbidity"}
    for name, reason in swansea.left_out.items():
        assert f"Left out of the need index: {labels[name]}" in text
        assert f" — {escape_text(reason)}. No value is filled in for it." in text


def test_left_out_is_in_the_method_of_the_report(swansea_report):
    method = swansea_report.split('id="method"')[1].split("</section>")[0]
    assert "Left out of the need index: Preventable mortality (SMR)" in method


def test_welsh_msoa_names_are_searchable_in_the_map(swansea, swansea_map):
    places = json.loads(re.search(r"\n  var places = (.*);\n", swansea_map).group(1))
    msoas = {p["n"] for p in places if p["k"] == "Neighbourhood (MSOA)"}
    pairs = swansea.areas[["msoa_name", "msoa_name_cy"]].drop_duplicates()
    for english, welsh in pairs.itertuples(index=False):
        expected = english if welsh == english else f"{english} / {welsh}"
        assert escape_text(expected) in msoas
    assert any(" / " in name for name in msoas)


def test_english_report_still_says_imd_and_england():
    rutland = lacgeo.run(lacgeo.make_config(la="Rutland"))
    assert rutland.left_out == {}
    report = render_report(rutland)
    assert "(IMD quintile 1)" in report and "In England's most deprived fifth" in report
    assert "the English Indices of Deprivation (IoD2025)" in report and "by IMD score within Rutland" in report
    assert "WIMD" not in report and "Left out" not in report
