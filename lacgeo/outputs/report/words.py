"""The words and numbers of ``report.html``: formatting, labels, national reference values and the
names of the run's deprivation index (England's IMD or Wales's WIMD, never mixed).

Plain functions of values (no page structure), shared by the report's sections.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os

import pandas as pd

from ... import load, need
from ...catalogue import CATALOGUE
from ...need import SHIPPED_INDICATORS, national_quintile
from ...result import RunResult
from ...schema import POPULATION, DeprivationIndex, deprivation_index

log = logging.getLogger(__name__)

SMR = "preventable_mortality_smr"
FIFTHS = {1: "most deprived", 2: "second most deprived", 3: "middle", 4: "second least deprived", 5: "least deprived"}
STANDARDISE_WORDS = {
    "zscore": "standard deviations from the local authority mean (z-scores)",
    "rank": "ranks within the local authority scaled from 0 to 1",
    "exponential": "the exponential transform of the rank used by the Indices of Deprivation (0 to 100)",
}


# --- numbers, words and reference values --------------------------------------------------


def num(value: float, decimals: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{round(float(value), decimals) + 0.0:,.{decimals}f}"


def count_of(count: int, word: str, plural: str = "") -> str:
    """'1 patch', '3 patches'."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def signed(value: float) -> str:
    return f"{round(float(value), 2) + 0.0:+.2f}"


def pct(share: float) -> str:
    return "–" if pd.isna(share) else f"{100 * float(share):.0f}%"


def value_text(name: str, value: float) -> str:
    """An indicator value: SMRs whole, others to 1 decimal place (2 below 1)."""
    return num(value, 0 if name == SMR else 1 if not pd.isna(value) and abs(value) >= 1 else 2)


def about(population: float) -> str:
    return f"{int(round(float(population), -2)):,}" if population >= 1000 else f"{int(population):,}"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def compare_word(value: float, ref: float) -> str:
    if pd.isna(value) or pd.isna(ref):
        return "compared with"
    if abs(value - ref) <= 0.05 * abs(ref):
        return "about the same as"
    return "higher than" if value > ref else "lower than"


def weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    keep = values.notna()
    w = weights[keep].astype(float)
    return float((values[keep].astype(float) * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def indicator_label(result: RunResult, name: str) -> str:
    spec = next((s for s in result.config.need.indicators if s.name == name and s.label), None)
    return spec.label if spec else SHIPPED_INDICATORS.get(name, name.replace("_", " "))


@functools.cache
def national_reference(nation: str, vintage: str) -> dict:
    """A nation's reference values on LSOA ``vintage``: population-weighted means of its shipped
    deprivation scores (for England also the preventable mortality SMR, 100 by definition), the
    population share in each national quintile of its own index, and its total population."""
    index = deprivation_index(nation, vintage)
    codes = pd.read_parquet(load.data_file(index.file), columns=[]).index
    scores = load.read_deprivation(codes, vintage=vintage)
    lsoa = pd.read_parquet(load.data_file(f"lsoa{vintage[2:]}.parquet"), columns=[POPULATION])
    pop = lsoa[POPULATION].reindex(scores.index).astype(float)
    means = {c: weighted_mean(scores[c], pop) for c in scores.columns if c.endswith("_score")}
    if nation == "England":
        means[SMR] = 100.0
    quintile = national_quintile(scores[index.decile])
    shares = {q: float(pop[quintile == q].sum() / pop.sum()) for q in range(1, 6)}
    return {"means": means, "quintile_shares": shares, "population": int(pop.sum())}


def national_value(nation: str, vintage: str, name: str) -> float:
    """The nation's value of one shipped indicator on LSOA ``vintage``: from
    :func:`national_reference` for the deprivation scores and the SMR, otherwise the one the
    patch comparisons use (:func:`lacgeo.need.national_value`, computed when the data are
    built). NaN where the indicator does not exist for the nation or no national figure is shipped."""
    reference = national_reference(nation, vintage)
    if name in reference["means"]:
        return float(reference["means"][name])
    return need.national_value(name, nation, vintage) if name in CATALOGUE else float("nan")


def england_reference(vintage: str) -> dict:
    """:func:`national_reference` for England: the IoD scores and IMD quintiles."""
    return national_reference("England", vintage)


def report_date(environ: dict[str, str] | None = None) -> dt.date:
    """The report's date: from ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC; the reproducible-builds
    convention) when it is set, so the same result gives a byte-identical report, else today."""
    raw = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            return dt.datetime.fromtimestamp(int(raw), tz=dt.UTC).date()
        except (ValueError, OverflowError, OSError):
            log.warning("SOURCE_DATE_EPOCH = %r is not a whole number of seconds; the report is dated today", raw)
    return dt.date.today()


def long_date(day: dt.date) -> str:
    """'7 December 2026'."""
    return f"{day.day} {day:%B %Y}"


def money(value: float) -> str:
    return f"£{float(value):,.0f}"


IN_POST = "in post"
"""Phase 0 in words: a coordinator already working in the area (``[[recommend.existing]]``), kept as given."""


def phase_text(phase: int, *, capital: bool = False) -> str:
    """A rollout phase as every output shows it: ``"in post"`` for phase 0, otherwise its number.

    >>> phase_text(0), phase_text(0, capital=True), phase_text(2)
    ('in post', 'In post', '2')
    """
    if int(phase) == 0:
        return IN_POST.capitalize() if capital else IN_POST
    return str(int(phase))


# --- plain-English text ------------------------------------------------------------------


def release_name(index: DeprivationIndex) -> str:
    """The index's release as outputs name it: 'IoD2025', 'IoD2019' or 'WIMD 2019'."""
    return index.release if index.key == "imd" else f"{index.short} {index.release.removeprefix(index.short)}"


def index_source(index: DeprivationIndex) -> str:
    """The index as a data source: 'the English Indices of Deprivation (IoD2025)',
    'the Welsh Index of Multiple Deprivation (WIMD 2019)'."""
    return f"the {index.title.removesuffix(' ' + index.release[-4:])} ({release_name(index)})"


def _catalogue() -> dict:
    """The shipped indicator catalogue (:mod:`lacgeo.catalogue`)."""
    return CATALOGUE


def _period(entry: object, release: str) -> str:
    """An entry's period; of a period naming both IoD releases ("IoD2025 (...) / IoD2019 (...)"), the
    run's own."""
    parts = str(getattr(entry, "period", "")).split(" / ")
    period = next((p for p in parts if p.startswith(release)), parts[0]).replace("-", "–")
    rest = period.removeprefix(release).strip()
    return rest[1:-1] if rest != period and rest.startswith("(") and rest.endswith(")") else period


def data_periods(result: RunResult) -> list[str]:
    """What the run's data is and when it is from, one plain-text line each (not escaped): the
    deprivation index, the boundaries and population, the period of each shipped indicator in the
    need index, and the council data (whose period the run cannot know)."""
    index, vintage, catalogue = result.deprivation, result.config.area.vintage, _catalogue()
    own = catalogue.get(index.score)
    lines = [
        f"Deprivation: {index_source(index).removeprefix('the ')}"
        + (f", {_period(own, index.release)}." if own is not None else f", published {index.release[-4:]}."),
        f"Neighbourhoods: ONS LSOA {vintage} boundaries; population "
        + (
            "from the Census 2021 usual residents (ONS, TS038)."
            if vintage == "2021"
            else "from the ONS mid-2020 small area estimates."
        ),
    ]
    council = {s.name: s for s in result.config.sources}
    for spec in result.config.need.indicators:
        if spec.name in council or spec.name == index.score:
            continue
        entry = catalogue.get(spec.name)
        if entry is not None:
            period = str(getattr(entry, "period", "")).split(" / ")
            period = next((p for p in period if p.startswith(index.release)), period[0]).replace("-", "–")
            publisher = getattr(entry, "publisher", "")
            lines.append(f"{indicator_label(result, spec.name)}: {period}" + (f"; {publisher}." if publisher else "."))
        elif spec.name == SMR:
            lines.append(f"{indicator_label(result, spec.name)}: Local Health (OHID), deaths registered 2015–19.")
    if council:
        synthetic = any(s.synthetic for s in council.values())
        lines.append(
            "Council data: "
            + "; ".join(s.label or s.name for s in council.values())
            + (" (SYNTHETIC: made up for the example)" if synthetic else ", for the periods the council supplied")
            + "; the files are listed under Data sources."
        )
    return lines


def fifth_of(index: DeprivationIndex, q: int) -> str:
    """A national fifth of neighbourhoods: "England's most deprived fifth of neighbourhoods (IMD quintile 1)"."""
    return f"{index.nation}'s {FIFTHS[q]} fifth of neighbourhoods ({index.short} quintile {q})"


def left_out_sentences(result: RunResult) -> list[str]:
    """One plain-text sentence (not escaped) per default indicator the run leaves out because it
    does not exist for the area's nation, with why (named as English runs name it); none for an
    English run."""
    labels = {name: spec.label for name, spec in CATALOGUE.items()}
    return [
        f"Left out of the need index: {labels.get(name) or indicator_label(result, name)} — {reason}. "
        "No value is filled in for it."
        for name, reason in result.left_out.items()
    ]


def bilingual(name: str, welsh: object = None) -> str:
    """A place name with its Welsh name after it where the data has a different one:
    'Bon-y-maen / Bôn-y-maen'."""
    return f"{name} / {welsh}" if isinstance(welsh, str) and welsh and welsh != name else str(name)
