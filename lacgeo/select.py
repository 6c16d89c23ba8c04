"""Phase-1 selection: the ``n`` patches that capture the most need.

:func:`select_patches` looks beyond one partition. It chooses ``n`` disjoint,
contiguous sets of areas, each inside the population band, that maximise the
*excess need* they hold: the sum over their areas of population x (need - the
LA's population-weighted mean need). The method:

1. **Candidates.** From each of the areas with the most excess need (and from every
   locked-in area or group), grow contiguous regions greedily under several rules
   (best excess need, best need per person, a one-step look-ahead across a low-need
   area, a compactness bonus, and seeded random tie-breaks), first into the band and
   then on while a neighbour adds need and still fits. *Drafts* grow two or three
   regions at once from non-adjacent top seeds, taking turns, so that candidates
   which fit together exist (the best region alone often takes the heart of a
   deprived cluster and leaves poor remainders). Every region is improved by local
   search: add, drop or swap one boundary area, keeping it contiguous and in the band.
2. **Packing.** An exact branch-and-bound over the candidate pool (bitsets) picks
   ``n`` pairwise compatible candidates (disjoint; at most one per ``spread`` unit; at
   least ``min_distance_m`` apart; holding the lock-ins) with the largest total. If
   fewer than ``n`` fit, the in-band cells of a balanced partition
   (:func:`lacgeo.patches.partition_areas`) join the pool and the packing is retried.
3. **Joint improvement.** Each pick is polished around the others, border areas move
   between touching picks (the loser regrows), single picks and touching pairs are
   rebuilt from fresh candidates and re-packed exactly, and a short seeded simulated
   annealing (pull an area in, trade it between picks, swap or drop one) looks for
   rearrangements that need a step down first.

Every selection must leave the rest of the LA partitionable: no connected piece of
the remaining areas may hold a population that no number of in-band patches can
make (below the band's minimum, or between ``k x max`` and ``(k+1) x min``). The rule
is monotone: a piece stranded by some picks stays stranded whatever picks are added
(a pick inside it leaves a remainder that is again too small or in a gap), so
candidates that strand a piece on their own are dropped and the packing prunes on it.
All randomness comes from ``seed``; the same inputs give the same picks. Every pick
is checked again, from scratch, before it is returned; a violation raises
:class:`PatchingError`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import PatchingError
from .patches.graph import AreaGraph
from .patches.partition import partition_areas
from .patches.search import is_connected
from .schema import POPULATION

EPS = 1e-9
_MAX_NODES = 20_000  # branch-and-bound node budget (a few hundred nodes are typical for n <= 6)


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


class _Problem:
    """Plain-Python arrays for fast set moves; positions follow ``graph.codes``."""

    def __init__(
        self,
        nbrs: list[list[int]],
        pop: list[float],
        value: list[float],
        lo: float,
        hi: float,
        eligible: list[bool],
        unit: list[int] | None,
        weight: list[float],
        wx: list[float],
        wy: list[float],
        min_distance: float | None,
        fixed: frozenset[int],
    ):
        self.n = len(pop)
        self.nbrs, self.pop, self.value = nbrs, pop, value
        self.rate = [v / p if p > 0 else 0.0 for v, p in zip(value, pop, strict=True)]
        self.lo, self.hi = lo, hi
        self.eligible = eligible
        self.unit, self.weight, self.wx, self.wy = unit, weight, wx, wy
        self.min_distance = min_distance
        self.fixed = fixed  # locked-in areas: never dropped by local search
        self.scale = max(float(np.mean(np.abs(value))), 1.0) if value else 1.0
        # Components of at least k0 x lo people can always be cut into in-band patches by count.
        self.cap = math.inf if hi - lo <= EPS else math.ceil(lo / (hi - lo) - EPS) * lo
        self._stranding: dict[frozenset[int], bool] = {}

    # -- populations a remaining piece may hold -------------------------------------
    def count_ok(self, people: float) -> bool:
        if people <= EPS:
            return True
        k = math.ceil(people / self.hi - EPS)
        return k * self.lo <= people + EPS

    def pockets(self, taken: set[int] | frozenset[int], around: Iterable[int] | None = None) -> list[list[int]]:
        """Pieces of the areas outside ``taken``, touching it, that no set of in-band patches can cover.

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
                    if people >= self.cap:
                        done = False
                        break
                seen |= local
                if done and not self.count_ok(people):
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
class _Cand:
    members: frozenset[int]
    mask: int
    population: float
    value: float
    unit: int
    xy: tuple[float, float]

    @property
    def key(self) -> tuple[float, tuple[int, ...]]:
        return (-round(self.value, 6), tuple(sorted(self.members)))


def _cand(p: _Problem, members: Iterable[int]) -> _Cand:
    members = frozenset(members)
    mask = 0
    for i in members:
        mask |= 1 << i
    unit = p.unit_of(members) if p.unit is not None else -1
    return _Cand(
        members, mask, sum(p.pop[i] for i in members), sum(p.value[i] for i in members), unit, p.centroid(members)
    )


def _compatible(p: _Problem, a: _Cand, b: _Cand) -> bool:
    if a.mask & b.mask:
        return False
    if p.unit is not None and a.unit == b.unit:
        return False
    if p.min_distance is not None and math.dist(a.xy, b.xy) < p.min_distance - EPS:
        return False
    return True


# --------------------------------------------------------------------------- growth


Score = Callable[[int, set[int]], float]


def _grow(p: _Problem, core: Iterable[int], score: Score, blocked: set[int] | frozenset[int]) -> set[int] | None:
    """Add the best-scoring neighbour until in the band, then while a neighbour adds need and fits."""
    members = set(core)
    people = sum(p.pop[i] for i in members)
    frontier = {u for i in members for u in p.nbrs[i] if u not in members and p.eligible[u] and u not in blocked}
    while True:
        best, best_key = None, None
        for j in frontier:
            if people + p.pop[j] > p.hi + EPS or (people >= p.lo - EPS and p.value[j] <= 0):
                continue
            key = (score(j, members), -j)
            if best_key is None or key > best_key:
                best, best_key = j, key
        if best is None:
            break
        members.add(best)
        people += p.pop[best]
        frontier.discard(best)
        frontier.update(u for u in p.nbrs[best] if u not in members and p.eligible[u] and u not in blocked)
    return members if p.lo - EPS <= people <= p.hi + EPS else None


def _draft(p: _Problem, seeds: Sequence[int], score: Score, blocked: set[int] | frozenset[int]) -> list[set[int]]:
    """Grow one region per seed at once, taking turns (a draft), so the regions fit together.

    Each turn a region takes its best free neighbour that fits (only need-adding ones once in
    the band); regions that end in the band are returned.
    """
    regions = [{s} for s in seeds]
    people = [p.pop[s] for s in seeds]
    owner = {s: k for k, s in enumerate(seeds)}
    active = list(range(len(seeds)))
    while active:
        still = []
        for k in active:
            members = regions[k]
            best, best_key = None, None
            for i in members:
                for j in p.nbrs[i]:
                    if j in owner or j in blocked or not p.eligible[j]:
                        continue
                    if people[k] + p.pop[j] > p.hi + EPS or (people[k] >= p.lo - EPS and p.value[j] <= 0):
                        continue
                    key = (score(j, members), -j)
                    if best_key is None or key > best_key:
                        best, best_key = j, key
            if best is not None:
                members.add(best)
                owner[best] = k
                people[k] += p.pop[best]
                still.append(k)
        active = still
    return [r for r, n in zip(regions, people, strict=True) if p.lo - EPS <= n <= p.hi + EPS]


def _scores(p: _Problem, rng: np.random.Generator, n_random: int) -> list[Score]:
    value, rate, nbrs, eligible = p.value, p.rate, p.nbrs, p.eligible
    mean_pop = float(np.mean(p.pop)) if p.pop else 1.0

    def by_value(j: int, members: set[int]) -> float:
        return value[j]

    def by_rate(j: int, members: set[int]) -> float:
        return rate[j]

    def look_ahead(j: int, members: set[int]) -> float:
        ahead = max((value[u] for u in nbrs[j] if u not in members and eligible[u]), default=0.0)
        return value[j] + 0.5 * max(ahead, 0.0)

    def compact(j: int, members: set[int]) -> float:
        touching = sum(1 for u in nbrs[j] if u in members)
        return rate[j] * mean_pop + 0.5 * p.scale * touching

    scores: list[Score] = [by_value, by_rate, look_ahead, compact]
    for _ in range(n_random):
        noise = rng.normal(0.0, 0.35 * p.scale, p.n).tolist()
        use_rate = bool(rng.integers(0, 2))

        def noisy(j: int, members: set[int], noise=noise, use_rate=use_rate) -> float:
            return (rate[j] * mean_pop if use_rate else value[j]) + noise[j]

        scores.append(noisy)
    return scores


# --------------------------------------------------------------------------- local search


def _improve(
    p: _Problem,
    members: set[int],
    blocked: set[int] | frozenset[int],
    accept: Callable[[set[int]], bool],
    *,
    max_rounds: int = 60,
) -> set[int]:
    """Best-first add / drop / swap of one boundary area while it raises the set's excess need.

    A move must keep the set contiguous, in the band and clear of ``blocked``, and pass ``accept``.
    """
    members = set(members)
    people = sum(p.pop[i] for i in members)
    for _ in range(max_rounds):
        frontier = sorted(
            {u for i in members for u in p.nbrs[i] if u not in members and p.eligible[u] and u not in blocked}
        )
        droppable = sorted(i for i in members if i not in p.fixed)
        moves: list[tuple[float, int, int]] = []  # (gain, out, in); -1 = none
        for j in frontier:
            if p.value[j] > EPS and people + p.pop[j] <= p.hi + EPS:
                moves.append((p.value[j], -1, j))
        for i in droppable:
            if len(members) > 1 and p.value[i] < -EPS and people - p.pop[i] >= p.lo - EPS:
                moves.append((-p.value[i], i, -1))
            for j in frontier:
                gain = p.value[j] - p.value[i]
                if gain > EPS and p.lo - EPS <= people - p.pop[i] + p.pop[j] <= p.hi + EPS:
                    moves.append((gain, i, j))
        if not moves:
            break
        moves.sort(key=lambda m: (-m[0], m[1], m[2]))
        for _gain, out, into in moves:
            trial = set(members)
            if out >= 0:
                trial.discard(out)
            if into >= 0:
                if out >= 0 and not any(u in trial for u in p.nbrs[into]):
                    continue
                trial.add(into)
            if out >= 0 and not is_connected(trial, p.nbrs):
                continue
            if not accept(trial):
                continue
            members = trial
            people = sum(p.pop[i] for i in members)
            break
        else:
            break
    return members


def _candidates(
    p: _Problem,
    cores: list[frozenset[int]],
    rng: np.random.Generator,
    *,
    blocked: frozenset[int] = frozenset(),
    n_random: int = 4,
) -> dict[frozenset[int], None]:
    """Grown and improved regions around each core, in a deterministic order (dict as ordered set)."""
    scores = _scores(p, rng, n_random)
    found: dict[frozenset[int], None] = {}
    improved: set[frozenset[int]] = set()
    for core in cores:
        for score in scores:
            grown = _grow(p, core, score, blocked)
            if grown is None:
                continue
            key = frozenset(grown)
            found.setdefault(key, None)
            if key in improved:
                continue
            improved.add(key)
            clean = not p.strands(key)
            better = _improve(p, grown, blocked, (lambda t: not p.strands(t)) if clean else (lambda t: True))
            found.setdefault(frozenset(better), None)
    return found


def _drafts(
    p: _Problem, seeds: list[int], n: int, rng: np.random.Generator, blocked: frozenset[int]
) -> dict[frozenset[int], None]:
    """Regions from drafts of 2 to ``min(n, 3)`` seeds, each also polished with its rivals held fixed."""
    scores = _scores(p, rng, 0)[:2]  # by value, by need per person
    found: dict[frozenset[int], None] = {}
    for size in range(2, min(n, 3) + 1):
        for combo in combinations(seeds, size):
            if any(u in combo for s in combo for u in p.nbrs[s]):
                continue  # adjacent seeds would belong in one region
            for score in scores:
                regions = _draft(p, combo, score, blocked)
                for k, region in enumerate(regions):
                    found.setdefault(frozenset(region), None)
                    rivals = frozenset().union(*(r for j, r in enumerate(regions) if j != k))
                    if p.strands(region):
                        continue
                    better = _improve(p, region, blocked | rivals, lambda t: not p.strands(t))
                    found.setdefault(frozenset(better), None)
    return found


# --------------------------------------------------------------------------- packing


@dataclass
class _Rules:
    groups: list[frozenset[int]]  # each wholly inside its own pick
    singles: frozenset[int]  # each inside some pick
    pockets: bool  # leave no stranded pocket

    @property
    def group_areas(self) -> frozenset[int]:
        return frozenset().union(*self.groups) if self.groups else frozenset()


def _selection_ok(p: _Problem, picks: Sequence[_Cand], rules: _Rules) -> bool:
    for a in range(len(picks)):
        for b in range(a + 1, len(picks)):
            if not _compatible(p, picks[a], picks[b]):
                return False
    union = frozenset().union(*(c.members for c in picks)) if picks else frozenset()
    if not rules.singles <= union:
        return False
    for g in rules.groups:
        holders = [c for c in picks if g <= c.members]
        if len(holders) != 1 or any(h.members & (rules.group_areas - g) for h in holders):
            return False
    return not (rules.pockets and p.strands(union))


def _bits(mask: int) -> Iterable[int]:
    """Positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _pack(
    p: _Problem,
    pool: list[_Cand],
    n: int,
    rules: _Rules,
    fixed: Sequence[_Cand] = (),
    incumbent: Sequence[frozenset[int]] = (),
) -> tuple[dict[int, list[_Cand]], bool]:
    """Exact branch-and-bound for the best ``n`` compatible candidates to add to ``fixed``.

    ``pool`` must be sorted best first. Candidate sets are bitsets over the pool, so
    filtering by compatibility is one AND. The pocket rule is checked at every node: it
    is monotone (a piece stranded by some picks stays stranded whatever is added: any
    pick inside it leaves a remainder that is still too small or in a gap). Returns the
    best valid selection of every size reached, ``{size: picks}``, and whether the search
    finished within its node budget.
    """
    fixed = list(fixed)
    pool = [c for c in pool if all(_compatible(p, c, f) for f in fixed)]
    size = len(pool)
    compat = [0] * size
    for a in range(size):
        for b in range(a + 1, size):
            if _compatible(p, pool[a], pool[b]):
                compat[a] |= 1 << b
                compat[b] |= 1 << a
    fixed_union = _union(fixed)
    groups = [g for g in rules.groups if not g <= fixed_union]
    others = rules.group_areas
    forced = []
    for g in groups:
        m = 0
        for k, c in enumerate(pool):
            if g <= c.members and not (c.members & (others - g)):
                m |= 1 << k
        forced.append(m)
    general = 0
    for k, c in enumerate(pool):
        if not (c.members & others):
            general |= 1 << k
    singles = rules.singles - fixed_union
    best: dict[int, tuple[float, list[int]]] = {}
    nodes = [0]
    values = [c.value for c in pool]
    where = {c.members: k for k, c in enumerate(pool)}
    if len(incumbent) == n and all(m in where for m in incumbent):
        start = sorted(where[m] for m in incumbent)
        if _selection_ok(p, [*fixed, *(pool[k] for k in start)], rules):
            best[n] = (sum(values[k] for k in start), start)  # a known answer to prune against

    def top(mask: int, k: int) -> float:
        """Sum of the ``k`` best values in ``mask`` (-inf if it holds fewer)."""
        if k <= 0:
            return 0.0
        total, got = 0.0, 0
        for idx in _bits(mask):
            total += values[idx]
            got += 1
            if got == k:
                return total
        return -math.inf

    def dfs(chosen: list[int], total: float, union: frozenset[int], forced_left: list[int], gen: int) -> None:
        nodes[0] += 1
        if nodes[0] > _MAX_NODES:
            return
        if chosen and rules.pockets and p.strands(union | fixed_union, pool[chosen[-1]].members):
            return  # monotone: no extension can repair it
        depth = len(chosen)
        if not forced_left and singles <= union:
            if depth not in best or total > best[depth][0] + EPS:
                best[depth] = (total, list(chosen))
        remaining = n - depth
        if remaining == 0:
            return
        k_gen = remaining - len(forced_left)
        if k_gen < 0:
            return
        bound = total + sum(max((values[i] for i in _bits(m)), default=-math.inf) for m in forced_left)
        bound += top(gen, k_gen)
        if n in best and bound <= best[n][0] + EPS:
            return
        if singles - union:
            reach: frozenset[int] = frozenset()
            for m in [*forced_left, gen]:
                for i in _bits(m):
                    reach |= pool[i].members
            if singles - union - reach:
                return
        if forced_left:
            for i in _bits(forced_left[0]):
                rest = [m & compat[i] for m in forced_left[1:]]
                dfs([*chosen, i], total + values[i], union | pool[i].members, rest, gen & compat[i])
            return
        for i in _bits(gen):
            after = gen & ~((1 << (i + 1)) - 1)
            if n in best and total + values[i] + top(after, k_gen - 1) <= best[n][0] + EPS:
                break
            dfs([*chosen, i], total + values[i], union | pool[i].members, [], after & compat[i])

    dfs([], 0.0, frozenset(), forced, general)
    return {d: [pool[i] for i in idx] for d, (_, idx) in best.items()}, nodes[0] <= _MAX_NODES


# --------------------------------------------------------------------------- joint improvement


def _union(picks: Iterable[_Cand]) -> frozenset[int]:
    out: frozenset[int] = frozenset()
    for c in picks:
        out |= c.members
    return out


def _polish(p: _Problem, picks: list[_Cand], k: int, rules: _Rules, blocked: frozenset[int]) -> _Cand:
    """Local search on pick ``k`` with the other picks held fixed."""
    others = picks[:k] + picks[k + 1 :]

    def accept(trial: set[int]) -> bool:
        return _selection_ok(p, [*others, _cand(p, trial)], rules)

    better = _improve(p, set(picks[k].members), blocked | _union(others), accept)
    return _cand(p, better)


def _transfer(
    p: _Problem, picks: list[_Cand], a: int, b: int, rules: _Rules, blocked: frozenset[int]
) -> list[_Cand] | None:
    """Best compound move: one area of pick ``a`` joins the neighbouring pick ``b``; both are regrown."""
    best, best_total = None, sum(c.value for c in picks)
    pa, pb = picks[a], picks[b]
    rest = _union(c for k, c in enumerate(picks) if k not in (a, b)) | blocked
    for m in sorted(pa.members):
        if m in p.fixed or not any(u in pb.members for u in p.nbrs[m]) or pb.population + p.pop[m] > p.hi + EPS:
            continue
        left = set(pa.members) - {m}
        if not left or not is_connected(left, p.nbrs):
            continue
        new_b = set(pb.members) | {m}
        for score in (lambda j, s: p.value[j], lambda j, s: p.rate[j]):
            grown = _grow(p, left, score, rest | new_b)
            if grown is None:
                continue
            trial = list(picks)
            trial[a], trial[b] = _cand(p, grown), _cand(p, new_b)
            if not _selection_ok(p, trial, rules):
                continue
            trial[a] = _polish(p, trial, a, rules, blocked)
            trial[b] = _polish(p, trial, b, rules, blocked)
            total = sum(c.value for c in trial)
            if total > best_total + EPS:
                best, best_total = trial, total
    return best


def _rebuild(
    p: _Problem,
    picks: list[_Cand],
    ks: tuple[int, ...],
    rules: _Rules,
    blocked: frozenset[int],
    rng: np.random.Generator,
) -> list[_Cand] | None:
    """Free the picks ``ks``, grow fresh candidates around the rest and re-pack them exactly."""
    fixed = [c for k, c in enumerate(picks) if k not in ks]
    taken = _union(fixed) | blocked
    freed = sorted(_union(picks[k] for k in ks), key=lambda i: (-p.value[i], i))
    free = sorted((i for i in range(p.n) if p.eligible[i] and i not in taken), key=lambda i: (-p.value[i], i))
    seeds = list(dict.fromkeys(freed[:10] + free[:10]))
    cores = [frozenset([s]) for s in seeds] + [g for g in rules.groups if not (g & taken)]
    found = _candidates(p, cores, rng, blocked=taken, n_random=2)
    found.update({c.members: None for k, c in enumerate(picks) if k in ks})
    pool = sorted((_cand(p, m) for m in found), key=lambda c: c.key)
    chosen = _pack(p, pool, len(ks), rules, fixed)[0].get(len(ks))
    if chosen is None:
        return None
    trial = list(picks)
    for k, c in zip(ks, chosen, strict=True):
        trial[k] = c
    return trial


def _anneal(
    p: _Problem,
    picks: list[_Cand],
    rules: _Rules,
    blocked: frozenset[int],
    rng: np.random.Generator,
    *,
    iters: int = 8000,
) -> list[_Cand]:
    """Simulated annealing on the joint selection; returns the best selection seen.

    A step takes a random pick and a random area next to it, and pulls that area in (from
    outside, or from the pick holding it: a free trade that lets picks shift), pulls it in
    while dropping one of the pick's own areas, or drops an area. Moves keep every pick
    contiguous and in the band; the selection rules are checked before a move is taken.
    The number of steps is fixed, so the result depends only on the inputs and the seed.
    """
    if not picks:
        return picks
    members = [set(c.members) for c in picks]
    people = [c.population for c in picks]
    label = {i: k for k, m in enumerate(members) for i in m}
    total = sum(c.value for c in picks)
    best_total, best = total, [c.members for c in picks]
    full_check = p.unit is not None or p.min_distance is not None or bool(rules.singles or rules.groups)
    t_hi, t_lo = 1.0 * p.scale, 0.1 * p.scale
    draws = rng.random((iters, 5))
    ring: list[list[int] | None] = [None] * len(members)  # areas next to each pick, recomputed after a change
    for it in range(iters):
        temp = t_hi * (t_lo / t_hi) ** (it / max(1, iters - 1))
        k = int(draws[it, 0] * len(members))
        mine = members[k]
        outside = ring[k]
        if outside is None:
            outside = ring[k] = sorted(
                {j for i in mine for j in p.nbrs[i] if j not in mine and p.eligible[j] and j not in blocked}
            )
        kind = draws[it, 1]
        moves: list[tuple[int, int, int]] = []  # (area, from pick or -1, to pick or -1)
        if kind < 0.7 and outside:
            j = outside[int(draws[it, 2] * len(outside))]
            src = label.get(j, -1)
            if j in p.fixed:
                continue
            if src >= 0:
                rest = members[src] - {j}
                if people[src] - p.pop[j] < p.lo - EPS or not rest or not is_connected(rest, p.nbrs):
                    continue
            moves.append((j, src, k))
            room = people[k] + p.pop[j]
            if kind >= 0.35:  # ... and drop one of the pick's own areas
                own = sorted(mine - p.fixed)
                if not own:
                    continue
                i = own[int(draws[it, 3] * len(own))]
                moves.append((i, k, -1))
                room -= p.pop[i]
            if not p.lo - EPS <= room <= p.hi + EPS:
                continue
        else:
            own = sorted(mine - p.fixed)
            if not own:
                continue
            i = own[int(draws[it, 3] * len(own))]
            if people[k] - p.pop[i] < p.lo - EPS:
                continue
            moves.append((i, k, -1))
        delta = sum(p.value[a] * ((dst >= 0) - (src >= 0)) for a, src, dst in moves)
        if delta < 0 and draws[it, 4] >= math.exp(delta / temp):
            continue
        new = [set(m) for m in members]
        for a, src, dst in moves:
            if src >= 0:
                new[src].discard(a)
            if dst >= 0:
                new[dst].add(a)
        touched = {src for _, src, _ in moves if src >= 0} | {dst for _, _, dst in moves if dst >= 0}
        if any(not new[t] or not is_connected(new[t], p.nbrs) for t in touched):
            continue
        if rules.pockets and p.strands(frozenset().union(*new)):
            continue
        if full_check and not _selection_ok(p, [_cand(p, m) for m in new], rules):
            continue
        for a, src, dst in moves:
            if src >= 0:
                people[src] -= p.pop[a]
                label.pop(a, None)
            if dst >= 0:
                people[dst] += p.pop[a]
                label[a] = dst
        members = new
        for t in touched:
            ring[t] = None
        total += delta
        if total > best_total + EPS:
            best_total, best = total, [frozenset(m) for m in members]
    return [_cand(p, m) for m in best]


def _improve_jointly(
    p: _Problem, picks: list[_Cand], rules: _Rules, blocked: frozenset[int], rng: np.random.Generator
) -> list[_Cand]:
    """Polish each pick around the others; move border areas between neighbouring picks; rebuild pairs."""
    picks = list(picks)
    total = sum(c.value for c in picks)
    for _ in range(4):
        before = total
        for k in range(len(picks)):
            cand = _polish(p, picks, k, rules, blocked)
            if cand.value > picks[k].value + EPS:
                picks[k] = cand
        pairs = [(a, b) for a in range(len(picks)) for b in range(len(picks)) if a != b]
        for a, b in pairs:
            trial = _transfer(p, picks, a, b, rules, blocked)
            if trial is not None:
                picks = trial
        subsets: list[tuple[int, ...]] = [(a,) for a in range(len(picks))]
        near = [c.members | {u for i in c.members for u in p.nbrs[i]} for c in picks]
        subsets += [
            (a, b) for a in range(len(picks)) for b in range(a + 1, len(picks)) if near[a] & picks[b].members
        ]  # pairs of touching picks: apart, a pair rebuild is two single ones
        for ks in subsets:
            trial = _rebuild(p, picks, ks, rules, blocked, rng)
            if trial is not None and sum(c.value for c in trial) > sum(c.value for c in picks) + EPS:
                picks = trial
        total = sum(c.value for c in picks)
        if total <= before + EPS:
            break
    return picks


# --------------------------------------------------------------------------- inputs


def _lock_groups(lock_in: Sequence[str | Sequence[str]]) -> tuple[list[tuple[str, ...]], list[str]]:
    groups, singles = [], []
    for item in lock_in:
        if isinstance(item, str):
            singles.append(item)
        else:
            groups.append(tuple(str(c) for c in item))
    return groups, singles


def _connect(p: _Problem, codes: tuple[str, ...], members: list[int], blocked: set[int]) -> frozenset[int]:
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


def _validate_inputs(
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


# --------------------------------------------------------------------------- public


def select_patches(
    areas: gpd.GeoDataFrame,
    need: pd.Series,
    graph: AreaGraph,
    *,
    n: int = 3,
    target_population: float = 10_000,
    band: float = 0.2,
    spread: pd.Series | None = None,
    min_distance_m: float | None = None,
    lock_in: Sequence[str | Sequence[str]] = (),
    lock_out: Sequence[str] = (),
    seed: int = 0,
) -> Selection:
    """Choose ``n`` disjoint contiguous patches in the band that capture the most excess need.

    Parameters
    ----------
    areas
        Small areas in EPSG:27700, indexed by code, with ``population``.
    need
        Need index per area, indexed like ``areas``. A pick's excess need is the sum over
        its areas of population x (need - the population-weighted mean need of ``areas``).
    graph
        Contiguity of ``areas`` (:func:`lacgeo.patches.build_area_graph`); declared island
        bridges count as adjacency.
    n
        Number of picks.
    target_population, band
        Each pick holds ``target x (1 - band)`` to ``target x (1 + band)`` people.
    spread
        Optional unit per area (e.g. ward or community area), indexed like ``areas``: at most
        one pick per unit, a pick's unit being the one holding most of its people.
    min_distance_m
        Optional least distance between pick centroids, in metres.
    lock_in
        Area codes that must be inside picks. A plain code must be in some pick; a tuple of
        codes is a group that forms (part of) one pick of its own.
    lock_out
        Area codes no pick may contain.
    seed
        Seed for the randomised growth rules; the same inputs and seed give the same picks.

    Returns
    -------
    Selection
        Picks (best first) with codes, population and excess need; ``warnings`` say why
        fewer than ``n`` picks were placed, if so.

    Raises
    ------
    PatchingError
        Invalid inputs, impossible lock-ins, or a pick failing the final check.
    """
    group_codes, single_codes = _lock_groups([lock_in] if isinstance(lock_in, str) else lock_in)
    out_codes = [lock_out] if isinstance(lock_out, str) else [str(c) for c in lock_out]
    all_locked = [c for g in group_codes for c in g] + single_codes
    _validate_inputs(areas, need, graph, n, target_population, band, spread, min_distance_m, all_locked + out_codes)
    both = sorted(set(all_locked) & set(out_codes))
    if both:
        raise PatchingError(f"areas {', '.join(both[:5])} are both locked in and locked out; remove one of the two")

    pop_arr = areas[POPULATION].to_numpy(dtype=float)
    need_arr = need.to_numpy(dtype=float)
    total_pop = pop_arr.sum()
    mean_need = float((pop_arr * need_arr).sum() / total_pop) if total_pop > 0 else 0.0
    value_arr = pop_arr * (need_arr - mean_need)
    lo, hi = target_population * (1 - band), target_population * (1 + band)
    pos = pd.Series(np.arange(len(areas)), index=areas.index)
    out_pos = frozenset(int(pos[c]) for c in out_codes)
    eligible = [i not in out_pos for i in range(len(areas))]
    unit_labels: list[str] = []
    unit = None
    if spread is not None:
        codes_u, uniques = pd.factorize(spread.astype(str), sort=True)
        unit, unit_labels = codes_u.tolist(), [str(u) for u in uniques]
    geom_area = areas.geometry.area.to_numpy(dtype=float)
    cent = areas.geometry.centroid
    p = _Problem(
        [[int(u) for u in nb] for nb in graph.neighbours()],
        pop_arr.tolist(),
        value_arr.tolist(),
        lo,
        hi,
        eligible,
        unit,
        geom_area.tolist(),
        (geom_area * cent.x.to_numpy()).tolist(),
        (geom_area * cent.y.to_numpy()).tolist(),
        min_distance_m,
        frozenset(int(pos[c]) for c in all_locked),
    )
    rng = np.random.default_rng(seed)

    # lock-ins: check each is possible, and turn groups into contiguous cores
    for c in all_locked:
        if p.pop[int(pos[c])] > hi + EPS:
            raise PatchingError(
                f"locked-in area {c} holds {p.pop[int(pos[c])]:,.0f} people, more than the band's {hi:,.0f}; "
                "unlock it or widen the band"
            )
    if len(group_codes) > n:
        raise PatchingError(
            f"{len(group_codes)} locked-in groups need a pick each, but n = {n}; raise n or merge groups"
        )
    group_pos = [[int(pos[c]) for c in g] for g in group_codes]
    all_group_pos = {i for g in group_pos for i in g}
    groups = []
    for g_codes, g in zip(group_codes, group_pos, strict=True):
        blocked = set(out_pos) | (all_group_pos - set(g))
        groups.append(_connect(p, g_codes, g, blocked))
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            if groups[a] & groups[b]:
                raise PatchingError(
                    f"locked-in groups ({', '.join(group_codes[a])}) and ({', '.join(group_codes[b])}) overlap; "
                    "merge them into one group or remove the shared areas"
                )
    single_pos = frozenset(int(pos[c]) for c in single_codes)
    rules = _Rules(groups, single_pos, pockets=True)

    # 1. candidates
    order = sorted((i for i in range(p.n) if eligible[i]), key=lambda i: (-p.value[i], i))
    n_seeds = min(len(order), max(24, 10 * n))
    cores = [frozenset([i]) for i in order[:n_seeds]]
    cores += [g for g in groups] + [frozenset([i]) for i in sorted(single_pos)]
    found = _candidates(p, cores, rng, blocked=out_pos)
    if n > 1:
        found.update(_drafts(p, order[: min(len(order), 12)], n, rng, out_pos))
    pool = sorted((_cand(p, m) for m in found), key=lambda c: c.key)
    clean = [c for c in pool if not p.strands(c.members)]

    # 2. packing: n picks if possible, else as many as possible
    notes: list[str] = []
    packed, finished = _pack(p, clean, n, rules)
    if not packed:
        raise PatchingError(
            f"no selection of up to {n} picks holds the locked-in areas {', '.join(all_locked[:8])} "
            f"within {lo:,.0f}-{hi:,.0f} people{_rule_text(p, spread, min_distance_m)} while leaving the rest "
            "partitionable; remove some lock-ins, raise n or widen the band"
        )
    if max(packed) < n:
        # Too few picks fit together: add the in-band cells of a balanced partition. Any set of
        # partition cells leaves whole in-band cells behind, so it never strands a pocket.
        raw, cells = _partition_cells(p, graph, need_arr, cent, target_population, band, seed, out_pos)
        found.update(cells)
        pool = sorted((_cand(p, m) for m in found), key=lambda c: c.key)
        clean = [c for c in pool if not p.strands(c.members)]
        start = sorted(raw, key=lambda m: (-sum(p.value[i] for i in m), sorted(m)))[:n]
        retry, retry_finished = _pack(p, clean, n, rules, incumbent=start)

        def rank(result: dict[int, list[_Cand]]) -> tuple[int, float]:
            size = max(result) if result else -1
            return (size, sum(c.value for c in result[size]) if result else 0.0)

        if rank(retry) > rank(packed):
            packed, finished = retry, retry_finished
    if not finished:
        notes.append("the selection search hit its node budget; the picks may not be the best of the candidates")
    chosen = list(packed[max(packed)])

    # 3. improve the picks jointly
    if chosen:
        chosen = _improve_jointly(p, chosen, rules, out_pos, rng)
        for _ in range(3):  # annealing restarts, each from the best so far
            annealed = _anneal(p, chosen, rules, out_pos, rng)
            if sum(c.value for c in annealed) > sum(c.value for c in chosen) + EPS:
                chosen = _improve_jointly(p, annealed, rules, out_pos, rng)
    if len(chosen) < n:
        notes.insert(0, _shortfall(p, pool, clean, n, len(chosen), spread, min_distance_m, rules))

    chosen.sort(key=lambda c: c.key)
    _check(p, chosen, rules, out_pos, areas.index)
    codes = areas.index
    picks = tuple(
        Pick(
            area_codes=tuple(sorted(str(codes[i]) for i in c.members)),
            population=float(c.population),
            excess_need=float(c.value),
            need_index=float(sum(pop_arr[i] * need_arr[i] for i in c.members) / c.population),
            centroid=c.xy,
            unit=unit_labels[c.unit] if unit is not None else None,
        )
        for c in chosen
    )
    return Selection(picks, float(sum(c.value for c in chosen)), n, tuple(notes), len(pool))


def _partition_cells(
    p: _Problem,
    graph: AreaGraph,
    need: np.ndarray,
    centroids: gpd.GeoSeries,
    target: float,
    band: float,
    seed: int,
    blocked: frozenset[int],
) -> tuple[list[frozenset[int]], dict[frozenset[int], None]]:
    """In-band cells of one balanced partition of all the areas, and those plus each improved on its own."""
    xy = np.column_stack([centroids.x.to_numpy(), centroids.y.to_numpy()])
    labels, flags = partition_areas(
        graph, np.asarray(p.pop), need, xy, target=int(round(target)), band=band, n_starts=1, seed=seed
    )
    raw: list[frozenset[int]] = []
    found: dict[frozenset[int], None] = {}
    for label in range(int(labels.max()) + 1):
        cell = frozenset(np.flatnonzero(labels == label).tolist())
        if label in flags or cell & blocked or not p.lo - EPS <= sum(p.pop[i] for i in cell) <= p.hi + EPS:
            continue
        raw.append(cell)
        found[cell] = None
        better = _improve(p, set(cell), blocked, lambda t: not p.strands(t))
        found.setdefault(frozenset(better), None)
    return raw, found


def _rule_text(p: _Problem, spread: pd.Series | None, min_distance_m: float | None) -> str:
    parts = []
    if spread is not None:
        parts.append(f"one per {spread.name or 'spread unit'}")
    if min_distance_m:
        parts.append(f"at least {min_distance_m:,.0f} m apart")
    return (", " + ", ".join(parts)) if parts else ""


def _shortfall(
    p: _Problem,
    pool: list[_Cand],
    clean: list[_Cand],
    n: int,
    got: int,
    spread: pd.Series | None,
    min_distance_m: float | None,
    rules: _Rules,
) -> str:
    head = f"only {got} of the {n} requested picks could be placed: "
    people = sum(p.pop[i] for i in range(p.n) if p.eligible[i])
    if people < n * p.lo:
        return head + f"the areas hold {people:,.0f} people, too few for {n} patches of at least {p.lo:,.0f}"
    if not pool:
        return head + f"no contiguous group of areas holds {p.lo:,.0f}-{p.hi:,.0f} people"
    loose = _Rules(rules.groups, rules.singles, pockets=False)
    more = _pack(p, pool, got + 1, loose)[0].get(got + 1)
    if more is not None:
        return head + (
            f"{got + 1} picks were possible only by cutting off pockets of the remaining areas that cannot "
            f"form patches of {p.lo:,.0f}-{p.hi:,.0f} people"
        )
    return head + (
        f"no {got + 1} disjoint contiguous groups of {p.lo:,.0f}-{p.hi:,.0f} people"
        f"{_rule_text(p, spread, min_distance_m)} were found among {len(clean)} candidates"
    )


def _check(p: _Problem, picks: list[_Cand], rules: _Rules, blocked: frozenset[int], codes: pd.Index) -> None:
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
        for j, d in enumerate(picks[k:], start=k + 1):
            if c.members & d.members:
                problems.append(f"picks {k} and {j} share areas ({names(c.members & d.members)})")
            if p.unit is not None and p.unit_of(c.members) == p.unit_of(d.members):
                problems.append(f"picks {k} and {j} are in the same spread unit")
            if p.min_distance is not None:
                gap = math.dist(p.centroid(c.members), p.centroid(d.members))
                if gap < p.min_distance - EPS:
                    problems.append(f"picks {k} and {j} are {gap:,.0f} m apart, under {p.min_distance:,.0f} m")
    union = _union(picks)
    if rules.singles - union:
        problems.append(f"locked-in areas {names(rules.singles - union)} are in no pick")
    for g in rules.groups:
        holders = [c for c in picks if g <= c.members]
        if len(holders) != 1 or holders[0].members & (rules.group_areas - g):
            problems.append(f"locked-in group {names(g)} is not in a pick of its own")
    for piece in p.pockets(union) if rules.pockets else []:
        people = sum(p.pop[i] for i in piece)
        problems.append(f"the picks cut off {names(piece)} ({people:,.0f} people), which cannot form patches")
    if problems:
        raise PatchingError("selection check failed: " + "; ".join(problems))


__all__ = ["Pick", "Selection", "select_patches"]
