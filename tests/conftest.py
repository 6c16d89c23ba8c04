"""Shared fixtures: made-up grids in EPSG:27700 and small real extracts of the shipped data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import settings

import lacgeo
from lacgeo.config import load_config_text

# Property tests draw the same examples on every run, so CI cannot flake.
settings.register_profile("lacgeo", derandomize=True, print_blob=True)
settings.load_profile("lacgeo")


def make_grid(
    nx: int,
    ny: int,
    *,
    seed: int = 0,
    size: float = 500.0,
    pop_range=(1200, 2200),
    drop: set[tuple[int, int]] = frozenset(),
    island: bool = False,
) -> gpd.GeoDataFrame:
    """A made-up nx x ny grid of square 'LSOAs' with seeded populations and need.

    ``drop`` removes cells (a hole); ``island`` adds one cell 5 km east of the grid.
    Codes are strings ``G0000``...; the index is named area_code like real data.
    """
    rng = np.random.default_rng(seed)
    cells = [(i, j) for j in range(ny) for i in range(nx) if (i, j) not in drop]
    if island:
        cells.append((nx + 10, ny // 2))
    geoms = [shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i, j in cells]
    codes = [f"G{k:04d}" for k in range(len(cells))]
    need = np.array([np.sin(i / 3.0) + np.cos(j / 4.0) for i, j in cells]) + rng.normal(0, 0.3, len(cells))
    frame = gpd.GeoDataFrame(
        {
            "area_name": [f"Cell {i},{j}" for i, j in cells],
            "population": rng.integers(pop_range[0], pop_range[1], len(cells)),
            "msoa_name": [f"Block {i // 3}-{j // 3}" for i, j in cells],
            "msoa_code": [f"M{i // 3:02d}{j // 3:02d}" for i, j in cells],
            "ward_name": [f"Ward {i // 4}-{j // 4}" for i, j in cells],
            "ward_code": [f"W{i // 4:02d}{j // 4:02d}" for i, j in cells],
            "need": need,
        },
        geometry=geoms,
        index=codes,
        crs="EPSG:27700",
    )
    frame.index.name = "area_code"
    return frame


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return make_grid(12, 10)


@pytest.fixture(scope="session")
def solihull_run():
    """One default run on Solihull (134 LSOAs 2021), shared by output-contract tests."""
    return lacgeo.run(lacgeo.make_config(la="Solihull"))


@pytest.fixture(scope="session")
def solihull_out(tmp_path_factory, solihull_run):
    out = tmp_path_factory.mktemp("runs") / "solihull"
    solihull_run.write(out)
    return out


SYNTHETIC = Path(__file__).resolve().parent.parent / "data" / "synthetic"
SYNTHETIC_TOML = SYNTHETIC / "wiltshire_synthetic.toml"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def synthetic_inputs_before() -> dict[Path, str]:
    """The SYNTHETIC example's input files, hashed before any test runs it."""
    return {f: sha256(f) for f in sorted(SYNTHETIC.glob("wiltshire_*"))}  # the config and both CSVs


@pytest.fixture(scope="session")
def synthetic_run(synthetic_inputs_before):
    """Wiltshire (307 LSOAs) with made-up council service demand: the shipped example config, run once."""
    return lacgeo.run(lacgeo.load_config(SYNTHETIC_TOML))


@pytest.fixture(scope="session")
def synthetic_out(tmp_path_factory, synthetic_run):
    """The SYNTHETIC Wiltshire run's output folder, written once for the suite."""
    out = tmp_path_factory.mktemp("runs") / "wiltshire-synthetic"
    synthetic_run.write(out)
    return out


# --- headless Chromium for the map and report tests -----------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"  # axe-core 4.14.1 from npm, MPL-2.0


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a browser download)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need headless Chromium at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` (Playwright drives it; never run `playwright install`)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def serious_axe_violations(page) -> list[str]:
    """Inject axe-core into ``page`` and list its serious and critical violations."""
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def with_small_patch_count(run, source: str = "asc_referrals"):
    """A copy of ``run`` whose first phase-1 patch holds a council count of 3 for ``source``."""
    import dataclasses

    pid = run.recommended.index[0]
    src = run.sources[source]
    inside = run.areas["patch_id"] == pid
    count = src.count.where(~inside, 0.0)
    count[inside[inside].index[0]] = 3.0
    return pid, dataclasses.replace(run, sources={**run.sources, source: dataclasses.replace(src, count=count)})


@pytest.fixture(scope="session")
def two_districts(tmp_path_factory):
    """Two districts of Nottinghamshire run as one area, with every output written."""
    out = tmp_path_factory.mktemp("two") / "out"
    config = load_config_text('[area]\nla = ["Mansfield", "Ashfield"]\n[recommend]\nrobustness_draws = 20\n')
    return lacgeo.run(config, out=out), out
