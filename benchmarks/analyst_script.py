"""What a competent analyst would write by hand instead of lacgeo: max-p regions of 10,000+ people, ranked by IMD.

Reads the LSOA 2021 boundaries (with Census 2021 population) and IoD2025 scores that lacgeo ships, builds
regions with a floor of 10,000 people (GeoDa's ``maxp_greedy``, or PySAL spopt's ``MaxPHeuristic`` with
``--method spopt``), ranks them by population-weighted IMD score and writes ``regions.csv`` and ``map.html``.
Used by ``benchmarks/analyst.py``; needs geopandas, folium and pygeoda or spopt, not lacgeo.

    python benchmarks/analyst_script.py E06000054 --out /tmp/wiltshire [--method spopt] [--seed 0]
"""

import argparse
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("la", help="local authority code, e.g. E06000054")
parser.add_argument("--out", type=Path, default=Path("."))
parser.add_argument("--method", choices=["pygeoda", "spopt"], default="pygeoda")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "lacgeo" / "data")
args = parser.parse_args()

lsoas = gpd.read_parquet(
    args.data / "lsoa21.parquet", columns=["lad_code", "population", "geometry"], filters=[("lad_code", "==", args.la)]
)
imd = pd.read_parquet(args.data / "iod2025_lsoa21.parquet", columns=["imd_score"])
areas = lsoas.join(imd, how="inner").reset_index()  # area_code becomes a column; positions 0..n-1

if args.method == "pygeoda":
    import pygeoda

    w = pygeoda.queen_weights(pygeoda.open(areas[["population", "imd_score", "geometry"]]))
    result = pygeoda.maxp_greedy(w, areas[["imd_score"]], areas["population"], 10000, random_seed=args.seed)
    areas["region"] = np.asarray(result["Clusters"])
else:
    from libpysal.weights import Queen
    from spopt.region import MaxPHeuristic

    w = Queen.from_dataframe(areas, use_index=False)
    np.random.seed(args.seed)  # spopt draws from numpy's global generator
    model = MaxPHeuristic(areas, w, attrs_name=["imd_score"], threshold_name="population", threshold=10000, top_n=2)
    model.solve()
    areas["region"] = np.asarray(model.labels_) + 1

areas["imd_x_pop"] = areas["imd_score"] * areas["population"]
regions = areas.dissolve(by="region", aggfunc={"population": "sum", "imd_x_pop": "sum", "area_code": "count"})
regions = regions.rename(columns={"area_code": "n_lsoas"})
regions["imd_score"] = regions["imd_x_pop"] / regions["population"]
regions = regions.drop(columns="imd_x_pop").sort_values("imd_score", ascending=False)
regions["rank"] = np.arange(1, len(regions) + 1)

args.out.mkdir(parents=True, exist_ok=True)
regions.drop(columns="geometry").to_csv(args.out / "regions.csv")

shapes = regions.reset_index().to_crs(4326)
centre = shapes.union_all().centroid
fmap = folium.Map(location=[centre.y, centre.x], zoom_start=10)
folium.Choropleth(
    geo_data=shapes.to_json(),
    data=shapes,
    columns=["region", "imd_score"],
    key_on="feature.properties.region",
    fill_color="YlOrRd",
    fill_opacity=0.7,
    line_weight=1,
    legend_name="IMD score (population-weighted)",
).add_to(fmap)
folium.GeoJson(
    shapes,
    style_function=lambda _: {"fillOpacity": 0, "weight": 0},
    tooltip=folium.GeoJsonTooltip(fields=["rank", "region", "population", "imd_score"]),
).add_to(fmap)
fmap.save(args.out / "map.html")
print(f"{len(regions)} regions; top 3: {', '.join(str(r) for r in regions.index[:3])}")
