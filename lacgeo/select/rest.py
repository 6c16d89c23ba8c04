"""Stage 5d: the rest of the area must still cut into in-band patches.

The pocket rule (:meth:`Problem.pockets`) keeps picks from stranding small pieces, but a
large remainder can still be impossible, or too hard for the patch search, to cut into
in-band patches once the picks are fixed. So the rest is cut here as stage 6 will cut it
(:func:`lacgeo.patches.partition_areas` with the default settings). If that leaves
patches outside the band, pick sets that swap one pick for another candidate are tried,
best captured need first, and the best whose rest cuts cleanly is kept. Only the search
is used for the check (milliseconds), so a bounded number of swaps costs little.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..patches.graph import AreaGraph
from ..patches.partition import partition_areas
from .problem import Candidate, Problem, Rules, selection_ok

MAX_TRIES = 60
"""Swapped pick sets whose rest is cut before giving up (keeping the searched picks)."""


class RestCheck:
    """Cuts the areas outside a set of picks into patches and counts the ones outside the band."""

    def __init__(
        self,
        p: Problem,
        graph: AreaGraph,
        need: np.ndarray,
        xy: np.ndarray,
        land: np.ndarray,
        target: float,
        band: float,
        seed: int,
    ):
        self.p, self.graph, self.need, self.xy, self.land = p, graph, need, xy, land
        self.target, self.band, self.seed = int(round(target)), band, seed
        self.pop = np.asarray(p.pop, dtype=float)

    def flags(self, picks: Sequence[Candidate]) -> int:
        """Patches of the rest outside the band, other than single LSOAs above it (no pick helps those)."""
        rest = np.ones(self.p.n, dtype=bool)
        rest[[i for c in picks for i in c.members]] = False
        if not rest.any():
            return 0
        _, flags = partition_areas(
            self.graph.subgraph(rest),
            self.pop[rest],
            self.need[rest],
            self.xy[rest],
            area=self.land[rest],
            target=self.target,
            band=self.band,
            seed=self.seed,
            exact=False,
        )
        return sum(not reason.startswith("a single LSOA") for reason in flags.values())


def swap_for_rest(
    p: Problem, chosen: list[Candidate], pool: Sequence[Candidate], rules: Rules, check: RestCheck
) -> list[Candidate]:
    """``chosen``, or, if its rest cuts badly, the best set with one pick swapped for a pool
    candidate whose rest cuts with fewer patches outside the band (at most ``MAX_TRIES`` cut)."""
    bad = check.flags(chosen)
    if not bad:
        return chosen
    options: dict[tuple[frozenset[int], ...], list[Candidate]] = {}
    for k in range(len(chosen)):
        others = chosen[:k] + chosen[k + 1 :]
        for c in pool:
            trial = sorted([*others, c], key=lambda x: x.key)
            options.setdefault(tuple(x.members for x in trial), trial)
    ranked = sorted(options.values(), key=lambda t: (-sum(c.value for c in t), [c.key for c in t]))
    best, tries = chosen, 0
    for trial in ranked:
        if tries >= MAX_TRIES:
            break
        if not selection_ok(p, trial, rules):
            continue
        tries += 1
        now = check.flags(trial)
        if now < bad:
            best, bad = trial, now
            if not bad:
                break
    return best
