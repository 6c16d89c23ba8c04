"""The exact split (lacgeo.patches.exact) against brute force on small made-up graphs: it finds
a split exactly when one exists, every split it returns is valid, and a proof means none exists."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lacgeo.patches.exact import exact_split
from lacgeo.patches.graph import AreaGraph
from lacgeo.patches.partition import Band, partition_areas
from lacgeo.select.problem import Problem


def _connected(members: list[int], nbrs: list[list[int]]) -> bool:
    inside, seen, stack = set(members), {members[0]}, [members[0]]
    while stack:
        for u in nbrs[stack.pop()]:
            if u in inside and u not in seen:
                seen.add(u)
                stack.append(u)
    return seen == inside


def _brute_force_exists(nbrs, pop, k, lo, hi) -> bool:
    n = len(pop)
    for labels in itertools.product(range(k), repeat=n):
        if labels[0] != 0 or set(labels) != set(range(k)):
            continue
        parts = [[i for i in range(n) if labels[i] == p] for p in range(k)]
        if all(lo <= sum(pop[i] for i in part) <= hi and _connected(part, nbrs) for part in parts):
            return True
    return False


@st.composite
def small_pieces(draw):
    """A connected graph of 3-8 areas: a random spanning tree plus random extra edges."""
    n = draw(st.integers(3, 8))
    edges = {(draw(st.integers(0, i - 1)), i) for i in range(1, n)}
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n))
    edges |= {(min(a, b), max(a, b)) for a, b in extra if a != b}
    nbrs = [sorted({b for a, b in edges if a == i} | {a for a, b in edges if b == i}) for i in range(n)]
    pop = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    return nbrs, pop


@settings(max_examples=300, deadline=None)
@given(piece=small_pieces(), lo=st.integers(3, 10), width=st.integers(0, 6), k=st.integers(2, 3))
def test_exact_split_agrees_with_brute_force(piece, lo, width, k):
    nbrs, pop = piece
    hi = lo + width
    answer = exact_split(nbrs, pop, [k], lo, hi)
    exists = _brute_force_exists(nbrs, pop, k, lo, hi)
    assert answer.parts is not None or answer.impossible, "small pieces are always decided"
    assert (answer.parts is not None) == exists
    if answer.parts is not None:
        assert len(answer.parts) == k and sorted(i for part in answer.parts for i in part) == list(range(len(pop)))
        for part in answer.parts:
            assert lo <= sum(pop[i] for i in part) <= hi and _connected(list(part), nbrs)


def test_an_exhausted_budget_is_undecided_not_a_proof():
    grid = [
        [j for j in (i - 1, i + 1, i - 6, i + 6) if 0 <= j < 36 and (abs(j - i) == 6 or j // 6 == i // 6)]
        for i in range(36)
    ]
    answer = exact_split(grid, [1] * 36, [4], 9, 9, budget=3)  # 4 patches of 9 exist; 3 sets cannot show one
    assert answer.parts is None and not answer.impossible
    assert exact_split(grid, [1] * 36, [4], 9, 9).parts is not None
    assert exact_split(grid, [1] * 36, [5], 7, 7, budget=3).impossible  # 36 is not 5 x 7: no search needed


# --------------------------------------------------------------------------- where lacgeo uses it

# A made-up star: a centre of 5,000 people with three arms of 5,000. 20,000 people could make
# two patches of 8,000-12,000 by count, but the centre's patch takes one arm and strands two.
STAR = [[1, 2, 3], [0], [0], [0]]
ROW = [[1], [0, 2], [1, 3], [2]]


def test_partition_flags_a_proved_impossible_piece_as_proved():
    graph = AreaGraph(pd.Index(["c", "n", "e", "s"]), np.array([[0, 1], [0, 2], [0, 3]]), frozenset())
    xy = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, -1.0]])
    labels, flags = partition_areas(graph, np.full(4, 5_000.0), np.zeros(4), xy, target=10_000, band=0.2)
    assert flags, "no in-band split exists, so some patch is flagged"
    for reason in flags.values():
        assert "no split of it into 2 contiguous patches of 8,000-12,000 exists (every split was checked)" in reason
        assert "was found" not in reason


def test_partition_of_a_row_uses_the_split_the_exact_check_finds():
    graph = AreaGraph(pd.Index(["a", "b", "c", "d"]), np.array([[0, 1], [1, 2], [2, 3]]), frozenset())
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    labels, flags = partition_areas(graph, np.full(4, 5_000.0), np.zeros(4), xy, target=10_000, band=0.2)
    assert flags == {} and labels.tolist() == [0, 0, 1, 1]


def _problem(pocket: list[list[int]]) -> Problem:
    """Four picked-looking areas in a row (0-3, 2,500 people each), the last touching a
    pocket of four areas of 5,000 (4-7) wired as ``pocket`` (positions 0-3 there)."""
    nbrs = [[1], [0, 2], [1, 3], [2, 4]] + [[u + 4 for u in row] for row in pocket]
    nbrs[4] = [*nbrs[4], 3]
    n = len(nbrs)
    pop = [2_500.0] * 4 + [5_000.0] * 4
    zero = [0.0] * n
    return Problem(nbrs, pop, zero, Band(10_000, 0.2), [True] * n, None, [1.0] * n, zero, zero, None, frozenset())


def test_selection_treats_an_untileable_pocket_as_stranded():
    taken = {0, 1, 2, 3}
    assert _problem(STAR).pockets(taken) == [[4, 5, 6, 7]]
    assert _problem(ROW).pockets(taken) == []
