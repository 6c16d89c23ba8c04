"""Stage 5, phase-1 selection: the ``n`` patches that capture the most need.

It runs on the contiguity graph (stage 4) before the partition (stage 6), which is
then built around the picks (``build_patches(fixed=...)``).

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
4. **The rest.** The areas outside the picks are cut as stage 6 will cut them. If that
   leaves patches outside the band (the picks made the rest impossible, or too hard, to
   tile), sets with one pick swapped for another candidate are tried, best first
   (:mod:`.rest`).

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

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import DEFAULTS
from ..errors import PatchingError
from ..need import excess_need
from ..patches.graph import AreaGraph
from ..patches.partition import Band
from ..schema import NEED_INDEX, POPULATION
from .candidates import candidate_pool, drafts, partition_cells
from .improve import anneal, improve_jointly
from .packing import pack, shortfall
from .problem import (
    EPS,
    Candidate,
    Pick,
    Rules,
    Selection,
    admissible,
    build_problem,
    check_selection,
    connect_lock_in,
    lock_groups,
    make_candidate,
    rule_text,
    taken_rules,
    validate_inputs,
)
from .rest import RestCheck, swap_for_rest


def select_patches(
    areas: gpd.GeoDataFrame,
    need: pd.Series,
    graph: AreaGraph,
    *,
    n: int = DEFAULTS.recommend.n,
    target_population: float = DEFAULTS.patches.target_population,
    band: float = DEFAULTS.patches.band,
    spread: pd.Series | None = None,
    min_distance_m: float | None = None,
    lock_in: Sequence[str | Sequence[str]] = (),
    lock_out: Sequence[str] = (),
    taken: Sequence[Sequence[str]] = (),
    near_m: float | None = None,
    seed: int = DEFAULTS.seed,
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
    taken
        Groups of area codes that hold coordinators already: areas in post, or the picks of
        earlier phases. Picks never overlap them; the spread and distance rules hold against
        them too; the pocket rule looks at the areas outside them, which stage 6 partitions.
        Excess need stays measured against the mean of all ``areas``.
    near_m
        With ``taken``: every pick's centre lies within this many metres of a taken group's
        centre ("keep the team close", for shared management and peer support).
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

    Examples
    --------
    >>> import lacgeo
    >>> areas = lacgeo.read_areas("E06000017")  # Rutland
    >>> need = lacgeo.read_deprivation(areas.index)["imd_score"]
    >>> picks = select_patches(areas, need, lacgeo.build_area_graph(areas), n=2)
    >>> [8_000 <= pick.population <= 12_000 for pick in picks.picks], picks.warnings
    ([True, True], ())
    """
    group_codes, single_codes = lock_groups([lock_in] if isinstance(lock_in, str) else lock_in)
    out_codes = [lock_out] if isinstance(lock_out, str) else [str(c) for c in lock_out]
    all_locked = [c for g in group_codes for c in g] + single_codes
    taken_codes = [str(c) for g in taken for c in g]
    validate_inputs(
        areas, need, graph, n, target_population, band, spread, min_distance_m, all_locked + out_codes + taken_codes
    )
    if near_m is not None and not near_m > 0:
        raise PatchingError(f"near_m must be a positive distance in metres (got {near_m!r})")
    clash = sorted(set(all_locked) & set(taken_codes))
    if clash:
        raise PatchingError(
            f"locked-in areas {', '.join(clash[:5])} already hold a coordinator (in post or an earlier phase); "
            "remove them from lock_in"
        )
    # what a pick captures is measured against the whole area, before the taken areas leave the problem
    value_all = excess_need(pd.DataFrame({POPULATION: areas[POPULATION], NEED_INDEX: need})).fillna(0.0)
    taken_units, taken_xy = taken_rules(areas, spread, taken)
    if taken_codes:
        keep = ~areas.index.isin(taken_codes)
        if not keep.any():
            why = f"none of the {n} requested picks could be placed: every area already holds a coordinator"
            return Selection((), 0.0, n, (why + " (in post or an earlier phase)",))
        areas, need, graph = areas[keep], need[keep], graph.subgraph(keep)
        spread = spread[keep] if spread is not None else None
        out_codes = [c for c in out_codes if c not in set(taken_codes)]
    both = sorted(set(all_locked) & set(out_codes))
    if both:
        raise PatchingError(f"areas {', '.join(both[:5])} are both locked in and locked out; remove one of the two")

    pop_arr = areas[POPULATION].to_numpy(dtype=float)
    need_arr = need.to_numpy(dtype=float)
    bands = Band(target_population, band)
    lo, hi = bands.lo, bands.hi
    pos = pd.Series(np.arange(len(areas)), index=areas.index)
    out_pos = frozenset(int(pos[c]) for c in out_codes)
    p, unit_labels = build_problem(
        areas,
        value_all[areas.index],
        graph,
        bands,
        spread=spread,
        min_distance_m=min_distance_m,
        out_codes=out_codes,
        locked_codes=all_locked,
        taken_units=taken_units,
        taken_xy=taken_xy,
        near_m=near_m,
    )
    eligible, unit = p.eligible, p.unit
    geom_area = np.asarray(p.weight)
    cent = areas.geometry.centroid
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
        groups.append(connect_lock_in(p, g_codes, g, blocked))
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            if groups[a] & groups[b]:
                raise PatchingError(
                    f"locked-in groups ({', '.join(group_codes[a])}) and ({', '.join(group_codes[b])}) overlap; "
                    "merge them into one group or remove the shared areas"
                )
    single_pos = frozenset(int(pos[c]) for c in single_codes)
    rules = Rules(groups, single_pos, pockets=True)

    # 1. candidates
    order = sorted((i for i in range(p.n) if eligible[i]), key=lambda i: (-p.value[i], i))
    if p.near is not None:  # seeds the nearness rule could keep: within reach of a taken centre
        radius = math.sqrt(hi * geom_area.sum() / max(pop_arr.sum(), 1.0) / math.pi)  # of a typical pick
        cx, cy = cent.x.to_numpy(), cent.y.to_numpy()
        close = [min(math.dist((cx[i], cy[i]), t) for t in taken_xy) <= p.near + radius for i in range(p.n)]
        order = [i for i in order if close[i]]
    n_seeds = min(len(order), max(24, 10 * n))
    cores = [frozenset([i]) for i in order[:n_seeds]]
    cores += [g for g in groups] + [frozenset([i]) for i in sorted(single_pos)]
    found = candidate_pool(p, cores, rng, blocked=out_pos)
    if n > 1:
        found.update(drafts(p, order[: min(len(order), 12)], n, rng, out_pos))
    pool = sorted((make_candidate(p, m) for m in found), key=lambda c: c.key)
    clean = [c for c in pool if admissible(p, c) and not p.strands(c.members)]

    # 2. packing: n picks if possible, else as many as possible
    notes: list[str] = []
    packed, finished = pack(p, clean, n, rules)
    if not packed:
        raise PatchingError(
            f"no selection of up to {n} picks holds the locked-in areas {', '.join(all_locked[:8])} "
            f"within {lo:,.0f}-{hi:,.0f} people{rule_text(p, spread, min_distance_m)} while leaving the rest "
            "partitionable; remove some lock-ins, raise n or widen the band"
        )
    if max(packed) < n:
        # Too few picks fit together: add the in-band cells of a balanced partition. Any set of
        # partition cells leaves whole in-band cells behind, so it never strands a pocket.
        raw, cells = partition_cells(p, graph, need_arr, cent, target_population, band, seed, out_pos)
        found.update(cells)
        pool = sorted((make_candidate(p, m) for m in found), key=lambda c: c.key)
        clean = [c for c in pool if admissible(p, c) and not p.strands(c.members)]
        start = sorted(raw, key=lambda m: (-sum(p.value[i] for i in m), sorted(m)))[:n]
        retry, retry_finished = pack(p, clean, n, rules, incumbent=start)

        def rank(result: dict[int, list[Candidate]]) -> tuple[int, float]:
            size = max(result) if result else -1
            return (size, sum(c.value for c in result[size]) if result else 0.0)

        if rank(retry) > rank(packed):
            packed, finished = retry, retry_finished
    if not finished:
        notes.append("the selection search hit its node budget; the picks may not be the best of the candidates")
    chosen = list(packed[max(packed)])

    # 3. improve the picks jointly
    if chosen:
        chosen = improve_jointly(p, chosen, rules, out_pos, rng)
        for _ in range(3):  # annealing restarts, each from the best so far
            annealed = anneal(p, chosen, rules, out_pos, rng)
            if sum(c.value for c in annealed) > sum(c.value for c in chosen) + EPS:
                chosen = improve_jointly(p, annealed, rules, out_pos, rng)
    # 4. the rest must still cut into in-band patches: else swap a pick
    if chosen:
        points = areas.geometry.representative_point()  # the points stage 6 cuts with
        xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
        check = RestCheck(p, graph, need_arr, xy, geom_area, target_population, band, seed)
        chosen = swap_for_rest(p, chosen, clean, rules, check)
    if len(chosen) < n:
        notes.insert(0, shortfall(p, pool, clean, n, len(chosen), spread, min_distance_m, rules))

    chosen.sort(key=lambda c: c.key)
    check_selection(p, chosen, rules, out_pos, areas.index)
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


__all__ = ["Pick", "Selection", "select_patches"]
