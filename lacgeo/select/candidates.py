"""Candidate picks: greedy growth under several rules, drafts, local search and partition cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import combinations

import geopandas as gpd
import numpy as np

from ..patches.graph import AreaGraph, is_connected
from ..patches.partition import partition_areas
from .problem import EPS, Problem

# --------------------------------------------------------------------------- growth


Score = Callable[[int, set[int]], float]


def grow_region(p: Problem, core: Iterable[int], score: Score, blocked: set[int] | frozenset[int]) -> set[int] | None:
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


def _draft(p: Problem, seeds: Sequence[int], score: Score, blocked: set[int] | frozenset[int]) -> list[set[int]]:
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


def _scores(p: Problem, rng: np.random.Generator, n_random: int) -> list[Score]:
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


def improve_region(
    p: Problem,
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


def candidate_pool(
    p: Problem,
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
            grown = grow_region(p, core, score, blocked)
            if grown is None:
                continue
            key = frozenset(grown)
            found.setdefault(key, None)
            if key in improved:
                continue
            improved.add(key)
            clean = not p.strands(key)
            better = improve_region(p, grown, blocked, (lambda t: not p.strands(t)) if clean else (lambda t: True))
            found.setdefault(frozenset(better), None)
    return found


def drafts(
    p: Problem, seeds: list[int], n: int, rng: np.random.Generator, blocked: frozenset[int]
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
                    better = improve_region(p, region, blocked | rivals, lambda t: not p.strands(t))
                    found.setdefault(frozenset(better), None)
    return found


# --------------------------------------------------------------------------- partition cells


def partition_cells(
    p: Problem,
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
        better = improve_region(p, set(cell), blocked, lambda t: not p.strands(t))
        found.setdefault(frozenset(better), None)
    return raw, found
