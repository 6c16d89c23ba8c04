"""Every area lacgeo can run on, and how a name or code resolves to one.

A run covers a *study area*: one place, or several run as one with a display name
(Cumbria's programme spans Cumberland and Westmorland and Furness). A place is one of:

* ``district``: an English district or unitary council (E06, E07, E08, E09);
* ``county``: an English county council (E10), which runs adult social care for its
  districts;
* ``icb`` and ``sub-icb``: an NHS integrated care board (E54) or sub-ICB location (E38);
* ``wales``: a Welsh principal area (W06), run on LSOA 2011 with the Welsh Index of
  Multiple Deprivation 2019.

The registry is ``areas.csv`` in the shipped data. A name resolves in three tiers, the
first that matches wins: a code (ONS, or the NHS code of an ICB or sub-ICB location);
a full name (English or Welsh); a short form (``Bristol`` for "Bristol, City of",
``Durham`` for "County Durham", ``Nottingham and Nottinghamshire ICB`` for "NHS
Nottingham and Nottinghamshire Integrated Care Board"). So "Nottingham" is the city,
never the county, and "Somerset" is the council, never the ICB. Two matches in one tier
are an error that lists both with their kind.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from ..errors import ConfigError, UnknownAreaError
from ..schema import AREA_CODE, BNG, LAD_CODE
from .shipped import data_file

KINDS = {
    "district": "district or unitary council",
    "county": "county council",
    "icb": "integrated care board",
    "sub-icb": "sub-ICB location",
    "wales": "Welsh principal area",
}
# The LSOA column whose value selects a place's areas, by kind.
KIND_COLUMN = {
    "district": LAD_CODE,
    "county": "county_code",
    "icb": "icb_code",
    "sub-icb": "sicbl_code",
    "wales": LAD_CODE,
}


@dataclass(frozen=True)
class Place:
    """One area of the registry."""

    code: str
    name: str
    kind: str
    nation: str
    vintages: tuple[str, ...]

    @property
    def label(self) -> str:
        """``"Nottinghamshire (county council, E10000024)"``."""
        return f"{self.name} ({KINDS[self.kind]}, {self.code})"


@dataclass(frozen=True)
class StudyArea:
    """The area a run covers: one place, or several run as one under ``name``."""

    places: tuple[Place, ...]
    name: str

    @property
    def code(self) -> str:
        """The place's code, or the codes joined with ``+``."""
        return "+".join(p.code for p in self.places)

    @property
    def nation(self) -> str:
        return self.places[0].nation

    @property
    def kind(self) -> str:
        """The places' kind, or ``"combined"`` for several."""
        return self.places[0].kind if len(self.places) == 1 else "combined"

    @property
    def vintages(self) -> tuple[str, ...]:
        """The LSOA vintages every place can be run on."""
        return tuple(v for v in self.places[0].vintages if all(v in p.vintages for p in self.places))

    def filters(self) -> list[list[tuple[str, str, str]]]:
        """Parquet row filters (any of) that select the study area's LSOAs."""
        return [[(KIND_COLUMN[p.kind], "==", p.code)] for p in self.places]

    def describe(self) -> str:
        """One line for the summary and the outputs: what the area is made of."""
        if len(self.places) == 1:
            return self.places[0].label
        return f"{self.name}: " + ", ".join(p.label for p in self.places)


@functools.cache
def read_places() -> pd.DataFrame:
    """The registry of every area lacgeo can run on (``areas.csv``).

    Returns
    -------
    DataFrame
        Indexed by ``code``: ``name``, ``name_cy`` (Welsh name, or empty), ``kind``,
        ``nation``, ``vintages`` (``"2011;2021"``), ``n_lsoa21``, ``n_lsoa11``,
        ``population`` and ``code_nhs`` (an ICB's or sub-ICB location's NHS code).

    Examples
    --------
    >>> places = read_places()
    >>> places["kind"].value_counts().to_dict()
    {'district': 296, 'sub-icb': 106, 'icb': 42, 'wales': 22, 'county': 21}
    """
    places = pd.read_csv(data_file("areas.csv"), dtype=str, keep_default_na=False)
    return places.set_index("code")


def _norm(text: str) -> str:
    return " ".join(str(text).replace("\u2019", "'").split()).casefold()


def _short_forms(name: str, kind: str) -> set[str]:
    """The short forms a name also answers to (see the module docstring)."""
    forms = {name.split(",")[0]}  # "Bristol, City of" -> "Bristol"
    if name.startswith("County "):
        forms.add(name[len("County ") :])  # "County Durham" -> "Durham"
    if kind in ("icb", "sub-icb"):
        bare = re.sub(r"^NHS ", "", name)
        bare = re.sub(r" Integrated Care Board$", " ICB", bare)
        forms |= {bare, re.sub(r" ICB$", "", bare)}
    return {_norm(f) for f in forms if f} - {_norm(name)}


@functools.cache
def _index() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """Lookups from a normalised code, full name and short form to registry codes."""
    places = read_places()
    codes: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for code, row in places.iterrows():
        for key in {code, row["code_nhs"]} - {""}:
            codes.setdefault(_norm(key), []).append(code)
        for key in {row["name"], row["name_cy"]} - {""}:
            names.setdefault(_norm(key), []).append(code)
        for key in _short_forms(row["name"], row["kind"]):
            short.setdefault(key, []).append(code)
    return codes, names, short


def _place(code: str) -> Place:
    row = read_places().loc[code]
    return Place(code, row["name"], row["kind"], row["nation"], tuple(row["vintages"].split(";")))


def resolve_place(text: str) -> Place:
    """The area named by ``text``: a code or a name, matched case-insensitively.

    Raises
    ------
    UnknownAreaError
        Naming the candidates with their kind, for an ambiguous or unknown name.

    Examples
    --------
    >>> resolve_place("Nottingham").label, resolve_place("nottinghamshire").label
    ('Nottingham (district or unitary council, E06000018)', 'Nottinghamshire (county council, E10000024)')
    >>> resolve_place("Durham").label
    'County Durham (district or unitary council, E06000047)'
    >>> resolve_place("Nottinghamshre")
    Traceback (most recent call last):
    lacgeo.errors.UnknownAreaError: unknown area 'Nottinghamshre': did you mean Nottinghamshire (county council, ...)?
    """
    key = _norm(text)
    if not key:
        raise UnknownAreaError("no area given; set area.la in the config, or pass --la NAME or CODE (see `lacgeo las`)")
    for lookup in _index():
        found = list(dict.fromkeys(lookup.get(key, [])))
        if len(found) == 1:
            return _place(found[0])
        if found:
            listed = "; ".join(_place(c).label for c in found)
            raise UnknownAreaError(f"{text!r} could be more than one area: {listed}; give the code instead")
    raise UnknownAreaError(f"unknown area {text!r}: {_suggest(text)}")


def _suggest(text: str) -> str:
    places = read_places()
    names = list(dict.fromkeys(places["name"]))
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    close += [n for n in names if _norm(text) in _norm(n) and n not in close][: 3 - len(close)]
    if not close:
        return "list the valid names and codes with `lacgeo las`"
    labels = [_place(places.index[places["name"] == n][0]).label for n in close]
    return "did you mean " + "; ".join(labels) + "?"


def split_names(text: str) -> list[str]:
    """``--la "Cumberland,Westmorland and Furness"`` as a list of names. A name that itself
    holds a comma ("Bristol, City of") is kept whole; ``;`` also separates.

    >>> split_names("Cumberland, Westmorland and Furness")
    ['Cumberland', 'Westmorland and Furness']
    >>> split_names("Bristol, City of")
    ['Bristol, City of']
    """
    if ";" in text:
        return [t.strip() for t in text.split(";") if t.strip()]
    codes, names, short = _index()
    if _norm(text) in codes or _norm(text) in names or _norm(text) in short or "," not in text:
        return [text.strip()]
    return [t.strip() for t in text.split(",") if t.strip()]


def resolve_area(la: str | Sequence[str], *, name: str = "") -> StudyArea:
    """The study area a config's ``area.la`` (and ``area.name``) describe.

    Parameters
    ----------
    la
        A name or code, a comma-separated list of them, or a list.
    name
        The display name; by default the place's own, or the places' names joined.

    Raises
    ------
    UnknownAreaError
        An unknown or ambiguous name.
    ConfigError
        A list that names one place twice or mixes Welsh and English places (WIMD and
        IMD scores cannot be compared).

    Examples
    --------
    >>> area = resolve_area(["Cumberland", "Westmorland and Furness"], name="Cumbria")
    >>> area.name, area.code, area.kind
    ('Cumbria', 'E06000063+E06000064', 'combined')
    >>> resolve_area("Derbyshire").describe()
    'Derbyshire (county council, E10000007)'
    """
    texts = split_names(la) if isinstance(la, str) else [str(t) for t in la]
    if not texts:
        texts = [""]
    places = tuple(resolve_place(t) for t in texts)
    seen: dict[str, str] = {}
    for text, place in zip(texts, places, strict=True):
        if place.code in seen:
            raise ConfigError(f"area.la names {place.label} twice ({seen[place.code]!r} and {text!r})")
        seen[place.code] = text
    nations = {p.nation for p in places}
    if len(nations) > 1:
        raise ConfigError(
            "area.la mixes Welsh and English areas; WIMD and IMD scores cannot be compared, so run them separately"
        )
    display = " ".join(str(name).split()) or (
        places[0].name if len(places) == 1 else ", ".join(p.name for p in places[:-1]) + " and " + places[-1].name
    )
    return StudyArea(places, display)


def list_places(kind: str | None = None) -> pd.DataFrame:
    """The registry for ``lacgeo las``: every area, or those of one kind, in name order.

    >>> list_places("county").loc["E10000024", "name"]
    'Nottinghamshire'
    """
    places = read_places()
    if kind is not None:
        if kind not in KINDS:
            raise ConfigError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        places = places[places["kind"] == kind]
    order = {k: i for i, k in enumerate(KINDS)}
    return places.assign(_order=places["kind"].map(order)).sort_values(["_order", "name"]).drop(columns="_order")


def read_study_area(area: StudyArea, *, vintage: str) -> gpd.GeoDataFrame:
    """The LSOAs of a study area, from the shipped data (one parquet read with row filters).

    Raises
    ------
    ConfigError
        If a place does not exist in ``vintage`` (ICBs are defined on LSOA 2021, Welsh areas
        on LSOA 2011), or two listed places overlap (a county and one of its districts).

    Examples
    --------
    >>> areas = read_study_area(resolve_area("Rutland, Melton"), vintage="2021")
    >>> sorted(areas["lad_code"].unique()), areas.index.is_unique
    (['E06000017', 'E07000133'], True)
    """
    for place in area.places:
        if vintage not in place.vintages:
            only = " or ".join(place.vintages)
            why = " with WIMD 2019" if place.kind == "wales" else ""
            raise ConfigError(
                f"{place.label} is available on LSOA {only}{why} only; "
                f'set area.vintage = "{only}" in the config (or pass --vintage {only})'
            )
    path = data_file(f"lsoa{vintage[2:]}.parquet")
    areas = gpd.read_parquet(path, filters=area.filters())
    if areas.empty:
        raise UnknownAreaError(f"{path.name}: no LSOAs for {area.describe()}")
    areas = areas.set_crs(BNG, allow_override=True) if areas.crs is None else areas
    areas.index.name = AREA_CODE
    if len(area.places) > 1:
        member = pd.DataFrame({p.code: areas[KIND_COLUMN[p.kind]] == p.code for p in area.places})
        shared = member[member.sum(axis=1) > 1]
        if len(shared):
            both = [p.label for p in area.places if shared[p.code].any()]
            raise ConfigError(
                f"area.la lists places that overlap ({len(shared)} LSOAs are in more than one): "
                f"{'; '.join(both)}; list each place once, without the areas inside it"
            )
    return areas.sort_index()
