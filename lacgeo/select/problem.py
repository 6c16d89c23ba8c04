"""The selection problem: results, area data, rules, input checks and the final check.

:class:`Pick` and :class:`Selection` are what :func:`select_patches` returns.
:class:`Problem` holds plain-Python arrays for fast set moves; :class:`Candidate` is one
candidate pick; :class:`Rules` and :func:`selection_ok` say which sets of picks are
allowed; :func:`check_selection` re-checks the picks from scratch before they are returned.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import PatchingError
from ..patches.graph import AreaGraph, is_connected
from ..patches.partition import Band, can_tile
from ..schema import POPULATION

EPS = 1e-9


@dataclass(frozen=True)
class Pick:
    """One selected patch: its areas (sorted codes), people and need."""

    area_codes: tuple[str, ...]
    population: float
    excess_need: float
    need_index: float
    """Population-weighted mean need of the pick."""
    centroid: tuple[float, float]
    """Centroid of the pick's dissolved polygon (EPSG:27700 metres)."""
    unit: str | None = None
    """The ``spread`` unit holding most of its population (None without ``spread``)."""


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select_patches`: picks best first, their total and any warnings."""

    picks: tuple[Pick, ...]
    total_excess_need: float
    n_requested: int
    warnings: tuple[str, ...] = ()
    n_candidates: int = 0

    @property
    def complete(self) -> bool:
        """Whether all ``n_requested`` picks were placed."""
        return len(self.picks) == self.n_requested

    def labels(self, index: pd.Index) -> pd.Series:
        """Pick number (1, 2, ...) of each area in ``index``; <NA> outside the picks."""
        out = pd.Series(pd.NA, index=index, dtype="Int64", name="pick")
        for k, pick in enumerate(self.picks, start=1):
            out[out.index.isin(pick.area_codes)] = k
        return out


# --------------------------------------------------------------------------- problem


POCKET_MAX_AREAS = 60
"""Pieces of up to this many areas are checked for a split; bigger ones only by their count of people."""
POCKET_BUDGET = 200_000
"""Connected sets the exact pocket checks of one selection may try in all (about 2 s in the
worst case; the search rounds before them are not counted); a piece left undecided counts
as tileable."""


class Problem:
    """Plain-Python arrays for fast set moves; positions follow ``graph.codes``."""

    def __init__(
        self,
        nbrs: Sequence[Sequence[int]],
        pop: list[float],
        value: list[float],
        band: Band,
        eligible: list[bool],
        unit: list[int] | None,
        weight: list[float],
        wx: list[float],
        wy: list[float],
        min_distance: float | None,
        fixed: frozenset[int],
        *,
        taken_units: frozenset[int] = frozenset(),
        taken_xy: Sequence[tuple[float, float]] = (),
        near: float | None = None,
    ):
        self.n = len(pop)
        self.nbrs, self.pop, self.value = nbrs, pop, value
        self.rate = [v / p if p > 0 else 0.0 for v, p in zip(value, pop, strict=True)]
        self.band = band
        self.lo, self.hi = lo, hi = band.lo, band.hi
        self.eligible = eligible
        self.unit, self.weight, self.wx, self.wy = unit, weight, wx, wy
        self.min_distance = min_distance
        self.fixed = fixed  # locked-in areas: never dropped by local search
        # coordinators already placed (in post, or in earlier phases): their spread units and centres
        self.taken_units, self.taken_xy, self.near = taken_units, list(taken_xy), near
        self.scale = max(float(np.mean(np.abs(value))), 1.0) if value else 1.0
        # Components of at least k0 x lo people can always be cut into in-band patches by count.
        self.cap = math.inf if hi - lo <= EPS else math.ceil(lo / (hi - lo) - EPS) * lo
        self._stranding: dict[frozenset[int], bool] = {}
        self._untileable: dict[frozenset[int], bool] = {}
        self._budget = POCKET_BUDGET

    # -- populations a remaining piece may hold -------------------------------------
    def count_ok(self, people: float) -> bool:
        if people <= EPS:
            return True
        k = math.ceil(people / self.hi - EPS)
        return k * self.lo <= people + EPS

    def untileable(self, piece: list[int]) -> bool:
        """Whether a small piece, whose people could make in-band patches by count, provably
        cannot be cut into contiguous ones (:func:`can_tile`: a shape-only search round, then the
        exact check within the selection's budget; "don't know" counts as tileable).

        A pick that touches such a piece lies inside it, and what it leaves is untileable too
        (else the piece was tileable), so the rule stays monotone for the packing."""
        key = frozenset(piece)
        hit = self._untileable.get(key)
        if hit is None:
            order = sorted(piece)
            index = {a: i for i, a in enumerate(order)}
            nbrs = [[index[u] for u in self.nbrs[a] if u in index] for a in order]
            verdict, spent = can_tile(nbrs, [self.pop[a] for a in order], self.band, budget=self._budget)
            self._budget -= spent
            hit = self._untileable[key] = verdict is False
        return hit

    def pockets(self, taken: set[int] | frozenset[int], around: Iterable[int] | None = None) -> list[list[int]]:
        """Pieces of the areas outside ``taken``, touching it, that no set of in-band patches can cover:
        by their count of people, or, for small pieces, by an exact check of every split.

        With ``around``, only pieces touching those areas are looked at (enough when the rest of
        ``taken`` is known to strand nothing: other pieces are unchanged).
        """
        seen: set[int] = set()
        bad = []
        for i in sorted(taken if around is None else around):
            for s in self.nbrs[i]:
                if s in taken or s in seen:
                    continue
                piece, stack, people, done = [s], [s], self.pop[s], True
                local = {s}
                while stack:
                    v = stack.pop()
                    for u in self.nbrs[v]:
                        if u not in taken and u not in local:
                            local.add(u)
                            piece.append(u)
                            stack.append(u)
                            people += self.pop[u]
                    if people >= self.cap and len(local) > POCKET_MAX_AREAS:
                        done = False  # big enough to tile by count, too big to check every split
                        break
                seen |= local
                if done and (not self.count_ok(people) or self.untileable(piece)):
                    bad.append(sorted(piece))
        return bad

    def strands(self, taken: Iterable[int], around: Iterable[int] | None = None) -> bool:
        """Whether taking ``taken`` leaves a pocket (cached; see :meth:`pockets` for ``around``)."""
        key = frozenset(taken)
        hit = self._stranding.get(key)
        if hit is None:
            hit = self._stranding[key] = bool(self.pockets(key, around))
        return hit

    # -- pick properties ---------------------------------------------------------------
    def unit_of(self, members: Iterable[int]) -> int:
        by_unit: dict[int, float] = {}
        for i in members:
            by_unit[self.unit[i]] = by_unit.get(self.unit[i], 0.0) + self.pop[i]
        return max(sorted(by_unit), key=lambda u: by_unit[u])

    def centroid(self, members: Iterable[int]) -> tuple[float, float]:
        w = x = y = 0.0
        for i in members:
            w += self.weight[i]
            x += self.wx[i]
            y += self.wy[i]
        return (x / w, y / w) if w > 0 else (0.0, 0.0)


@dataclass(frozen=True)
class Candidate:
    members: frozenset[int]
    mask: int
    population: float
    value: float
    unit: int
    xy: tuple[float, float]

    @property
    def key(self) -> tuple[float, tuple[int, ...]]:
        return (-round(self.value, 6), tuple(sorted(self.members)))


def make_candidate(p: Problem, members: Iterable[int]) -> Candidate:
    members = frozenset(members)
    mask = 0
    for i in members:
        mask |= 1 << i
    unit = p.unit_of(members) if p.unit is not None else -1
    return Candidate(
        members, mask, sum(p.pop[i] for i in members), sum(p.value[i] for i in members), unit, p.centroid(members)
    )


def admissible(p: Problem, c: Candidate) -> bool:
    """Whether ``c`` keeps the rules against the coordinators already placed: not in a spread
    unit they hold, at least ``min_distance`` from each, and (``near``) within ``near`` of one."""
    if p.unit is not None and c.unit in p.taken_units:
        return False
    if not p.taken_xy:
        return True
    gaps = [math.dist(c.xy, t) for t in p.taken_xy]
    if p.min_distance is not None and min(gaps) < p.min_distance - EPS:
        return False
    return p.near is None or min(gaps) <= p.near + EPS


def compatible(p: Problem, a: Candidate, b: Candidate) -> bool:
    if a.mask & b.mask:
        return False
    if p.unit is not None and a.unit == b.unit:
        return False
    if p.min_distance is not None and math.dist(a.xy, b.xy) < p.min_distance - EPS:
        return False
    return True


def union(picks: Iterable[Candidate]) -> frozenset[int]:
    out: frozenset[int] = frozenset()
    for c in picks:
        out |= c.members
    return out


def build_problem(
    areas: gpd.GeoDataFrame,
    value: pd.Series,
    graph: AreaGraph,
    band: Band,
    *,
    spread: pd.Series | None = None,
    min_distance_m: float | None = None,
    out_codes: Sequence[str] = (),
    locked_codes: Sequence[str] = (),
    taken_units: Sequence[str] = (),
    taken_xy: Sequence[tuple[float, float]] = (),
    near_m: float | None = None,
) -> tuple[Problem, list[str]]:
    """The :class:`Problem` of ``areas`` (positions follow ``areas``), and the spread units' labels.

    ``value`` is each area's excess need; ``taken_units`` and ``taken_xy`` are the spread units
    and centres of coordinators already placed, which every pick keeps its rules against.
    """
    pos = pd.Series(np.arange(len(areas)), index=areas.index)
    out_pos = {int(pos[c]) for c in out_codes}
    unit_labels: list[str] = []
    unit = None
    taken_unit_pos: frozenset[int] = frozenset()
    if spread is not None:
        codes_u, uniques = pd.factorize(spread.astype(str), sort=True)
        unit, unit_labels = codes_u.tolist(), [str(u) for u in uniques]
        taken_unit_pos = frozenset(unit_labels.index(u) for u in taken_units if u in unit_labels)
    land = areas.geometry.area.to_numpy(dtype=float)
    cent = areas.geometry.centroid
    p = Problem(
        graph.neighbours(),
        areas[POPULATION].to_numpy(dtype=float).tolist(),
        value.to_numpy(dtype=float).tolist(),
        band,
        [i not in out_pos for i in range(len(areas))],
        unit,
        land.tolist(),
        (land * cent.x.to_numpy()).tolist(),
        (land * cent.y.to_numpy()).tolist(),
        min_distance_m,
        frozenset(int(pos[c]) for c in locked_codes),
        taken_units=taken_unit_pos,
        taken_xy=taken_xy,
        near=near_m if taken_xy else None,
    )
    return p, unit_labels


def taken_rules(
    areas: gpd.GeoDataFrame, spread: pd.Series | None, taken: Sequence[Sequence[str]]
) -> tuple[list[str], list[tuple[float, float]]]:
    """The spread unit (the one holding most people) and land-weighted centre of every taken group,
    measured as a pick's are (:meth:`Problem.unit_of`, :meth:`Problem.centroid`)."""
    units, centres = [], []
    for group in taken:
        sub = areas.loc[list(group)]
        if spread is not None:
            people = sub[POPULATION].groupby(spread.loc[list(group)].astype(str)).sum()
            units.append(str(people.sort_index().idxmax()))
        land = sub.geometry.area.to_numpy(dtype=float)
        cent = sub.geometry.centroid
        w = land.sum()
        centres.append((float((land * cent.x).sum() / w), float((land * cent.y).sum() / w)) if w > 0 else (0.0, 0.0))
    return units, centres


# --------------------------------------------------------------------------- rules


@dataclass
class Rules:
    groups: list[frozenset[int]]  # each wholly inside its own pick
    singles: frozenset[int]  # each inside some pick
    pockets: bool  # leave no stranded pocket

    @property
    def group_areas(self) -> frozenset[int]:
        return frozenset().union(*self.groups) if self.groups else frozenset()


def selection_ok(p: Problem, picks: Sequence[Candidate], rules: Rules) -> bool:
    if not all(admissible(p, c) for c in picks):
        return False
    for a in range(len(picks)):
        for b in range(a + 1, len(picks)):
            if not compatible(p, picks[a], picks[b]):
                return False
    taken = frozenset().union(*(c.members for c in picks)) if picks else frozenset()
    if not rules.singles <= taken:
        return False
    for g in rules.groups:
        holders = [c for c in picks if g <= c.members]
        if len(holders) != 1 or any(h.members & (rules.group_areas - g) for h in holders):
            return False
    return not (rules.pockets and p.strands(taken))


# --------------------------------------------------------------------------- inputs


def lock_groups(lock_in: Sequence[str | Sequence[str]]) -> tuple[list[tuple[str, ...]], list[str]]:
    groups, singles = [], []
    for item in lock_in:
        if isinstance(item, str):
            singles.append(item)
        else:
            groups.append(tuple(str(c) for c in item))
    return groups, singles


def connect_lock_in(p: Problem, codes: tuple[str, ...], members: list[int], blocked: set[int]) -> frozenset[int]:
    """Join a lock-in group into one contiguous core through the fewest extra people (Dijkstra)."""
    tree = {members[0]}
    for target in members[1:]:
        if target in tree:
            continue
        dist = {i: 0.0 for i in tree}
        prev: dict[int, int] = {}
        heap = [(0.0, i) for i in sorted(tree)]
        while heap:
            d, v = heapq.heappop(heap)
            if v == target or d > dist.get(v, math.inf):
                if v == target:
                    break
                continue
            for u in p.nbrs[v]:
                if u in blocked or not p.eligible[u]:
                    continue
                nd = d + p.pop[u]
                if nd < dist.get(u, math.inf) - EPS:
                    dist[u] = nd
                    prev[u] = v
                    heapq.heappush(heap, (nd, u))
        if target not in dist:
            raise PatchingError(
                f"locked-in areas {', '.join(codes)} cannot be joined into one contiguous pick without "
                "crossing locked-out or other groups' areas; split the group or unlock the areas between them"
            )
        v = target
        while v not in tree:
            tree.add(v)
            v = prev[v]
    if sum(p.pop[i] for i in tree) > p.hi + EPS:
        raise PatchingError(
            f"locked-in areas {', '.join(codes)} need at least {sum(p.pop[i] for i in tree):,.0f} people "
            f"to join into one contiguous pick, more than the band's {p.hi:,.0f}; split the group into "
            "separate lock-ins or widen the band"
        )
    return frozenset(tree)


def validate_inputs(
    areas: gpd.GeoDataFrame,
    need: pd.Series,
    graph: AreaGraph,
    n: int,
    target_population: float,
    band: float,
    spread: pd.Series | None,
    min_distance_m: float | None,
    codes: list[str],
) -> None:
    problems = []
    if POPULATION not in areas.columns:
        problems.append(f"areas has no {POPULATION!r} column")
    elif areas[POPULATION].isna().any() or (areas[POPULATION] < 0).any():
        problems.append("population must be 0 or more in every area")
    if not areas.index.is_unique:
        problems.append("areas must be indexed by unique area codes")
    if not need.index.equals(areas.index):
        problems.append("need must be indexed like areas (same codes, same order)")
    elif need.isna().any():
        bad = need.index[need.isna()]
        problems.append(f"need is missing for {len(bad)} areas ({', '.join(map(str, bad[:5]))})")
    if not graph.codes.equals(areas.index):
        problems.append("graph was built for other areas: build it with build_area_graph(areas)")
    if not isinstance(n, int | np.integer) or n < 1:
        problems.append(f"n must be a whole number of picks, 1 or more (got {n!r})")
    if not target_population > 0:
        problems.append(f"target_population must be positive (got {target_population!r})")
    if not 0 <= band < 1:
        problems.append(f"band must be in [0, 1) (got {band!r})")
    if spread is not None and (not spread.index.equals(areas.index) or spread.isna().any()):
        problems.append("spread must give a unit for every area, indexed like areas")
    if min_distance_m is not None and not min_distance_m >= 0:
        problems.append(f"min_distance_m must be 0 or more metres (got {min_distance_m!r})")
    unknown = [c for c in codes if c not in areas.index]
    if unknown:
        problems.append(
            f"{len(unknown)} locked area codes are not in areas ({', '.join(unknown[:5])}); check the codes "
            "and the geography vintage"
        )
    if problems:
        raise PatchingError("cannot select patches: " + "; ".join(problems))


def rule_text(p: Problem, spread: pd.Series | None, min_distance_m: float | None) -> str:
    parts = []
    if p.taken_xy:
        parts.append(f"clear of the {len(p.taken_xy)} patches already placed")
    if p.near is not None and p.taken_xy:
        parts.append(f"within {p.near:,.0f} m of one of them")
    if spread is not None:
        parts.append(f"one per {spread.name or 'spread unit'}")
    if min_distance_m:
        parts.append(f"at least {min_distance_m:,.0f} m apart")
    return (", " + ", ".join(parts)) if parts else ""


# --------------------------------------------------------------------------- final check


def check_selection(p: Problem, picks: list[Candidate], rules: Rules, blocked: frozenset[int], codes: pd.Index) -> None:
    """Raise :class:`PatchingError` listing every broken rule; bad picks are never returned.

    Everything is recomputed from the picks' areas; nothing the search cached is trusted.
    """
    problems = []

    def names(members: Iterable[int]) -> str:
        return ", ".join(str(codes[i]) for i in sorted(members)[:5])

    for k, c in enumerate(picks, start=1):
        people = sum(p.pop[i] for i in c.members)
        if not c.members or not is_connected(set(c.members), p.nbrs):
            problems.append(f"pick {k} ({names(c.members)}) is not contiguous")
        if not p.lo - EPS <= people <= p.hi + EPS or abs(people - c.population) > EPS:
            problems.append(f"pick {k} holds {people:,.0f} people, outside {p.lo:,.0f}-{p.hi:,.0f}")
        if c.members & blocked:
            problems.append(f"pick {k} holds locked-out areas ({names(c.members & blocked)})")
        if not admissible(p, make_candidate(p, c.members)):
            problems.append(f"pick {k} breaks the spread, distance or nearness rule against the coordinators placed")
        for j, d in enumerate(picks[k:], start=k + 1):
            if c.members & d.members:
                problems.append(f"picks {k} and {j} share areas ({names(c.members & d.members)})")
            if p.unit is not None and p.unit_of(c.members) == p.unit_of(d.members):
                problems.append(f"picks {k} and {j} are in the same spread unit")
            if p.min_distance is not None:
                gap = math.dist(p.centroid(c.members), p.centroid(d.members))
                if gap < p.min_distance - EPS:
                    problems.append(f"picks {k} and {j} are {gap:,.0f} m apart, under {p.min_distance:,.0f} m")
    taken = union(picks)
    if rules.singles - taken:
        problems.append(f"locked-in areas {names(rules.singles - taken)} are in no pick")
    for g in rules.groups:
        holders = [c for c in picks if g <= c.members]
        if len(holders) != 1 or holders[0].members & (rules.group_areas - g):
            problems.append(f"locked-in group {names(g)} is not in a pick of its own")
    for piece in p.pockets(taken) if rules.pockets else []:
        people = sum(p.pop[i] for i in piece)
        problems.append(f"the picks cut off {names(piece)} ({people:,.0f} people), which cannot form patches")
    if problems:
        raise PatchingError("selection check failed: " + "; ".join(problems))
