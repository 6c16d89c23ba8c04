"""Exact splits of a small piece: find contiguous in-band patches, or prove there are none.

The patch search is a heuristic: when it ends with a patch outside the band, that alone
does not show the band is impossible. For a small piece (a pocket left between phase-1
picks, a detached part), every split can be checked: the patch holding the piece's
lowest-numbered area is one of its connected sets of areas inside the band; each set
leaves components that must themselves split into in-band patches, and so on down.
Connected sets are enumerated once each (include / exclude branching on the frontier)
and only up to the band's ceiling, so a piece of a few dozen LSOAs takes milliseconds.

The answer is a split (usable as the patches), a proof that none exists, or "undecided"
when the work budget runs out; the budget counts sets, not seconds, so the answer is the
same on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-9
BUDGET = 250_000
"""Connected sets an exact check may enumerate before it gives up (undecided)."""


class _OutOfBudget(Exception):
    pass


@dataclass(frozen=True)
class ExactAnswer:
    """``parts`` (each a tuple of area positions) when a split exists; ``impossible`` when
    none exists for any ``k`` in ``ks``; neither when the budget ran out. ``spent`` counts
    the connected sets tried."""

    parts: tuple[tuple[int, ...], ...] | None
    impossible: bool
    ks: tuple[int, ...]
    spent: int


def _bits(mask: int):
    """The positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Splitter:
    """Sets of areas are bit masks (Python ints): union, difference and neighbourhoods are one
    operation each, which keeps the enumeration fast enough in plain Python."""

    def __init__(self, nbrs: Sequence[Sequence[int]], pop: Sequence[float], lo: float, hi: float, budget: int):
        self.nbr = [sum(1 << u for u in row) for row in nbrs]
        self.pop, self.lo, self.hi = list(pop), lo, hi
        self.left = budget
        self.memo: dict[tuple[int, int], tuple[int, ...] | None] = {}
        self.sums: dict[int, float] = {}

    def people(self, nodes: int) -> float:
        hit = self.sums.get(nodes)
        if hit is None:
            hit = self.sums[nodes] = math.fsum(self.pop[i] for i in _bits(nodes))
        return hit

    def components(self, nodes: int) -> list[int]:
        """The connected pieces of ``nodes`` (flood fill from each piece's lowest area)."""
        comps = []
        nbr = self.nbr
        while nodes:
            comp = new = nodes & -nodes
            while new:
                grown = 0
                for i in _bits(new):
                    grown |= nbr[i]
                new = grown & nodes & ~comp
                comp |= new
            nodes &= ~comp
            comps.append(comp)
        return comps

    def counts(self, people: float) -> range:
        """The numbers of in-band patches ``people`` could make."""
        return range(max(1, math.ceil(people / self.hi - EPS)), math.floor(people / self.lo + EPS) + 1)

    def connected_sets(self, v: int, nodes: int):
        """Every connected set of ``nodes`` containing ``v`` with at most ``hi`` people, once each."""
        pop, hi, nbr = self.pop, self.hi + EPS, self.nbr

        def grow(members: int, people: float, frontier: list[int], banned: int):
            self.left -= 1
            if self.left < 0:
                raise _OutOfBudget
            yield members, people
            for idx, u in enumerate(frontier):
                if people + pop[u] > hi:
                    continue
                new = members | (1 << u)
                skip = banned
                for w in frontier[:idx]:
                    skip |= 1 << w
                rest = frontier[idx + 1 :]
                listed = skip | new
                for w in rest:
                    listed |= 1 << w
                extra = list(_bits(nbr[u] & nodes & ~listed))
                yield from grow(new, people + pop[u], rest + extra, skip)

        yield from grow(1 << v, pop[v], list(_bits(nbr[v] & nodes)), 0)

    def split(self, nodes: int, k: int) -> tuple[int, ...] | None:
        """``k`` connected in-band patches covering the connected ``nodes``, or None."""
        key = (nodes, k)
        if key in self.memo:
            return self.memo[key]
        answer = None
        total = self.people(nodes)
        if k * self.lo - EPS <= total <= k * self.hi + EPS:
            answer = (nodes,) if k == 1 else self._split_off(nodes, k)
        self.memo[key] = answer
        return answer

    def _split_off(self, nodes: int, k: int) -> tuple[int, ...] | None:
        # the patch holding the area with the fewest neighbours here: fewest connected sets to try
        first_area = min(_bits(nodes), key=lambda i: ((self.nbr[i] & nodes).bit_count(), i))
        total = self.people(nodes)
        rest_lo, rest_hi = (k - 1) * self.lo - EPS, (k - 1) * self.hi + EPS
        for first, people in self.connected_sets(first_area, nodes):
            if not self.lo - EPS <= people <= self.hi + EPS or not rest_lo <= total - people <= rest_hi:
                continue
            comps = self.components(nodes & ~first)
            if any(not self.counts(self.people(c)) for c in comps):
                continue
            parts = self._cover(comps, k - 1)
            if parts is not None:
                return (first, *parts)
        return None

    def _cover(self, comps: list[int], k: int) -> tuple[int, ...] | None:
        """Split every component, ``k`` patches in all (each component its own count)."""
        if not comps:
            return () if k == 0 else None
        head, rest = comps[0], comps[1:]
        for kc in self.counts(self.people(head)):
            if kc > k:
                break
            parts = self.split(head, kc)
            if parts is None:
                continue
            more = self._cover(rest, k - kc)
            if more is not None:
                return parts + more
        return None


def exact_split(
    nbrs: Sequence[Sequence[int]],
    pop: Sequence[float],
    ks: Sequence[int],
    lo: float,
    hi: float,
    *,
    budget: int = BUDGET,
) -> ExactAnswer:
    """Contiguous patches of ``lo``-``hi`` people covering a connected piece, trying each
    patch count of ``ks`` in turn, or a proof that there are none.

    Parameters
    ----------
    nbrs
        Each area's neighbours (positions 0..n-1, both directions); the piece is connected.
    pop
        People per area.
    ks
        Patch counts to try, in order of preference.

    Examples
    --------
    Five areas in a row; two patches of 8-12 need a cut where each side holds 8-12:

    >>> row = [[1], [0, 2], [1, 3], [2, 4], [3]]
    >>> exact_split(row, [5, 5, 2, 5, 5], [2], 8, 12).parts
    ((0, 1), (2, 3, 4))

    A star of four areas of 5 people: the patch with the centre takes one arm and strands
    the other two, so no split exists, and that is proved:

    >>> star = [[1, 2, 3], [0], [0], [0]]
    >>> answer = exact_split(star, [5, 5, 5, 5], [2], 8, 12)
    >>> answer.parts is None, answer.impossible
    (True, True)
    """
    splitter = _Splitter(nbrs, pop, lo, hi, budget)
    nodes = (1 << len(pop)) - 1
    try:
        for k in ks:
            parts = splitter.split(nodes, k)
            if parts is not None:
                return ExactAnswer(tuple(tuple(_bits(p)) for p in parts), False, tuple(ks), budget - splitter.left)
    except (_OutOfBudget, RecursionError):
        return ExactAnswer(None, False, tuple(ks), budget)
    return ExactAnswer(None, True, tuple(ks), budget - splitter.left)


__all__ = ["BUDGET", "ExactAnswer", "exact_split"]
