"""Need-index presets: a defensible index in one word, weighting themes rather than raw columns.

A preset gives each theme of the catalogue (:mod:`lacgeo.catalogue`) a weight and names
the indicators that stand for it; a theme's weight is shared equally among them. The
preset is resolved for the area's nation and vintage when a run starts
(:func:`resolve_need`): an indicator that does not exist there is left out, with why,
and its theme's weight goes with it. Listing ``[[need.indicators]]`` in the config
replaces the preset (the run then records ``preset = "custom"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..catalogue import CATALOGUE
from ..config import IndicatorConfig, NeedConfig
from .indicators import unavailable


@dataclass(frozen=True)
class ThemeWeight:
    theme: str
    weight: float
    indicators: tuple[str, ...]
    """The indicators that stand for the theme in England; Welsh runs use :data:`WELSH_SWAP`."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    why: str
    """The reasoning, for the report's method section."""
    themes: tuple[ThemeWeight, ...]


WELSH_SWAP = {"imd_score": "wimd_score"}
"""Welsh stand-ins: the WIMD takes the IMD's place (the two are never compared)."""

PRESETS: dict[str, Preset] = {
    "lac": Preset(
        name="lac",
        title="Local Area Coordination need",
        why=(
            "Local Area Coordination serves people who are isolated or at risk of crisis: disabled people, people "
            "with mental or long-term ill health, older people and families under pressure. The index weights "
            "deprivation (the nation's index of multiple deprivation) as two parts in five, and health outcomes "
            "(preventable deaths under 75), demand on services (emergency hospital admissions) and vulnerability "
            "(disabled residents, Census 2021) as one part each. Each theme has one indicator, chosen so that no "
            "two measure the same thing (they correlate at |r| < 0.9 in every district sampled); a theme with no "
            "indicator in the nation is left out and named."
        ),
        themes=(
            ThemeWeight("deprivation", 2.0, ("imd_score",)),
            ThemeWeight("health outcomes", 1.0, ("preventable_mortality_smr",)),
            ThemeWeight("service demand", 1.0, ("acute_morbidity",)),
            ThemeWeight("vulnerability", 1.0, ("disability_pct",)),
        ),
    ),
    "imd": Preset(
        name="imd",
        title="Deprivation and preventable deaths",
        why=(
            "The index lacgeo used before its catalogue: the deprivation score weighted twice and preventable deaths "
            "under 75 (Local Health SMR) once. Use it to compare with earlier runs."
        ),
        themes=(
            ThemeWeight("deprivation", 2.0, ("imd_score",)),
            ThemeWeight("health outcomes", 1.0, ("preventable_mortality_smr",)),
        ),
    ),
}


def preset_indicators(name: str, nation: str, vintage: str) -> tuple[tuple[IndicatorConfig, ...], dict[str, str]]:
    """The indicators preset ``name`` stands for in ``nation`` on LSOA ``vintage``, and those it leaves out, with why.

    >>> specs, left_out = preset_indicators("lac", "Wales", "2011")
    >>> [(s.name, s.weight) for s in specs], sorted(left_out)
    ([('wimd_score', 2.0), ('disability_pct', 1.0)], ['acute_morbidity', 'preventable_mortality_smr'])
    """
    specs: list[IndicatorConfig] = []
    left_out: dict[str, str] = {}
    for theme in PRESETS[name].themes:
        names = [WELSH_SWAP.get(n, n) if nation == "Wales" else n for n in theme.indicators]
        gone = unavailable(names, nation, vintage)
        left_out |= gone
        kept = [n for n in names if n not in gone]
        for n in kept:
            specs.append(IndicatorConfig(name=n, weight=theme.weight / len(kept), label=CATALOGUE[n].label))
    return tuple(specs), left_out


def resolve_need(need: NeedConfig, nation: str, vintage: str) -> tuple[NeedConfig, dict[str, str]]:
    """``need`` with its indicators spelt out for a run, and the preset indicators left out (with why).

    No ``[[need.indicators]]``: the preset's indicators for the nation and vintage. Indicators
    listed: they are used as they are, and the preset reads ``"custom"`` unless they are
    exactly the preset's (as a re-run from ``run.json`` records them).
    """
    specs, left_out = preset_indicators(need.preset, nation, vintage) if need.preset in PRESETS else ((), {})
    if not need.indicators:
        return replace(need, indicators=specs), left_out
    if need.indicators == specs:
        return need, left_out
    return replace(need, preset="custom"), {}


__all__ = ["PRESETS", "Preset", "ThemeWeight", "preset_indicators", "resolve_need"]
