"""Stage 1: readers for user-supplied files (files -> frames). No analysis happens here.

The shipped national data is read by :mod:`lacgeo.datasets`.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from .errors import ValidationError
from .schema import BNG


class GeometryRepairWarning(UserWarning):
    """Invalid geometries in a user file were repaired."""


def read_polygons(path: str | Path, *, code_col: str) -> gpd.GeoDataFrame:
    """Read a polygon layer (any format GDAL reads) indexed by ``code_col``, in EPSG:27700.

    Invalid geometries are repaired with a warning; a missing CRS, a missing column,
    duplicate or empty codes, or non-polygon features are errors.
    """
    path = Path(path)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise ValidationError(f"{path}: cannot read it as a vector file ({exc})") from None
    problems = []
    if frame.empty:
        raise ValidationError(f"{path}: the file has no features")
    if code_col not in frame.columns:
        close = difflib.get_close_matches(code_col, [str(c) for c in frame.columns], n=1)
        tip = f"did you mean {close[0]!r}?" if close else f"columns are {', '.join(map(str, frame.columns))}"
        raise ValidationError(f"{path}: no column {code_col!r}; {tip}")
    if frame.crs is None:
        problems.append(f"{path}: the file has no coordinate reference system; set one (e.g. EPSG:27700) in GIS")
    codes = frame[code_col].astype("string").str.strip()
    if codes.isna().any() or (codes == "").any():
        problems.append(
            f"{path}, column {code_col!r}: {int((codes.isna() | (codes == '')).sum())} features have no code"
        )
    types = set(frame.geom_type.dropna())
    if not types <= {"Polygon", "MultiPolygon"}:
        problems.append(f"{path}: expected polygons, found {', '.join(sorted(types))}")
    if problems:
        raise ValidationError(problems)
    frame = frame.assign(**{code_col: codes}).dissolve(by=code_col).to_crs(BNG)
    invalid = ~shapely.is_valid(frame.geometry.values)
    if invalid.any():
        warnings.warn(
            f"{path}: repaired {int(invalid.sum())} invalid polygons ({', '.join(frame.index[invalid][:5])})",
            GeometryRepairWarning,
            stacklevel=2,
        )
        frame = frame.set_geometry(shapely.make_valid(frame.geometry.values))
    frame.index.name = code_col
    return frame[[frame.geometry.name]]
