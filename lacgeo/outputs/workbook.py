"""``lacgeo.xlsx``, the run's tables for colleagues who do not use GIS.

One sheet per table (the same tables as the CSVs, with the same disclosure control, and the
evaluation design's three tables when the run has one), a *Rollout* sheet, a *Columns* sheet that
explains every column in plain English and an *About* sheet with the provenance, the attribution
and, for made-up data, the SYNTHETIC warning.

Each sheet holds one Excel table (a ListObject named ``lacgeo_<sheet>``, which Power BI and
Excel's *Get Data* list by name) under a frozen header row. Numbers are stored in full and
shown by kind: costs as £150,000, shares and probabilities as percentages, populations and
counts as whole numbers with thousands separators, quintiles as numbers. Withheld values
are empty cells.

Text is always written as text: a value that starts with ``=``, ``+``, ``-`` or ``@``
(or any other) is never stored as a formula. The file carries no run date, and its
zip entries have fixed timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from .. import load
from .._version import __version__
from ..load import KINDS
from ..need import SHIPPED_INDICATORS
from ..result import RunResult
from ..schema import PHASE, DeprivationIndex
from .manifest import manifest
from .tables import (
    EVALUATION_FILES,
    FORMULA_START,
    SYNTHETIC_NOTE,
    area_table,
    assessment_table,
    column_kind,
    comparison_table,
    district_table,
    evaluation_tables,
    number_column,
    patch_table,
    rollout_table,
)

FIXED_TIME = datetime.datetime(2000, 1, 1)  # no run date: the same inputs give the same file
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_TEXT = 32_767  # Excel's limit for one cell
WARNING_FILL = PatternFill("solid", fgColor="FFF3CD")

SHEET_NOTES = {
    "About": "What this workbook is, how it was made, attribution.",
    "Patches": "One row per patch, highest need first (the same table as patches.csv).",
    "Areas": "One row per small area (LSOA) (the same table as areas.csv).",
    "Needs assessment": "Each indicator by local deprivation quintile with 95% confidence intervals "
    "(the same table as needs_assessment.csv).",
    "Rollout": "One row per phase of the rollout plan.",
    "Districts": "For an area of several districts: people, patches, phase-1 coordinators and need by district "
    "(the same table as districts.csv).",
    "Comparisons": "Each patch against the area and the nation on the catalogue indicators (the same table as "
    "comparisons.csv).",
    "Evaluation": "For a later evaluation of phase 1: each phase-1 pick and the comparison patches matched to it, "
    "closest first (the same table as evaluation.csv).",
    "Evaluation balance": "How alike the picks and their comparison patches are on each matching variable, before "
    "and after matching (the same table as evaluation_balance.csv).",
    "Evaluation baseline": "Every indicator's baseline value, interval and data period for the picks and their "
    "comparison patches: measure them again at the same kind of period to compare the changes (the same table "
    "as evaluation_baseline.csv).",
    "Columns": "What every column of every sheet means.",
}

FALLBACK = "(no description yet)"


# --- plain-English column descriptions ---------------------------------------------------


def _indicator_words(result: RunResult, name: str) -> tuple[str, str]:
    """(label, how the value is measured) for an indicator."""
    spec = next((s for s in result.config.need.indicators if s.name == name), None)
    label = (spec.label if spec and spec.label else "") or SHIPPED_INDICATORS.get(name, name)
    if name in result.sources:
        how = (
            "council data, a rate per 1,000 residents; blank where withheld so that counts of 1 to "
            f"{result.config.disclosure.small_count_max} cannot be worked out"
        )
    elif name == "preventable_mortality_smr":
        how = "standardised mortality ratio, England = 100 (Local Health, deaths 2015-19)"
    else:
        how = f"{SHIPPED_INDICATORS.get(name, 'indicator value')}; higher = more deprived"
    return label, how


def _index_name(index: DeprivationIndex) -> str:
    """ "Index of Multiple Deprivation" or "Welsh Index of Multiple Deprivation"."""
    return "Welsh Index of Multiple Deprivation" if index.key == "wimd" else "Index of Multiple Deprivation"


def describe_column(result: RunResult, sheet: str, column: str) -> str:
    """One sentence on what ``column`` of ``sheet`` holds; ``FALLBACK`` if lacgeo has no description."""
    vintage = result.config.area.vintage
    index = result.deprivation
    release = index.release
    patch = sheet == "Patches"
    if column.startswith(("value_", "contrib_")):
        kind, name = column.split("_", 1)
        label, how = _indicator_words(result, name)
        if kind == "contrib":
            return (
                f"Contribution of {label} to the area's need index (its weight share x its standardised value); "
                "the contributions add up to need_index."
            )
        where = "the patch (population-weighted, or summed counts per 1,000 for council data)" if patch else "the area"
        return f"{label} for {where}: {how}."
    if column.startswith(index.share(1)[:-1]) and column[-1].isdigit():
        q = column[-1]
        words = {"1": f" (the most deprived 20% of areas in {index.nation})", "5": " (the least deprived 20%)"}.get(
            q, ""
        )
        return f"Share of the patch's residents living in areas in national {index.short} quintile {q}{words}."
    common = {
        "area_code": f"ONS code of the small area (LSOA {vintage}).",
        "area_name": "ONS name of the small area (LSOA).",
        "patch_name": "Name of the patch, from the neighbourhood (MSOA) names it covers.",
        index.quintile: f"National {index.short} quintile of the area: 1 = the most deprived 20% of areas in "
        f"{index.nation}, 5 = the least deprived 20%.",
        index.local_quintile: "Local deprivation quintile: fifths of the local authority's residents by "
        f"{index.short} score, 1 = the most deprived fifth.",
        "msoa_name": "House of Commons Library name of the MSOA (2011) the area lies in: a recognisable "
        "neighbourhood name.",
        "msoa_name_cy": "Welsh-language name of that MSOA (House of Commons Library).",
        "patch_name_cy": "Welsh-language name of the patch, from the Welsh names of its MSOAs.",
        "ward_name": f"Electoral ward the area lies in (best fit; {'2024' if vintage == '2021' else '2019'} wards).",
        "rank": "Need rank of the patch: 1 = the highest need index. The areas of coordinators already in post "
        "(phase 0) are not ranked for rollout and take the last ranks.",
        "n_areas": "Number of small areas (LSOAs) in the patch."
        if patch
        else "Number of small areas (LSOAs) with a value in this group.",
        "phase": "Rollout phase: 0 = a coordinator already in post (the area kept exactly as the council gave it, "
        "not ranked); 1 = recommended to start first; later phases follow in order of need.",
        "excess_need": "Population x (need index - the local authority's mean need index), summed over the patch: "
        "how much above-average need the patch holds.",
        "band_status": "'in band' if the patch's population is inside the target band, otherwise the reason "
        "it cannot be (a coordinator's area in post is kept as given, in the band or not).",
        "need_profile": "The need profile (a group of areas with a similar shape of need) holding most of the "
        "patch's residents.",
        "need_profile_share": "Share of the patch's residents living in that need profile.",
        "data_status": "SYNTHETIC marker: present only when the run used made-up data; not for decisions.",
        "indicator": "Indicator name, as in the config.",
        "label": "Indicator label, as in the config.",
        "quintile": "Local deprivation quintile, 1 = the most deprived fifth of residents to 5 = the least; "
        "'All' = the whole local authority.",
        "value": "The indicator in this group: a rate per 1,000 residents for council counts, otherwise the "
        "population-weighted mean over the areas; blank where withheld.",
        "lower": "Lower limit of the 95% confidence interval; blank where withheld.",
        "upper": "Upper limit of the 95% confidence interval; blank where withheld.",
        "method": "How the value and its interval were computed.",
        "count": "Number of council events in the group (council data only); blank where withheld.",
        "n_patches": "Number of patches in the phase.",
        "annual_cost": "Yearly cost of the phase's coordinators (one per patch, at the run's cost per coordinator).",
        "coordinators_to_date": "Coordinators in post once this phase has started (this and earlier phases).",
        "annual_cost_to_date": "Yearly cost of all coordinators to this phase.",
        "population_share_to_date": "Share of the local authority's residents covered by this and earlier phases.",
        "p_top_n": f"Share of the robustness draws (weights, and council counts, varied at random) in which the patch "
        f"is in the top {result.config.recommend.n}.",
        "rank_low": "Best need rank in the middle 95% of the robustness draws.",
        "rank_high": "Worst need rank in the middle 95% of the robustness draws.",
        "robustness": "A warning when a phase-1 patch is in the top n in too few robustness draws; blank otherwise.",
        "patch_ids": "The phase's patches, highest need first.",
        "patch_names": "Names of those patches, in the same order.",
        "district": "The district (or Welsh principal area) holding most of the patch's residents."
        if patch
        else "District (or Welsh principal area); 'All' = the whole study area.",
        "district_code": "ONS code of that district.",
        "district_share": "Share of the patch's residents living in that district (below 1: the patch crosses "
        "a district boundary).",
        "lsoas": "Number of small areas (LSOAs) in the district.",
        "patches": "Patches counted in the district (each patch in the district holding most of its residents).",
        "patches_crossing": "Of those, patches that reach into another district.",
        "phase1": "Phase-1 coordinators: phase-1 patches counted in the district.",
        "phase1_population": "The district's residents living inside a phase-1 patch.",
        "unit": "The indicator's unit (see `lacgeo indicators`).",
        "polarity": "Which way is more need: higher_is_worse, higher_is_better, or context (neither).",
        "patch_value": "The patch's value: summed Census counts' share, or the population-weighted mean of its "
        "areas' values.",
        "area_value": "The same for the whole study area.",
        "national_value": "The nation's value (England or Wales), computed when lacgeo's data were built; blank "
        "where no national figure is shipped.",
        "compared_with_nation": "Whether the patch is significantly worse than, similar to or better than the "
        "nation (95% interval; higher or lower for context indicators), or 'not tested' where the source "
        "publishes no interval.",
        "pick_id": "The phase-1 pick (patch code, see the Patches sheet).",
        "pick_name": "Name of the phase-1 pick.",
        "comparator_id": "A comparison patch matched to the pick (patch code): not a pick, no coordinator in post, "
        "and not next to either, so the work does not spill over into it.",
        "comparator_name": "Name of the comparison patch.",
        "match_order": "1 = the pick's closest comparison patch, 2 = the next, and so on.",
        "distance": "How unlike the pick the comparison patch is: the distance over population and the matching "
        "indicators, each in standard deviations over the picks and the eligible patches (0 = identical).",
        "same_profile": "Whether the comparison patch has the pick's need profile (most residents in the same "
        "group of areas with a similar shape of need).",
        "pick_population": "Residents of the pick.",
        "comparator_population": "Residents of the comparison patch.",
        "variable": "A matching variable: population, or an indicator of the need index published as open data "
        "(council data is never matched on).",
        "mean_picks": "Mean over the phase-1 picks (each patch counts once).",
        "mean_eligible": "Mean over every patch that could have been a comparison patch (before matching).",
        "mean_comparators": "Mean over the matched comparison patches (after matching).",
        "smd_before": "Standardised mean difference between the picks and all eligible patches: the difference of "
        "the means in pooled standard deviations.",
        "smd_after": "Standardised mean difference between the picks and their comparison patches.",
        "balanced": "True where |smd_after| < 0.1, the usual sign that picks and comparators are alike on the "
        "variable at baseline.",
        "role": "'pick', or 'comparator for' the pick it is matched to.",
        "period": "When the indicator's data are from: measure it again for a period of the same kind to compare "
        "the change in the picks with the change in their comparison patches.",
        "Item": "What the row describes.",
        "Value": "Its value.",
        "sheet": "A sheet of this workbook.",
        "column": "A column of that sheet.",
        "description": "What the column holds, in plain English.",
    }
    by_sheet = {
        ("Areas", "patch_id"): "The patch this area belongs to (see the Patches sheet).",
        ("Comparisons", "patch_id"): "The patch (see the Patches sheet).",
        ("Evaluation baseline", "patch_id"): "The pick or comparison patch (see the Patches sheet).",
        ("Evaluation baseline", "indicator"): "Catalogue name of the indicator (see `lacgeo indicators`).",
        ("Evaluation baseline", "label"): "Indicator label, from the catalogue.",
        ("Evaluation baseline", "lower"): "Lower limit of the patch value's 95% confidence interval (Census "
        "shares only); blank where none can be computed.",
        ("Evaluation baseline", "upper"): "Upper limit of that interval; blank where none can be computed.",
        ("Evaluation balance", "label"): "The variable's label.",
        ("Comparisons", "indicator"): "Catalogue name of the indicator (see `lacgeo indicators`).",
        ("Comparisons", "label"): "Indicator label, from the catalogue.",
        ("Comparisons", "lower"): "Lower limit of the patch value's 95% confidence interval (Census shares "
        "only); blank where none can be computed.",
        ("Comparisons", "upper"): "Upper limit of that interval; blank where none can be computed.",
        ("Patches", "patch_id"): "Patch code, unique within this run.",
        ("Areas", "population"): "Residents of the area: "
        + ("ONS Census 2021 usual residents (TS038)." if vintage == "2021" else "ONS mid-2020 estimate."),
        ("Patches", "population"): "Residents of the patch: the sum over its areas.",
        ("Needs assessment", "population"): "Residents in the group.",
        ("Rollout", "population"): "Residents of the phase's patches.",
        ("Rollout", "need_index"): "Mean need index of the phase's patches, weighted by population.",
        ("Districts", "need_index"): "Mean need index of the district's areas, weighted by population (the index "
        "is standardised over the whole study area; compare with the 'All' row).",
        ("Districts", "population"): "Residents of the district, summed over its LSOAs ("
        + ("Census 2021 usual residents)." if vintage == "2021" else "ONS mid-2020 estimates)."),
        ("Areas", "need_index"): "Need index of the area: the weighted average of its standardised indicators, "
        "higher = more need. It is relative within the local authority.",
        ("Patches", "need_index"): "Need index of the patch: the population-weighted mean over its areas; "
        "higher = more need, relative within the local authority.",
        ("Areas", index.score): f"{_index_name(index)} score ({release}); higher = more deprived.",
        ("Patches", index.score): f"{index.short} score ({release}), population-weighted mean over the patch's areas.",
    }
    return by_sheet.get((sheet, column)) or common.get(column) or FALLBACK


# --- cells --------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """A cell value openpyxl writes as itself: None, bool, int, float (6 dp, as the CSVs) or str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else round(float(value), 6) + 0.0
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    return text[:MAX_TEXT]


def _put(ws, row: int, col: int, value: object):
    """Write one cell; text is always text (never a formula, an error code or a number)."""
    value = _plain(value)
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # Excel keeps it as text even when the cell is edited
    return cell


NUMBER_FORMATS: dict[str, str] = {
    "integer": "#,##0",
    "code": "0",
    "money": '"£"#,##0',
    "share": "0.0%",
    "index": "0.000",
    "total": "#,##0.0",
    "value": "#,##0.00",
}
"""Excel number format per kind of column (:func:`lacgeo.outputs.tables.column_kind`): populations and
counts with thousands separators, codes (rank, phase, quintile) plain, costs in whole pounds, shares and
probabilities as percentages, the need index to 3 decimals, other measures to 2. Cells hold the full
value (6 decimals, as before); the format only changes what is shown."""
TABLE_STYLE = "TableStyleLight9"
WIDTH_MIN, WIDTH_MAX = 8, 60


def table_name(sheet: str) -> str:
    """The Excel table (ListObject) name of a sheet's table: unique, valid, never a cell reference.

    >>> table_name("Needs assessment")
    'lacgeo_needs_assessment'
    """
    return "lacgeo_" + "".join(c if c.isalnum() else "_" for c in sheet.lower())


def _shown(value: object, kind: str | None) -> str:
    """Roughly what Excel shows for ``value`` in a column of ``kind`` (for the column width)."""
    if value is None:
        return ""
    if kind is None or not isinstance(value, int | float):
        return str(value)
    shown = {
        "integer": f"{value:,.0f}",
        "code": f"{value:.0f}",
        "money": f"£{value:,.0f}",
        "share": f"{value:.1%}",
        "index": f"{value:.3f}",
        "total": f"{value:,.1f}",
    }
    return shown.get(kind, f"{value:,.2f}")


def _cell_values(series: pd.Series, kind: str | None) -> list[object]:
    """A column's cell values; a code column of digit text (a needs-assessment quintile) as numbers."""
    values = [_plain(v) for v in series]
    if kind is None and column_kind(str(series.name)) == "code":
        values = [int(v) if isinstance(v, str) and v.isdigit() else v for v in values]
    return values


def _write_table(ws, frame: pd.DataFrame, *, name: str) -> None:
    """Header row, then the rows, as one Excel table (filters, banded rows, a name Power BI lists),
    with a frozen header, number formats by column kind and widths that fit."""
    columns = [str(c) for c in frame.columns]
    for j, header in enumerate(columns, start=1):
        cell = _put(ws, 1, j, header)
        cell.font = Font(bold=True)
    for j, header in enumerate(columns, start=1):
        series = frame.iloc[:, j - 1].rename(header)
        empty = bool(series.isna().all()) and len(series) > 0  # all withheld: still a number column
        kind = column_kind(header) if empty or number_column(series) is not None else None
        values = _cell_values(series, kind)
        code_text = kind is None and any(isinstance(v, int) for v in values)  # quintile 1-5 and "All"
        fmt = NUMBER_FORMATS[kind] if kind else NUMBER_FORMATS["code"] if code_text else None
        for i, value in enumerate(values, start=2):
            cell = _put(ws, i, j, value)
            if fmt and (cell.value is None or isinstance(cell.value, int | float)):
                cell.number_format = fmt
        longest = max([len(header) + 3] + [len(_shown(v, kind)) for v in values])  # + 3: the filter button
        ws.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, WIDTH_MIN), WIDTH_MAX)
    ws.freeze_panes = "B2"
    ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"  # a table needs a row below its header
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True, showColumnStripes=False)
    table.autoFilter = AutoFilter(ref=ref)
    ws.add_table(table)


# --- sheets -------------------------------------------------------------------------------


def workbook_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """The data sheets, by name: the CSVs' tables (no geometry) and the rollout plan."""
    patches = pd.DataFrame(patch_table(result).drop(columns="geometry")).reset_index()
    areas = pd.DataFrame(area_table(result).drop(columns="geometry")).reset_index()
    tables = {"Patches": patches, "Areas": areas}
    if result.needs_assessment is not None:
        tables["Needs assessment"] = assessment_table(result).reset_index(drop=True)
    tables["Rollout"] = rollout_table(result)
    districts = district_table(result)
    if districts is not None:
        tables["Districts"] = districts
    comparisons = comparison_table(result)
    if comparisons is not None:
        tables["Comparisons"] = comparisons
    sheets = dict(zip(EVALUATION_FILES, ("Evaluation", "Evaluation balance", "Evaluation baseline"), strict=True))
    for name, table in evaluation_tables(result).items():
        tables[sheets[name]] = table
    return tables


def about_rows(result: RunResult) -> list[tuple[str, str]]:
    """Provenance without a run date: LA, version, seed, vintage, settings, inputs, attribution."""
    cfg = result.config
    vintage = cfg.area.vintage
    p = cfg.patches
    rows: list[tuple[str, str]] = []
    if result.synthetic:
        rows.append(("WARNING", SYNTHETIC_NOTE))
    title = f"lacgeo: Local Area Coordination patches for {result.lad_name}"
    rows += [
        ("Title", title + (" (SYNTHETIC data)" if result.synthetic else "")),
        ("Area", f"{result.lad_name} ({result.lad_code})"),
        *(
            [("Made of", "; ".join(p.label for p in result.area.places))]
            if result.area is not None and len(result.area.places) > 1
            else [("Kind", KINDS[result.area.kind])]
            if result.area is not None
            else []
        ),
        ("lacgeo version", __version__),
        ("Seed", str(cfg.seed)),
        ("Geography", f"LSOA {vintage}"),
        (
            "Deprivation",
            f"{result.deprivation.title} ({result.deprivation.release}), ranked within {result.deprivation.nation}",
        ),
        ("Need index", f"standardised by {cfg.need.standardise}; missing values: {cfg.need.missing}"),
    ]
    for spec in cfg.need.indicators:
        label = spec.label or SHIPPED_INDICATORS.get(spec.name, spec.name)
        rows.append(("Indicator", f"{label} ({spec.name}), weight {spec.weight:g}, {spec.direction.replace('_', ' ')}"))
    for name, why in result.left_out.items():
        rows.append(("Left out", f"{SHIPPED_INDICATORS.get(name, name)} ({name}): {why}; nothing is filled in"))
    lo, hi = round(p.target_population * (1 - p.band)), round(p.target_population * (1 + p.band))
    in_post = result.patches[result.patches[PHASE] == 0].sort_index()
    rows += [
        ("Patches", f"{len(result.patches)} patches of {lo:,} to {hi:,} people (target {p.target_population:,})"),
        ("Boundaries not crossed", str(p.nest_within)),
        *(
            [("In post", "; ".join(f"{pid} {row['patch_name']}" for pid, row in in_post.iterrows()))]
            if len(in_post)
            else []
        ),
        ("Phase 1", "; ".join(f"{pid} {row['patch_name']}" for pid, row in result.recommended.iterrows())),
        ("Later phases", f"up to {cfg.recommend.phase_size} patches each, in order of need"),
        ("Areas", f"{len(result.areas)} LSOAs, {int(result.areas['population'].sum()):,} residents"),
        (
            "Disclosure control",
            f"council counts of 1 to {cfg.disclosure.small_count_max}, and any value that would reveal one, "
            "are left blank",
        ),
    ]
    for source in cfg.sources:
        rows.append(("Council data", f"{source.label or source.name}{' (SYNTHETIC)' if source.synthetic else ''}"))
    for item in manifest(result)["inputs"]:
        rows.append(("Input file", f"{item['path']} ({item['bytes']:,} bytes, SHA-256 {item['sha256']})"))
    if result.evaluation is not None:
        rows.append(
            (
                "Evaluation",
                f"up to {cfg.recommend.comparators} comparison patches per phase-1 pick, matched on population and "
                "the need index's open-data indicators; not a pick, no coordinator in post, not next to either",
            )
        )
    rows.append(("Attribution", load.ATTRIBUTION))
    rows += [("Data source", line) for line in load.DATA_SOURCES]
    rows += [(f"Sheet: {name}", note) for name, note in SHEET_NOTES.items()]
    return rows


def build_workbook(result: RunResult) -> Workbook:
    """The workbook in memory (see :func:`write_workbook`)."""
    wb = Workbook()
    about = wb.active
    about.title = "About"
    tables = workbook_tables(result)
    about_frame = pd.DataFrame(about_rows(result), columns=["Item", "Value"])
    for name, frame in tables.items():
        _write_table(wb.create_sheet(name), frame, name=table_name(name))
    columns = [("About", c) for c in about_frame.columns]
    columns += [(name, c) for name, frame in tables.items() for c in frame.columns]
    columns += [("Columns", c) for c in ("sheet", "column", "description")]
    described = pd.DataFrame(
        [(sheet, col, describe_column(result, sheet, col)) for sheet, col in columns],
        columns=["sheet", "column", "description"],
    )
    _write_table(wb.create_sheet("Columns"), described, name=table_name("Columns"))
    _write_table(about, about_frame, name=table_name("About"))
    about.column_dimensions["B"].width = 110
    for (cell,) in about.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if result.synthetic:
        for cell in about[2]:
            cell.font = Font(bold=True, color="7A0000")
            cell.fill = WARNING_FILL
        for ws in wb.worksheets:
            ws.sheet_properties.tabColor = "B2182B"
    props = wb.properties
    props.creator = props.lastModifiedBy = f"lacgeo {__version__}"
    props.title = about_frame.loc[about_frame["Item"] == "Title", "Value"].iloc[0]
    props.created = props.modified = FIXED_TIME
    return wb


def workbook_bytes(result: RunResult) -> bytes:
    """The XLSX file's bytes: identical for identical inputs (fixed dates, fixed zip timestamps)."""
    wb = build_workbook(result)
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(wb, archive).save()  # not wb.save(): that stamps the current time as "modified"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_workbook(result: RunResult, path: str | Path) -> Path:
    """Write ``lacgeo.xlsx``: Patches, Areas, Needs assessment, Rollout, Columns and About sheets."""
    path = Path(path)
    path.write_bytes(workbook_bytes(result))
    return path


__all__ = ["build_workbook", "describe_column", "workbook_bytes", "workbook_tables", "write_workbook"]
