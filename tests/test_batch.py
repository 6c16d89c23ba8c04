"""``lacgeo batch``: many areas in worker processes, each folder as a single run writes it,
failures reported without stopping the others, and an index page that links them."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest

import lacgeo
from lacgeo import cli
from lacgeo.batch import batch_places, run_batch
from lacgeo.config import load_config_text
from lacgeo.errors import ConfigError, OutputError

TABLES = ["areas.csv", "patches.csv", "needs_assessment.csv", "rollout.csv"]


@pytest.fixture(scope="module")
def two_areas(tmp_path_factory):
    """Rutland and Swansea (an English and a Welsh council) in two worker processes."""
    out = tmp_path_factory.mktemp("batch") / "b"
    return run_batch(batch_places(la="Rutland, Swansea"), out, workers=2, progress=False)


def test_each_folder_is_byte_identical_to_a_single_run(two_areas, tmp_path):
    assert [item.ok for item in two_areas.items] == [True, True]
    for code, folder in [("E06000017", "rutland"), ("W06000011", "swansea")]:
        single = tmp_path / folder
        lacgeo.run(lacgeo.make_config(la=code), out=single)
        for name in TABLES:
            assert filecmp.cmp(two_areas.out / folder / name, single / name, shallow=False), f"{folder}/{name}"


def test_the_index_links_every_area_in_a_browser(two_areas, browser):
    table = pd.read_csv(two_areas.out / "batch.csv")
    assert table["code"].tolist() == ["E06000017", "W06000011"] and table["ok"].all()
    assert table["patches"].tolist() == [len(pd.read_csv(two_areas.out / f / "patches.csv")) for f in table["folder"]]
    page = browser.new_page()
    page.goto((two_areas.out / "index.html").as_uri())
    assert page.locator("tbody tr").count() == 2
    assert page.title() == "lacgeo batch: 2 of 2 areas"
    page.get_by_role("row", name="Swansea").get_by_role("link", name="report").click()
    page.wait_for_load_state()
    assert page.url.endswith("/swansea/report.html") and "Swansea" in page.title()
    page.close()


def test_a_failing_area_is_reported_and_the_others_run(tmp_path):
    # a lock-in only Rutland holds: the Isles of Scilly cannot honour it, and says so in one line
    config = load_config_text('[area]\nla = "Rutland"\n[recommend]\nlock_in = ["E01013787"]\n')
    result = run_batch(batch_places(la="Isles of Scilly, Rutland"), tmp_path / "b", config=config, workers=1)
    scilly, rutland = result.items
    assert rutland.ok and rutland.patches == 4
    assert not scilly.ok and "E01013787" in scilly.error and "\n" not in scilly.error
    assert not (tmp_path / "b" / "isles-of-scilly").exists(), "a failed area leaves no folder"
    index = (tmp_path / "b" / "index.html").read_text()
    assert "failed: " in index and "1 of 2 areas" in index
    assert "failed: Isles of Scilly (E06000053)" in result.summary()


def test_an_existing_batch_folder_stops_before_any_work(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("earlier work")
    with pytest.raises(OutputError, match="already exists and is not empty; pass --overwrite"):
        run_batch(batch_places(la="Rutland"), tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "a batch needs areas"), ({"la": "Rutland, E06000017"}, "names one area twice")],
)
def test_bad_batch_lists_are_refused(kwargs, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        run_batch(batch_places(**kwargs), tmp_path / "b")


def test_the_cli_batch_exits_1_when_an_area_fails(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[area]\nla = "Rutland"\n[recommend]\nlock_in = ["E01013787"]\n')
    argv = ["batch", str(config), "--la", "Rutland,Isles of Scilly", "--out", str(tmp_path / "b"), "--workers", "1"]
    assert cli.main([*argv, "-q"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("1 of 2 areas run in") and "failed: Isles of Scilly (E06000053)" in out
