"""Stage 5b: every phase is a search, given the coordinators placed before it.

Programmes grow: Derby from two learning sites to 7 and then 10 coordinators, Thurrock
from 3 areas to 10. So phase ``k`` is chosen like phase 1, given everything placed before
it (the areas in post, phase 0, and phases ``1..k-1``):

* :func:`search_phases`: the first phases are searched beyond the partition
  (:func:`lacgeo.select.select_patches` with the earlier picks as ``taken``): the most
  excess need under the spread, distance, nearness and lock-out rules, leaving no
  stranded pocket. Stage 6 then partitions the rest around every pick.
* :func:`pack_later_phases`: the later phases are packed, best first, from the
  partition's remaining patches under the same rules, against every patch placed before
  (:func:`lacgeo.select.packing.pack`, exact within its node budget). When a phase cannot
  be filled under them (every ward already holds a coordinator, say), that phase and the
  ones after take the remaining patches in need order, and a note says from which phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from ..need import excess_need
from ..patches.graph import AreaGraph
from ..patches.partition import Band
from ..schema import NEED_INDEX, POPULATION
from . import Selection, select_patches
from .existing import ExistingArea
from .packing import pack
from .problem import Rules, build_problem, make_candidate, taken_rules


@dataclass(frozen=True)
class PhasePlan:
    """The coordinators in post and the searched phases (phase 1 first), with notes on any shortfall."""

    existing: tuple[ExistingArea, ...]
    phases: tuple[Selection, ...]
    notes: tuple[str, ...] = ()

    def on_areas(self, unit_of: pd.Series) -> PhasePlan:
        """The plan with every group in the codes of the areas ``unit_of`` maps to the units it names."""
        members = {u: tuple(sorted(codes)) for u, codes in unit_of.groupby(unit_of).groups.items()}

        def spell(codes: Sequence[str]) -> tuple[str, ...]:
            return tuple(sorted(c for u in codes for c in members[u]))

        existing = tuple(replace(e, area_codes=spell(e.area_codes)) for e in self.existing)
        phases = tuple(
            replace(s, picks=tuple(replace(p, area_codes=spell(p.area_codes)) for p in s.picks)) for s in self.phases
        )
        return PhasePlan(existing, phases, self.notes)

    @property
    def groups(self) -> list[tuple[str, ...]]:
        """The area codes of every placed patch: the areas in post, then each phase's picks."""
        return [e.area_codes for e in self.existing] + [p.area_codes for s in self.phases for p in s.picks]


def search_phases(
    areas: gpd.GeoDataFrame,
    need: pd.Series,
    graph: AreaGraph,
    *,
    sizes: Sequence[int],
    existing: Sequence[Sequence[str]] = (),
    lock_in: Sequence[str | Sequence[str]] = (),
    **rules: object,
) -> tuple[list[Selection], list[str]]:
    """Search the phases of ``sizes`` (phase 1 first), each given the areas in post and the phases before it.

    ``lock_in`` binds phase 1 only; every other keyword (``target_population``, ``band``,
    ``spread``, ``min_distance_m``, ``lock_out``, ``near_m``, ``seed``) binds every phase.
    The search stops after the first phase it cannot fill; the notes say why.

    Examples
    --------
    >>> import lacgeo
    >>> areas = lacgeo.read_areas("E06000017")  # Rutland: 41,053 people
    >>> need = lacgeo.read_deprivation(areas.index)["imd_score"]
    >>> phases, notes = search_phases(areas, need, lacgeo.build_area_graph(areas), sizes=[1, 2])
    >>> [len(s.picks) for s in phases], len({c for s in phases for p in s.picks for c in p.area_codes}) > 0
    ([1, 2], True)
    """
    taken = [tuple(g) for g in existing]
    done: list[Selection] = []
    notes: list[str] = []
    for k, size in enumerate(sizes, start=1):
        selection = select_patches(
            areas,
            need,
            graph,
            n=size,
            lock_in=lock_in if k == 1 else (),
            taken=taken,
            **rules,  # type: ignore[arg-type]
        )
        done.append(selection)
        taken += [pick.area_codes for pick in selection.picks]
        if not selection.complete:
            if k > 1:
                notes.append(
                    f"phase {k}: {len(selection.picks)} of {size} patches could be searched under the phase rules "
                    f"given the {len(taken) - len(selection.picks)} placed before it; later phases are packed from "
                    "the remaining patches"
                )
            break
    return done, notes


def pack_later_phases(
    areas: gpd.GeoDataFrame,
    patch_id: pd.Series,
    placed: Sequence[Sequence[str]],
    *,
    first_phase: int,
    phase_size: int,
    first_size: int | None = None,
    target_population: float,
    band: float,
    spread: pd.Series | None = None,
    min_distance_m: float | None = None,
    near_m: float | None = None,
    lock_out: Sequence[str] = (),
) -> tuple[pd.Series, list[str]]:
    """The phase of every patch not yet placed, from ``first_phase`` on, ``phase_size`` per phase
    (``first_size`` in the first, when given: phase 1 of a ranked or nested partition).

    Each phase takes the patches holding the most excess need that keep the rules (one per
    ``spread`` unit, ``min_distance_m`` apart, within ``near_m`` of a placed patch) against each
    other and every patch placed before it (``placed``: groups of area codes, in post or in
    earlier phases). Patches holding a ``lock_out`` area wait for the phases without rules.

    Returns
    -------
    Series, list of str
        The phase of each remaining patch id, and a note if the rules could not be kept to the end.
    """
    value = excess_need(areas[[POPULATION, NEED_INDEX]]).fillna(0.0)
    placed_codes = {c for g in placed for c in g}
    rest = patch_id[~patch_id.index.isin(placed_codes)]
    members = {pid: list(codes) for pid, codes in rest.groupby(rest, sort=True).groups.items()}
    order = sorted(members, key=lambda pid: (-float(value[members[pid]].sum()), pid))
    phase: dict[str, int] = {}
    notes: list[str] = []
    has_rules = spread is not None or bool(min_distance_m) or near_m is not None
    k = first_phase
    if has_rules:
        units, centres = taken_rules(areas, spread, placed)
        # whole patches are the candidates, so the packing needs no contiguity: a graph without edges
        p, _ = build_problem(
            areas,
            value,
            AreaGraph(areas.index, np.zeros((0, 2), dtype=np.int64), frozenset()),
            Band(target_population, band),
            spread=spread,
            min_distance_m=min_distance_m,
            taken_units=units,
            taken_xy=centres,
            near_m=near_m,
        )
        pos = pd.Series(range(len(areas)), index=areas.index)
        blocked = set(lock_out)
        pool = {pid: make_candidate(p, pos[members[pid]].tolist()) for pid in order}
        free = [pid for pid in order if not blocked & set(members[pid])]
        loose = Rules([], frozenset(), pockets=False)
        while free:
            cands = sorted((pool[pid] for pid in free), key=lambda c: c.key)
            size = min(first_size if k == first_phase and first_size else phase_size, len(free))
            best = pack(p, cands, size, loose)[0]
            got = best.get(size)
            if not got:
                rules = [
                    *(["one per spread unit"] if spread is not None else []),
                    *([f"{min_distance_m / 1000:g} km apart"] if min_distance_m else []),
                    *([f"within {near_m / 1000:g} km of one placed before"] if near_m is not None else []),
                ]
                notes.append(
                    f"from phase {k} on, the remaining patches follow need order: no {size} "
                    f"of them keep the phase rules ({', '.join(rules)}) against the patches placed before"
                )
                break
            chosen = {c.members for c in got}
            for pid in [pid for pid in free if pool[pid].members in chosen]:
                phase[pid] = k
                p.taken_xy.append(pool[pid].xy)
                if p.unit is not None:
                    p.taken_units = p.taken_units | {pool[pid].unit}
            free = [pid for pid in free if pid not in phase]
            k += 1
    # then the rest in need order, the patches holding a locked-out area last
    locked = {pid for pid in order if set(lock_out) & set(members[pid])}
    left = [pid for pid in order if pid not in phase and pid not in locked]
    left += [pid for pid in order if pid in locked]
    room = first_size if k == first_phase and first_size else phase_size
    for pid in left:
        if room == 0:
            k, room = k + 1, phase_size
        phase[pid], room = k, room - 1
    if locked and has_rules:  # a caveat: without rules, the last phases are simply where they go
        notes.append(
            f"{len(locked)} patch{'es hold' if len(locked) > 1 else ' holds'} a locked-out area "
            f"({', '.join(sorted(locked)[:8])}): {'they come' if len(locked) > 1 else 'it comes'} in the last "
            "phases, without the phase rules"
        )
    return pd.Series(phase, dtype="int64").reindex(order), notes


__all__ = ["PhasePlan", "pack_later_phases", "search_phases"]
