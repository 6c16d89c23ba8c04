"""Generate the SYNTHETIC Wiltshire service-demand example (made-up data, seeded).

Nothing here is real council data. The counts are Poisson draws whose expected rates
rise with the real IMD score and preventable-mortality SMR of each LSOA, so the
example behaves plausibly; the numbers themselves mean nothing. Every file name says
SYNTHETIC, and every output built from these files is marked SYNTHETIC.

    python data/synthetic/make_synthetic.py      # rewrites the CSVs next to this script

It reads only lacgeo's shipped data (data/*.parquet), never ../shared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from lacgeo import datasets, harmonise

SEED = 20251123
LA = "E06000054"  # Wiltshire
HERE = Path(__file__).resolve().parent

# service: (column label, base rate per 1,000 a year, sensitivity to IMD, to SMR)
SERVICES = {
    "asc_referrals": ("Adult social care referrals", 18.0, 0.035, 0.006),
    "ae_attendances": ("A&E attendances", 290.0, 0.015, 0.004),
    "mh_crisis": ("Mental health crisis contacts", 6.0, 0.045, 0.008),
}
POINT_RATE = 3.0  # safeguarding concerns per 1,000 at average need


def expected_rates(areas: pd.DataFrame, imd: pd.Series, smr: pd.Series, base: float, b_imd: float,
                   b_smr: float) -> pd.Series:
    z = b_imd * (imd - imd.mean()) + b_smr * (smr - smr.mean())
    return base * np.exp(z) * areas["population"] / 1000.0


def random_points_in(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` (rejection sampling in its bounds)."""
    minx, miny, maxx, maxy = polygon.bounds
    prepared = shapely.prepared.prep(polygon)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        xs = rng.uniform(minx, maxx, 4 * n + 8)
        ys = rng.uniform(miny, maxy, 4 * n + 8)
        for x, y in zip(xs, ys, strict=True):
            if prepared.contains(shapely.Point(x, y)):
                out.append((round(x), round(y)))
                if len(out) == n:
                    break
    return np.array(out, dtype=float).reshape(-1, 2)


def main() -> None:
    rng = np.random.default_rng(SEED)
    areas = datasets.read_areas(LA, vintage="2021")
    imd = datasets.read_deprivation(areas.index, vintage="2021")["imd_score"]
    smr = harmonise.mortality_to_lsoa(areas.index, vintage="2021")

    counts = pd.DataFrame(index=areas.index)
    for label, base, b_imd, b_smr in SERVICES.values():
        counts[label] = rng.poisson(expected_rates(areas, imd, smr, base, b_imd, b_smr)).astype(int)
    table = counts.astype(object)
    # Three suppressed cells, as a council extract would show them: missing, never zero.
    for code, marker in zip(rng.choice(areas.index, 3, replace=False), ["*", "c", "*"], strict=True):
        table.loc[code, "Mental health crisis contacts"] = marker
    table.index.name = "LSOA code"
    table.to_csv(HERE / "wiltshire_service_demand_lsoa21_SYNTHETIC.csv", lineterminator="\n")

    expected = expected_rates(areas, imd, smr, POINT_RATE, 0.04, 0.005)
    n_points = rng.poisson(expected)
    rows = []
    for code, n in zip(areas.index, n_points, strict=True):
        if n:
            xy = random_points_in(areas.geometry[code], int(n), rng)
            rows.extend(xy.tolist())
    points = pd.DataFrame(rows, columns=["easting", "northing"]).astype(int)
    points.insert(0, "record_id", [f"SYN{k:05d}" for k in range(len(points))])
    points.to_csv(HERE / "wiltshire_safeguarding_points_SYNTHETIC.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
