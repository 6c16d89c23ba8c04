"""Stage 1: readers for user-supplied files (files -> frames). No analysis happens here.

The shipped national data is read by :mod:`lacgeo.load.shipped`.
"""

from __future__ import annotations

import csv
import difflib
import io
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..errors import (
    CodeRepairWarning,
    GeometryRepairWarning,
    OverlappingUnitsWarning,
    RowWarning,
    TextEncodingWarning,
    ValidationError,
    first_few,
)
from ..schema import BNG


def read_polygons(path: str | Path, *, code_col: str, layer: str = "") -> gpd.GeoDataFrame:
    """Read a polygon layer (any format GDAL reads) indexed by ``code_col``, in EPSG:27700.

    A file with several layers (a GeoPackage) needs ``layer``. Invalid geometries are
    repaired with a warning, and so are overlapping units (named, with the area they
    share); a missing CRS, a missing column, duplicate or empty codes, or non-polygon
    features are errors.
    """
    path = Path(path)
    try:
        listed = pyogrio.list_layers(path)  # (name, geometry type); a style table (QGIS layer_styles) has none
        layers = [str(name) for name, kind in listed if kind is not None] or [str(name) for name in listed[:, 0]]
        if layer and layer not in layers:
            raise ValidationError(f"{path}: no layer {layer!r}; its layers are {', '.join(layers)}")
        if not layer and len(layers) > 1:
            raise ValidationError(
                f"{path}: has {len(layers)} layers ({first_few(layers, 8)}); name the one to use with "
                "patches.nest_layer"
            )
        frame = gpd.read_file(path, engine="pyogrio", layer=layer or (layers[0] if len(listed) > 1 else None))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise ValidationError(f"{path}: cannot read it as a vector file ({exc})") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ValidationError(
            f"{path}: has no geometry (a table, not a polygon file); give a GeoPackage, GeoJSON or Shapefile of "
            "the boundaries"
        )
    if code_col == frame.geometry.name:
        raise ValidationError(f"{path}: {code_col!r} is the geometry column; name the column that identifies each unit")
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
    repeated = codes[codes.duplicated(keep=False)]
    if len(repeated):
        warnings.warn(
            f"{path}, column {code_col!r}: {repeated.nunique()} codes name more than one polygon "
            f"({first_few(sorted(repeated.unique()))}); each is taken as one unit made of its polygons. Give each "
            "unit its own code if they are different units",
            OverlappingUnitsWarning,
            stacklevel=2,
        )
    frame = frame.assign(**{code_col: codes}).dissolve(by=code_col)
    try:
        frame = frame.to_crs(BNG)
    except Exception as exc:  # noqa: BLE001 - pyproj errors on impossible coordinates
        raise ValidationError(f"{path}: cannot convert it to British National Grid ({exc})") from None
    bounds = frame.total_bounds
    if not (
        np.isfinite(bounds).all() and -1e5 < bounds[0] and bounds[2] < 8e5 and -1e5 < bounds[1] and bounds[3] < 1.4e6
    ):
        raise ValidationError(
            f"{path}: once converted from {frame.crs if frame.crs else 'its CRS'} the polygons lie outside Great "
            "Britain; the file's coordinate reference system is probably wrong (longitude and latitude labelled "
            "as EPSG:27700?): set the right one in GIS"
        )
    invalid = ~shapely.is_valid(frame.geometry.values)
    if invalid.any():
        warnings.warn(
            f"{path}: repaired {int(invalid.sum())} invalid polygons ({', '.join(frame.index[invalid][:5])})",
            GeometryRepairWarning,
            stacklevel=2,
        )
        frame = frame.set_geometry(shapely.make_valid(frame.geometry.values))
    frame.index.name = code_col
    _warn_overlaps(frame, path)
    return frame[[frame.geometry.name]]


OVERLAP_M2 = 100.0
"""Shared area (square metres) above which two units count as overlapping, not as digitising noise."""


def _warn_overlaps(units: gpd.GeoDataFrame, path: Path) -> None:
    """Warn, naming the pairs, when units overlap: an area in an overlap could belong to either."""
    geoms = units.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = shared > OVERLAP_M2
    if big.any():
        pairs = [
            f"{units.index[a]} & {units.index[b]}: {m2:,.0f} m²"
            for a, b, m2 in zip(left[big], right[big], shared[big], strict=True)
        ]
        warnings.warn(
            f"{path}: {len(pairs)} pairs of units overlap ({first_few(pairs, 3)}); an area in an overlap is given "
            "to the unit that holds most of it: fix the boundaries in GIS if that is not what you mean",
            OverlappingUnitsWarning,
            stacklevel=3,
        )


# Markers statistical publishers use for suppressed or unavailable cells. A cell with
# one of these is missing with that reason, never zero.
SUPPRESSION_MARKERS = frozenset({"*", "c", ":", "..", "x", "~", "-", "[c]", "[x]", "[z]", "[low]", "n/a", "na"})


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    little = len(raw) > 3 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00"
    big = len(raw) > 3 and raw[0:1] == b"\x00" and raw[2:3] == b"\x00"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or little or big:
        codec = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le" if little else "utf-16-be"
        try:  # Excel's "Unicode Text": UTF-16, usually tab-separated
            return _lines(raw.decode(codec).lstrip("\ufeff"))
        except UnicodeDecodeError:
            raise ValidationError(
                f"{path}: looks like UTF-16 text (Excel's 'Unicode Text') but cannot be read as it; "
                "save it from Excel as 'CSV UTF-8 (Comma delimited)'"
            ) from None
    if b"\x00" in raw:
        raise ValidationError(
            f"{path}: holds NUL bytes, so it is not a text table (a binary file, or text in an encoding lacgeo "
            "cannot tell); save it from Excel as 'CSV UTF-8 (Comma delimited)'"
        )
    try:
        return _lines(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        warnings.warn(
            f"{path}: not UTF-8; read as Windows-1252 (cp1252). Save it as UTF-8 CSV to silence this",
            TextEncodingWarning,
            stacklevel=3,
        )
        return _lines(raw.decode("cp1252", errors="replace"))


def _lines(text: str) -> str:
    """Text with every line ending as a newline: Windows (CRLF) and old Mac (CR only) files alike."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _hidden_rows(path: Path, sheet: str) -> set[int]:
    """Row numbers hidden in the sheet (a read-only workbook cannot say, so the sheet is opened fully)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=False, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        return {n for n, dim in ws.row_dimensions.items() if dim.hidden}
    finally:
        book.close()


def _uncalculated_formulas(path: Path, sheet: str, values: list[list[object]]) -> set[tuple[int, int]]:
    """(row number, column position) of every formula cell with no cached value: blank in ``values``
    (the sheet as already read, cached values only), a formula when the file is read again for them."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        formulas = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        return {
            (n, j)
            for n, (f_row, v_row) in enumerate(zip(formulas, values, strict=False), start=1)
            for j, (f, v) in enumerate(zip(f_row, v_row, strict=False))
            if v is None and isinstance(f, str) and f.startswith("=")
        }
    finally:
        book.close()


DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def _delimited_rows(text: str, columns: list[str], *, first: str) -> list[list[str]]:
    """The rows of a delimited text table: split on ``first`` or, if that finds no header holding every
    wanted column, on the delimiter that does (Excel writes semicolons in many European locales and
    tabs for 'Unicode Text')."""
    wanted = {c.strip().casefold() for c in columns}
    tried = {}
    for sep in dict.fromkeys([first, *DELIMITERS]):
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        head = [r for r in rows[:30] if wanted <= {c.strip().casefold() for c in r}]
        if head:
            return rows
        tried[sep] = rows
    return tried[first]


def _find_header(rows: list[list[object]], columns: list[str]) -> int:
    """Index of the first row that contains every wanted column name (XLSX titles often come first)."""
    wanted = {c.strip().casefold() for c in columns}
    for i, row in enumerate(rows[:30]):
        cells = {str(c).strip().casefold() for c in row if c is not None}
        if wanted <= cells:
            return i
    return 0


def read_table(path: str | Path, *, columns: list[str], sheet: str = "") -> pd.DataFrame:
    """Read a CSV or XLSX table as text, keeping every cell exactly as written.

    The header row may start a few rows down (titles above a table in a spreadsheet);
    it is the first row holding all of ``columns``. Text files may be UTF-8 (with or
    without a byte-order mark) or Windows-1252 (warned). A missing column is an error
    that suggests the closest name.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise ValidationError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    uncalculated: set[tuple[int, int]] = set()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            if sheet and sheet not in book.sheetnames:
                raise ValidationError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(book.sheetnames)}")
            rows = [list(r) for r in (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)]
            book.close()
            if any(c is None for r in rows for c in r):
                uncalculated = _uncalculated_formulas(path, sheet, rows)
        elif suffix in {".csv", ".txt", ".tsv"}:
            rows = _delimited_rows(_read_text(path), columns, first="\t" if suffix == ".tsv" else ",")
        else:
            raise ValidationError(f"{path}: unsupported table format {suffix!r}; use CSV or XLSX")
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, reported in one line
        raise ValidationError(f"{path}: cannot read it as a {suffix.lstrip('.').upper()} table ({exc})") from None
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(c not in (None, "") for c in r)]
    if not numbered:
        raise ValidationError(f"{path}: the file has no rows")
    inside = range(numbered[0][0] + 1, numbered[-1][0])  # blank lines between the first and last rows
    kept = {n for n, _ in numbered}
    blank = [n for n in inside if n not in kept]
    if blank and len(columns) == 1:  # one column: a blank line is a record with no value, not spacing
        warnings.warn(
            f"{path}: {len(blank)} blank rows between records (rows {first_few(blank)}) are left out; with one "
            f"column ({columns[0]!r}) each may be a record with no value: fill them in if so",
            RowWarning,
            stacklevel=2,
        )
    if suffix in {".xlsx", ".xlsm"}:
        hidden = _hidden_rows(path, sheet) & kept
        if hidden:
            warnings.warn(
                f"{path}: {len(hidden)} rows are hidden in Excel (rows {first_few(sorted(hidden))}) and are read like "
                "the others; delete them from the sheet if they should not count",
                RowWarning,
                stacklevel=2,
            )
    head = _find_header([r for _, r in numbered], columns)
    header = [str(c).strip() if c is not None else "" for c in numbered[head][1]]
    width = len(header)
    twice = sorted({c for c in columns if header.count(c) > 1})
    if twice:
        where = "; ".join(
            f"{c!r} is columns {', '.join(str(i + 1) for i, h in enumerate(header) if h == c)}" for c in twice
        )
        raise ValidationError(f"{path}: the header names a column twice ({where}); rename or delete one of them")
    wide = [n for n, r in numbered[head + 1 :] if any(c not in (None, "") for c in list(r)[width:])]
    if wide:
        raise ValidationError(
            f"{path}: {len(wide)} rows have more cells than the header's {width} (rows {first_few(wide)}); an "
            "unquoted comma inside a number (1,204) or a name splits a cell in two. Quote such cells, or save "
            "the file as XLSX"
        )
    body = [
        [("" if c is None else str(c)) for c in (list(r) + [None] * (width - len(r)))[:width]]
        for _, r in numbered[head + 1 :]
    ]
    table = pd.DataFrame(body, columns=header, dtype="string")
    table.index = pd.Index([n for n, _ in numbered[head + 1 :]], name="row")  # spreadsheet/file row numbers
    for col in columns:
        if col not in header:
            continue
        cells = [n for n in table.index if (n, header.index(col)) in uncalculated]
        if cells:
            raise ValidationError(
                f"{path}, column {col!r}: {len(cells)} cells are formulas with no calculated value (rows "
                f"{first_few(cells)}): the file was saved without calculating them, as scripts write XLSX; open it "
                "in Excel and save it, or paste the values"
            )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        tips = []
        for col in missing:
            close = difflib.get_close_matches(col, header, n=1, cutoff=0.5)
            tips.append(f"{col!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        hint = ""
        if len(header) == 1:
            seps = [name for sep, name in DELIMITERS.items() if sep in header[0]]
            hint = f" (one column: is the file {seps[0]}-separated?)" if seps else ""
        raise ValidationError(f"{path}: no column {', '.join(tips)}; the header has {first_few(header, 8)}{hint}")
    if table.empty:
        raise ValidationError(f"{path}: the table has a header but no data rows")
    return table


THOUSANDS = r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?"
"""A number written with thousands separators: 1,204 or 12,345,678.9 (never "0,250": a leading zero
before the comma makes it a decimal comma)."""


def parse_numbers(values: pd.Series, *, source: str, column: str) -> tuple[pd.Series, pd.Series]:
    """Numbers from text cells: thousands separators allowed, suppression markers kept as missing.

    Returns ``(numbers, reason)``: ``reason`` is "" for a number and says why a value
    is missing otherwise ("suppressed ('*')", "blank"). Text that is neither a number
    nor a known marker is an error listing the rows.
    """
    text = values.fillna("").astype(str).str.strip()
    # A comma is a thousands separator only in groups of three digits ("1,204"); "92,3" or "1.234,5" is a
    # decimal comma (European-locale Excel), which read as a separator would silently make 92.3 into 923.
    with_comma = text.str.contains(",", regex=False)
    decimal_comma = with_comma & ~text.str.fullmatch(THOUSANDS)
    if decimal_comma.any():
        rows = [f"row {r}: {v!r}" for r, v in text[decimal_comma].items()]
        raise ValidationError(
            f"{source}, column {column!r}: {int(decimal_comma.sum())} values use a decimal comma ({first_few(rows)}), "
            "as Excel writes numbers in European locales; lacgeo reads a comma only as a thousands separator "
            "(1,204): save the file with decimal points, or as XLSX"
        )
    cleaned = text.str.replace(",", "", regex=False).str.replace("\u00a0", "", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce")
    reason = pd.Series("", index=values.index, dtype=object)
    marker = text.str.casefold().isin(SUPPRESSION_MARKERS)
    reason[marker] = "suppressed (" + text[marker].map(repr) + ")"
    reason[text == ""] = "blank"
    problems = []
    bad = numbers.isna() & (reason == "")
    if bad.any():
        rows = [f"row {r}: {v!r}" for r, v in text[bad].items()]
        problems.append(
            f"{source}, column {column!r}: {int(bad.sum())} cells are not numbers ({first_few(rows)}); "
            "use numbers, or a suppression marker such as * or c"
        )
    infinite = numbers.notna() & ~np.isfinite(numbers.astype(float))
    if infinite.any():
        rows = [f"row {r}: {v!r}" for r, v in text[infinite].items()]
        problems.append(
            f"{source}, column {column!r}: {int(infinite.sum())} cells are infinite ({first_few(rows)}); "
            "a spreadsheet writes inf for a division by zero: give the number, or a suppression marker"
        )
    if problems:
        raise ValidationError(problems)
    return numbers.astype(float), reason


def normalise_codes(codes: pd.Series, *, source: str) -> pd.Series:
    """Area codes stripped of spaces and upper-cased, with a warning if any changed."""
    text = codes.fillna("").astype(str)
    fixed = text.str.replace(r"\s+", "", regex=True).str.upper()
    changed = text != fixed
    if changed.any():
        warnings.warn(
            f"{source}: repaired {int(changed.sum())} codes with spaces or lower case "
            f"({first_few(text[changed].map(repr))})",
            CodeRepairWarning,
            stacklevel=2,
        )
    return fixed


def read_points(path: str | Path, *, x_col: str, y_col: str, crs: str, sheet: str = "") -> gpd.GeoDataFrame:
    """Point records from a table with coordinates in ``crs``, returned in EPSG:27700."""
    table = read_table(path, columns=[x_col, y_col], sheet=sheet)
    problems = []
    coords = {}
    for col in (x_col, y_col):
        text = table[col].fillna("").str.strip()
        comma = text.str.contains(",", regex=False) & ~text.str.fullmatch(THOUSANDS)
        if comma.any():
            rows = [f"row {r}: {v!r}" for r, v in text[comma].items()]
            problems.append(
                f"{path}, column {col!r}: {int(comma.sum())} coordinates use a decimal comma ({first_few(rows)}), "
                "as European-locale Excel writes them; save the file with decimal points"
            )
            continue
        numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.fillna(0).astype(float))
        if bad.any():
            listed = [f"row {r}: {v!r}" for r, v in text[bad].items()]
            problems.append(
                f"{path}, column {col!r}: {int(bad.sum())} records have no usable coordinate ({first_few(listed)}); "
                "give a number for each, or remove the record"
            )
        coords[col] = numbers
    if problems:
        raise ValidationError(problems)
    try:
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(coords[x_col], coords[y_col]), index=table.index, crs=crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types for a bad CRS
        raise ValidationError(
            f"{path}: crs = {crs!r} is not a coordinate reference system ({exc}); "
            "use EPSG:27700 for easting/northing or EPSG:4326 for longitude/latitude"
        ) from None
    return points.to_crs(BNG)
