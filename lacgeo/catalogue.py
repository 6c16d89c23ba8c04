"""The catalogue of shipped indicators: what each one measures, where it comes from, and
how it reaches an LSOA. The config and the need stage both read it.

Every shipped indicator is one :class:`Indicator`, grouped in five themes
(:data:`THEMES`). The catalogue is the single source of indicator metadata: ``lacgeo
indicators`` prints it, and the report, workbook and README take labels, units and
sources from it.

How a value reaches an analysis LSOA (``route``):

* ``native``: published for the LSOA itself (the Indices of Deprivation and their
  underlying indicators; WIMD).
* ``msoa_ratio``: a Local Health ratio or percentage published for the MSOA 2011. It is
  intensive, so an LSOA 2011 inherits its MSOA's value, and an LSOA 2021 takes the
  population-weighted mean over the LSOAs 2011 it was made from.
* ``share``: a percentage computed from Census 2021 counts (numerator / denominator
  x 100). The counts are published for LSOA 2021; for LSOA 2011 they are shared out
  with the ONS exact-fit lookup by population when the data are built, and the share is
  computed from the shared-out counts, never averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

THEMES = ("deprivation", "health outcomes", "service demand", "vulnerability", "context")
"""The themes, in the order the catalogue lists them."""

OGL = "Open Government Licence v3.0"
MHCLG = "MHCLG (English Indices of Deprivation)"
OHID = "OHID Local Health (from ONS and NHS Digital data)"
ONS = "ONS (Census 2021)"
WG = "Welsh Government (WIMD 2019)"

IOD = {"2021": "IoD2025 (data mostly 2021/22 to 2023/24)", "2011": "IoD2019 (data mostly 2015/16)"}
IOD_FILE = {"2021": "iod2025", "2011": "iod2019"}
DEATHS = "deaths registered 2015-19"
ADMISSIONS = "5 financial years, about 2015/16 to 2019/20"
CENSUS = "Census 2021 (21 March 2021)"


@dataclass(frozen=True)
class Indicator:
    """One shipped indicator and everything a user needs to judge it."""

    name: str
    """The name used in ``[[need.indicators]]``."""
    label: str
    theme: str
    unit: str
    polarity: str
    """``higher_is_worse``, ``higher_is_better``, or ``context`` (describes an area; not need by itself)."""
    period: str
    publisher: str
    geography: str
    """The geography it is published for."""
    route: str
    """How it reaches an analysis LSOA: ``native``, ``msoa_ratio`` or ``share`` (see the module notes)."""
    vintages: tuple[str, ...]
    nations: tuple[str, ...]
    file: str
    """The shipped file, with ``{v}`` for the LSOA vintage's two digits (``21`` or ``11``) and
    ``{iod}`` for the vintage's Indices of Deprivation (``iod2025`` or ``iod2019``)."""
    column: str = ""
    """Its column in ``file``; a share's numerator."""
    denominator: str = ""
    """A share's denominator column (counts), for confidence intervals."""
    licence: str = OGL
    note: str = ""
    binomial: bool = True
    """A share whose numerator counts people or households out of its denominator, so a Wilson
    interval applies (False for a share of whole LSOAs, such as the rural share)."""

    def exists_for(self, vintage: str, nation: str) -> bool:
        return vintage in self.vintages and nation in self.nations

    def file_for(self, vintage: str) -> str:
        return self.file.format(v=vintage[2:], iod=IOD_FILE[vintage])


def _iod(name: str, label: str, theme: str, unit: str, vintages: tuple[str, ...] = ("2021", "2011"), **kw) -> Indicator:
    geography = {("2021",): "LSOA 2021", ("2011",): "LSOA 2011"}.get(
        vintages, "LSOA (2021 for IoD2025, 2011 for IoD2019)"
    )
    return Indicator(
        name=name,
        label=label,
        theme=theme,
        unit=unit,
        polarity=kw.pop("polarity", "higher_is_worse"),
        period=" / ".join(IOD[v] for v in vintages),
        publisher=MHCLG,
        geography=geography,
        route="native",
        vintages=vintages,
        nations=("England",),
        **kw,
    )


def _domain(d: str, label: str, unit: str, vintages: tuple[str, ...] = ("2021", "2011")) -> Indicator:
    return _iod(f"{d}_score", label, "deprivation", unit, vintages, file="{iod}_lsoa{v}.parquet", column=f"{d}_score")


def _underlying(name: str, label: str, theme: str, unit: str, vintages=("2021", "2011"), **kw) -> Indicator:
    return _iod(name, label, theme, unit, vintages, file="iod_indicators_lsoa{v}.parquet", column=name, **kw)


def _local_health(name: str, label: str, theme: str, column: str, *, unit: str = "ratio, England = 100", **kw):
    return Indicator(
        name=name,
        label=label,
        theme=theme,
        unit=unit,
        polarity=kw.pop("polarity", "higher_is_worse"),
        period=kw.pop("period", DEATHS if theme == "health outcomes" else ADMISSIONS),
        publisher=OHID,
        geography="MSOA 2011",
        route="msoa_ratio",
        vintages=("2021", "2011"),
        nations=("England",),
        file="localhealth_msoa11.parquet",
        column=column,
        note=kw.pop("note", "Published without confidence intervals; values suppressed for small numbers are missing"),
        **kw,
    )


def _census(name: str, label: str, theme: str, unit: str, column: str, denominator: str, **kw) -> Indicator:
    return Indicator(
        name=name,
        label=label,
        theme=theme,
        unit=unit,
        polarity=kw.pop("polarity", "higher_is_worse"),
        period=kw.pop("period", CENSUS),
        publisher=ONS,
        geography="LSOA 2021",
        route="share",
        vintages=("2021", "2011"),
        nations=("England", "Wales"),
        file="census2021_lsoa{v}.parquet",
        column=column,
        denominator=denominator,
        **kw,
    )


def _wimd(d: str, label: str) -> Indicator:
    return Indicator(
        name=f"wimd_{d}_score" if d else "wimd_score",
        label=label,
        theme="deprivation",
        unit="score" if not d else "domain score",
        polarity="higher_is_worse",
        period="WIMD 2019 (data mostly 2016 to 2018)",
        publisher=WG,
        geography="LSOA 2011",
        route="native",
        vintages=("2011",),
        nations=("Wales",),
        file="wimd2019_lsoa11.parquet",
        column=f"wimd_{d}_score" if d else "wimd_score",
        note="Ranked within Wales; never comparable with the English IMD",
    )


ADM = "Emergency hospital admissions"
CATALOGUE_LIST: tuple[Indicator, ...] = (
    # deprivation
    _domain("imd", "IMD score", "score (higher = more deprived)"),
    _domain("income", "Income deprivation", "proportion of residents (0-1)"),
    _domain("employment", "Employment deprivation", "proportion of working-age residents (0-1)"),
    _domain("education", "Education, skills and training deprivation", "domain score", ("2021",)),
    _domain("health", "Health deprivation and disability", "domain score", ("2021",)),
    _domain("crime", "Crime domain", "domain score", ("2021",)),
    _domain("housing", "Barriers to housing and services", "domain score", ("2021",)),
    _domain("environment", "Living environment deprivation", "domain score", ("2021",)),
    _census(
        "households_deprived_2plus_pct",
        "Households deprived in 2 or more dimensions",
        "deprivation",
        "% of households",
        "households_deprived_2plus",
        "households",
        note="Dimensions: employment, education, health and disability, housing (Census TS011)",
    ),
    _wimd("", "WIMD score"),
    *(
        _wimd(d, f"WIMD {d} domain")
        for d in ("income", "employment", "health", "education", "access", "housing", "environment", "crime")
    ),
    # health outcomes
    _local_health(
        "preventable_mortality_smr",
        "Preventable mortality (SMR)",
        "health outcomes",
        "Deaths from causes considered preventable, under 75 years, SMR",
    ),
    _local_health(
        "mortality_smr", "Deaths from all causes (SMR)", "health outcomes", "Deaths from all causes, all ages"
    ),
    _local_health(
        "mortality_u75_smr",
        "Deaths under 75, all causes (SMR)",
        "health outcomes",
        "Deaths from all causes,  under 75 years",
    ),
    _local_health(
        "cancer_u75_smr",
        "Deaths under 75 from cancer (SMR)",
        "health outcomes",
        "Deaths from all cancer,  under 75 years",
    ),
    _local_health(
        "circulatory_u75_smr",
        "Deaths under 75 from circulatory disease (SMR)",
        "health outcomes",
        "Deaths from circulatory disease,  under 75 years",
    ),
    _local_health(
        "respiratory_smr",
        "Deaths from respiratory disease (SMR)",
        "health outcomes",
        "Deaths from respiratory diseases, all ages",
    ),
    _local_health(
        "life_expectancy_female",
        "Life expectancy at birth, females",
        "health outcomes",
        "Life expectancy at birth for females",
        unit="years",
        polarity="higher_is_better",
        period="2015-19",
    ),
    _local_health(
        "life_expectancy_male",
        "Life expectancy at birth, males",
        "health outcomes",
        "Life expectancy at birth for males",
        unit="years",
        polarity="higher_is_better",
        period="2015-19",
    ),
    _underlying("years_of_potential_life_lost", "Years of potential life lost", "health outcomes", "indicator score"),
    _underlying(
        "illness_disability_ratio",
        "Comparative illness and disability ratio",
        "health outcomes",
        "ratio (indicator score)",
    ),
    _underlying("mental_health", "Mental health indicator", "health outcomes", "indicator score", ("2021",)),
    _underlying("mood_anxiety", "Mood and anxiety disorders", "health outcomes", "indicator score", ("2011",)),
    # service demand
    _local_health("emergency_admissions_sar", f"{ADM}, all causes (SAR)", "service demand", f"{ADM} for all causes"),
    _local_health(
        "copd_admissions_sar",
        f"{ADM} for COPD (SAR)",
        "service demand",
        f"{ADM} for Chronic Obstructive Pulmonary Disease (COPD)",
    ),
    _local_health(
        "chd_admissions_sar",
        f"{ADM} for coronary heart disease (SAR)",
        "service demand",
        f"{ADM} for coronary heart disease",
    ),
    _local_health("stroke_admissions_sar", f"{ADM} for stroke (SAR)", "service demand", f"{ADM} for stroke"),
    _local_health(
        "heart_attack_admissions_sar",
        f"{ADM} for heart attack (SAR)",
        "service demand",
        f"{ADM} for Myocardial Infarction (heart attack)",
    ),
    _local_health(
        "hip_fracture_admissions_sar",
        f"{ADM} for hip fracture, aged 65+ (SAR)",
        "service demand",
        f"{ADM} for hip fracture in 65+",
    ),
    _local_health(
        "self_harm_admissions_sar",
        "Hospital stays for self-harm (SAR)",
        "service demand",
        "Hospital stays for self harm",
    ),
    _local_health(
        "alcohol_admissions_sar",
        "Hospital stays for alcohol-related harm (SAR)",
        "service demand",
        "Hospital stays for alcohol related harm (Broad definition)",
    ),
    _underlying(
        "acute_morbidity", "Acute morbidity (emergency admissions)", "service demand", "ratio (indicator score)"
    ),
    # vulnerability
    _census(
        "disability_pct",
        "Disabled residents",
        "vulnerability",
        "% of residents",
        "disabled",
        "residents",
        note="Disabled under the Equality Act: day-to-day activities limited a little or a lot (Census TS038)",
    ),
    _local_health(
        "long_term_illness_pct",
        "Limiting long-term illness or disability",
        "vulnerability",
        "Limiting long-term illness or disability",
        unit="% of residents",
        period="Census 2011",
        note="From Census 2011; no confidence interval is published",
    ),
    _census(
        "social_rented_pct",
        "Households renting socially",
        "vulnerability",
        "% of households",
        "social_rented",
        "households_tenure",
        note="Council and housing association tenants (Census TS054)",
    ),
    _census(
        "aged_65_plus_pct",
        "Residents aged 65 and over",
        "vulnerability",
        "% of residents",
        "aged_65_plus",
        "residents_age",
        polarity="context",
        note="Older residents are more often isolated or in need of care, but an older area is not a needier "
        "one by itself: set a direction to use it in the need index",
    ),
    _underlying(
        "homelessness_rate",
        "Homelessness",
        "vulnerability",
        "per 1,000 households",
        note="Published for each local authority as a whole, so it is the same in every LSOA of a district: it "
        "tells districts apart in a county or NHS run, and adds nothing within one district",
    ),
    # context
    _census(
        "private_rented_pct",
        "Households renting privately",
        "context",
        "% of households",
        "private_rented",
        "households_tenure",
        polarity="context",
    ),
    _census(
        "aged_0_15_pct",
        "Children aged 0 to 15",
        "context",
        "% of residents",
        "aged_0_15",
        "residents_age",
        polarity="context",
    ),
    _census(
        "rural_pct",
        "Residents in rural LSOAs",
        "context",
        "% of residents (an LSOA is 0 or 100)",
        "rural_residents",
        "residents_age",
        polarity="context",
        period="ONS 2021 Rural-Urban Classification",
        note="An LSOA is rural or urban as a whole; for a patch it is the share of residents in rural LSOAs",
        binomial=False,
    ),
    _underlying("patient_to_gp_ratio", "Patients per GP", "context", "patients per full-time GP", ("2021",)),
)

CATALOGUE: dict[str, Indicator] = {i.name: i for i in CATALOGUE_LIST}


def catalogue_table(*, vintage: str | None = None, nation: str | None = None) -> pd.DataFrame:
    """The catalogue as a table, one row per indicator, optionally only those that exist for
    a vintage and nation.

    >>> table = catalogue_table()
    >>> len(table) >= 25, list(table["theme"].unique()) == list(THEMES)
    (True, True)
    """
    import pandas as pd  # the catalogue itself is plain data, read by the config without pandas

    rows = [
        {
            "name": i.name,
            "label": i.label,
            "theme": i.theme,
            "unit": i.unit,
            "polarity": i.polarity,
            "period": i.period,
            "publisher": i.publisher,
            "licence": i.licence,
            "geography": i.geography,
            "route": i.route,
            "vintages": ", ".join(i.vintages),
            "nations": ", ".join(i.nations),
            "note": i.note,
        }
        for i in CATALOGUE_LIST
        if (vintage is None or vintage in i.vintages) and (nation is None or nation in i.nations)
    ]
    table = pd.DataFrame(rows)
    order = {t: k for k, t in enumerate(THEMES)}
    return table.sort_values("theme", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


__all__ = ["CATALOGUE", "CATALOGUE_LIST", "THEMES", "Indicator", "catalogue_table"]
