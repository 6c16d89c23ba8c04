"""Exact branch-and-bound packing of compatible candidates, and why too few picks fit."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from .problem import EPS, Candidate, Problem, Rules, admissible, compatible, rule_text, selection_ok, union

_MAX_NODES = 20_000  # branch-and-bound node budget (a few hundred nodes are typical for n <= 6)


def _bits(mask: int) -> Iterable[int]:
    """Positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def pack(
    p: Problem,
    pool: list[Candidate],
    n: int,
    rules: Rules,
    fixed: Sequence[Candidate] = (),
    incumbent: Sequence[frozenset[int]] = (),
) -> tuple[dict[int, list[Candidate]], bool]:
    """Exact branch-and-bound for the best ``n`` compatible candidates to add to ``fixed``.

    ``pool`` must be sorted best first. Candidate sets are bitsets over the pool, so
    filtering by compatibility is one AND. The pocket rule is checked at every node: it
    is monotone (a piece stranded by some picks stays stranded whatever is added: any
    pick inside it leaves a remainder that is still too small or in a gap). Returns the
    best valid selection of every size reached, ``{size: picks}``, and whether the search
    finished within its node budget.
    """
    fixed = list(fixed)
    pool = [c for c in pool if admissible(p, c) and all(compatible(p, c, f) for f in fixed)]
    size = len(pool)
    compat = [0] * size
    for a in range(size):
        for b in range(a + 1, size):
            if compatible(p, pool[a], pool[b]):
                compat[a] |= 1 << b
                compat[b] |= 1 << a
    fixed_union = union(fixed)
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
        if selection_ok(p, [*fixed, *(pool[k] for k in start)], rules):
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


def shortfall(
    p: Problem,
    pool: list[Candidate],
    clean: list[Candidate],
    n: int,
    got: int,
    spread: pd.Series | None,
    min_distance_m: float | None,
    rules: Rules,
) -> str:
    head = f"only {got} of the {n} requested picks could be placed: "
    people = sum(p.pop[i] for i in range(p.n) if p.eligible[i])
    if people < n * p.lo:
        return head + f"the areas hold {people:,.0f} people, too few for {n} patches of at least {p.lo:,.0f}"
    if not pool:
        return head + f"no contiguous group of areas holds {p.lo:,.0f}-{p.hi:,.0f} people"
    loose = Rules(rules.groups, rules.singles, pockets=False)
    more = pack(p, pool, got + 1, loose)[0].get(got + 1)
    if more is not None:
        return head + (
            f"{got + 1} picks were possible only by cutting off pockets of the remaining areas that cannot "
            f"form patches of {p.lo:,.0f}-{p.hi:,.0f} people"
        )
    return head + (
        f"no {got + 1} disjoint contiguous groups of {p.lo:,.0f}-{p.hi:,.0f} people"
        f"{rule_text(p, spread, min_distance_m)} were found among {len(clean)} candidates"
    )
