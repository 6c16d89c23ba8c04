"""The search core (``lacgeo.patches._search``) on made-up graphs, compiled and interpreted.

The core is called directly here, without the Python wrapper, so its own promises are
tested: k contiguous, non-empty patches covering every area; the same answer for the
same seed; more search rounds never worse; clear errors on impossible requests. Every
test runs twice: on the compiled module and on the same source run by Python.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lacgeo.errors import PatchingError
from lacgeo.patches import partition_areas
from lacgeo.patches.graph import AreaGraph, symmetric_adjacency
from lacgeo.patches.partition import search_module


@pytest.fixture(scope="module", params=["compiled", "interpreted"])
def search(request):
    """The search module: as built (compiled where a compiler was found), then as Python."""
    return search_module(interpreted=request.param == "interpreted")


def grid_graph(nx: int, ny: int, holes: frozenset[int] = frozenset()):
    """Rook-adjacent cells of an nx x ny grid without ``holes``: (edges, xy) in local positions."""
    cells = [c for c in range(nx * ny) if c not in holes]
    pos = {c: i for i, c in enumerate(cells)}
    edges = []
    for c in cells:
        x, y = c % nx, c // nx
        for d in ([c + 1] if x + 1 < nx else []) + ([c + nx] if y + 1 < ny else []):
            if d in pos:
                edges.append((pos[c], pos[d]))
    xy = np.array([[c % nx, c // nx] for c in cells], dtype=float)
    return np.array(edges, dtype=np.int64).reshape(-1, 2), xy


def csr(edges: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The int64 CSR neighbour lists the search reads (scipy builds them, as partition_areas does)."""
    adjacency = symmetric_adjacency(edges, n)
    return adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64)


def patches_are_contiguous(labels: np.ndarray, edges: np.ndarray) -> bool:
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    inner = edges[same]
    n = len(labels)
    adj = coo_matrix((np.ones(len(inner)), (inner[:, 0], inner[:, 1])), shape=(n, n))
    _, piece = connected_components(adj, directed=False)
    return all(len(np.unique(piece[labels == p])) == 1 for p in np.unique(labels))


def features(xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(np.column_stack([rng.normal(size=len(xy)), xy - xy.mean(axis=0)]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nx=st.integers(2, 12),
    ny=st.integers(2, 12),
    seed=st.integers(0, 2**32),
    k_share=st.floats(0.05, 1.0),
    n_starts=st.integers(1, 5),
)
def test_partition_invariants_on_random_grids(search, nx, ny, seed, k_share, n_starts):
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(nx, ny)
    n = len(xy)
    k = max(2, min(n, round(k_share * n)))
    pop = rng.integers(0, 3_000, size=n).astype(float)
    feats = features(xy, rng)
    indptr, indices = csr(edges, n)
    lo, hi = pop.sum() / k * 0.8, pop.sum() / k * 1.2

    labels, pen, cost = search.partition(indptr, indices, pop, feats, k, lo, hi, n_starts, seed)

    assert labels.shape == (n,)
    assert sorted(np.unique(labels)) == list(range(k)), "k non-empty patches"
    _, first = np.unique(labels, return_index=True)
    assert list(labels[np.sort(first)]) == list(range(k)), "numbered in order of each patch's first area"
    assert patches_are_contiguous(labels, edges)
    patch_pop = np.bincount(labels, weights=pop, minlength=k)
    assert pen == pytest.approx(np.clip(lo - patch_pop, 0, None).sum() + np.clip(patch_pop - hi, 0, None).sum())
    again = search.partition(indptr, indices, pop, feats, k, lo, hi, n_starts, seed)[0]
    assert np.array_equal(labels, again), "same seed, same patches"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_more_rounds_are_never_worse(search, seed):
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(15, 12, holes=frozenset({40, 41, 55, 56, 100}))
    n = len(xy)
    pop = rng.integers(800, 2_500, size=n).astype(float)
    feats = features(xy, rng)
    indptr, indices = csr(edges, n)
    k = round(pop.sum() / 10_000)
    one = search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 1, seed)
    many = search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 6, seed)
    assert (round(many[1], 6), many[2]) <= (round(one[1], 6), one[2])
    assert one[1] == 0 and many[1] == 0, "a plain grid splits into in-band patches"


def test_impossible_requests_are_refused(search):
    edges, xy = grid_graph(3, 3)
    indptr, indices = csr(edges, 9)
    feats = features(xy, np.random.default_rng(0))
    pop = np.full(9, 1_000.0)
    with pytest.raises(ValueError, match="1 < k <= n"):
        search.partition(indptr, indices, pop, feats, 10, 0, 1e9, 1, 0)
    with pytest.raises(ValueError, match="1 < k <= n"):
        search.partition(indptr, indices, pop, feats, 1, 0, 1e9, 1, 0)
    with pytest.raises(ValueError, match=r"feats must be a float64 array of shape \(9, 3\), found float64 \(9, 2\)"):
        search.partition(indptr, indices, pop, feats[:, :2].copy(), 2, 0, 1e9, 1, 0)
    with pytest.raises(
        ValueError, match=r"search_feats must be a float64 array of shape \(9, 3\), found float64 \(5, 3\)"
    ):
        search.partition(indptr, indices, pop, feats, 2, 0, 1e9, 1, 0, search_feats=feats[:5].copy())
    with pytest.raises(ValueError, match=r"indices must be an int64 array of at least 24 entries"):
        search.partition(indptr, indices[:3].copy(), pop, feats, 2, 0, 1e9, 1, 0)


@pytest.mark.parametrize("weighted", [False, True])
def test_reported_cost_is_the_weighted_spread_of_the_patches(search, weighted):
    """The cost the search minimises: need spread weighted by population plus position
    spread weighted by ``area_weight`` (population when not given), summed over patches."""
    rng = np.random.default_rng(11)
    edges, xy = grid_graph(9, 8)
    n = len(xy)
    pop = rng.integers(500, 2_500, size=n).astype(float)
    feats = features(xy, rng)
    aw = rng.uniform(100, 5_000, size=n) if weighted else None
    indptr, indices = csr(edges, n)
    k = round(pop.sum() / 10_000)
    labels, _, cost = search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 3, 5, area_weight=aw)
    w_pos = pop if aw is None else aw
    expected = 0.0
    for p in range(k):
        m = labels == p
        need_mean = np.average(feats[m, 0], weights=pop[m])
        pos_mean = np.average(feats[m, 1:], axis=0, weights=w_pos[m])
        expected += (pop[m] * (feats[m, 0] - need_mean) ** 2).sum()
        expected += (w_pos[m] * ((feats[m, 1:] - pos_mean) ** 2).sum(axis=1)).sum()
    assert cost == pytest.approx(expected, rel=1e-9)
    with pytest.raises(
        ValueError, match=r"area_weight must be a float64 array of shape \(72,\), found float64 \(71,\)"
    ):
        search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 1, 5, area_weight=np.ones(n - 1))


def _grid_search(seed: int, n_starts: int = 4, search_seed: int | None = None):
    """Arguments of a search on a made-up 14 x 11 grid (populations drawn with ``seed``)."""
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(14, 11)
    n = len(xy)
    pop = rng.integers(800, 2_500, size=n).astype(float)
    indptr, indices = csr(edges, n)
    k = round(pop.sum() / 10_000)
    return (
        indptr,
        indices,
        pop,
        features(xy, rng),
        k,
        8_000,
        12_000,
        n_starts,
        seed if search_seed is None else search_seed,
    )


def test_read_only_arrays_are_read_not_refused(search):
    """The search only reads its inputs, so read-only arrays (pandas copy-on-write hands
    them out) give the same answer as writable copies."""
    job = _grid_search(4)
    expected = search.partition(*job)
    frozen = [np.array(a) if isinstance(a, np.ndarray) else a for a in job]
    for a in frozen:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    got = search.partition(*frozen)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1:] == expected[1:]
    with pytest.raises(ValueError, match=r"pop must be a float64 array of shape \(154,\), found float32"):
        search.partition(job[0], job[1], job[2].astype(np.float32), *job[3:])


def test_concurrent_callers_get_the_serial_answers(search):
    """Python threads searching at once share no state: each gets the answer it gets alone."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [_grid_search(seed) for seed in range(12)]
    serial = [search.partition(*job)[0] for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            threaded = list(pool.map(lambda job: search.partition(*job)[0], jobs))
            for one, other in zip(serial, threaded, strict=True):
                np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("pop", np.nan, "population must be a finite number of people, 0 or more, in every area"),
        ("pop", -1.0, "population must be a finite number"),
        ("pop", np.inf, "population must be a finite number"),
        ("need", -np.inf, "need must be a finite number for every area"),
        ("xy", np.nan, "coordinates must be finite numbers for every area"),
        ("area", np.nan, "area must give a finite land area, 0 or more, for every area"),
        ("area", -2.0, "area must give a finite land area"),
    ],
)
def test_unusable_inputs_are_named(column, value, message):
    edges, xy = grid_graph(3, 2)
    graph = AreaGraph(pd.Index([f"A{i}" for i in range(6)]), edges, frozenset())
    arrays = {"pop": np.full(6, 1_500.0), "need": np.zeros(6), "xy": xy.copy(), "area": np.ones(6)}
    partition_areas(graph, arrays["pop"], arrays["need"] - 5.0, arrays["xy"], area=arrays["area"])  # need may be < 0
    arrays[column].flat[3] = value
    with pytest.raises(PatchingError, match=message):
        partition_areas(graph, arrays["pop"], arrays["need"], arrays["xy"], area=arrays["area"])
    with pytest.raises(
        PatchingError, match=r"area must give a finite land area, 0 or more, for every area \(not all 0\)"
    ):
        partition_areas(graph, np.full(6, 1_500.0), np.zeros(6), xy, area=np.zeros(6))


def test_the_documented_example_holds(search):
    """The example in ``partition``'s docstring (pytest cannot collect it from the compiled module)."""
    test = doctest.DocTestParser().get_doctest(search.partition.__doc__, {"partition": search.partition}, "x", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False) == (0, len(test.examples)) and test.examples


@pytest.mark.parametrize(("la", "vintage"), [("Wiltshire", "2021"), ("Solihull", "2011")])
def test_interpreted_search_draws_the_compiled_patches_on_a_real_la(la, vintage, monkeypatch):
    """Without a compiler, lacgeo runs the same source as Python: on a real LA's shipped
    data, at the default settings, it must draw exactly the patches the compiled search draws."""
    if not search_module(interpreted=False).__file__.endswith((".so", ".pyd")):
        pytest.skip("lacgeo was installed without its compiled search (no C compiler)")
    from lacgeo import load
    from lacgeo.patches import build_patches

    code, _ = load.resolve_la(la)
    areas = load.read_areas(code, vintage=vintage)
    need = load.read_deprivation(areas.index, vintage=vintage)["imd_score"]
    need = (need - need.mean()) / need.std()
    compiled = build_patches(areas, need)
    monkeypatch.setenv("LACGEO_INTERPRETED", "1")
    assert search_module().__file__.endswith("_search.py")
    interpreted = build_patches(areas, need)
    pd.testing.assert_series_equal(interpreted.patch_id, compiled.patch_id)
    assert interpreted.flags == compiled.flags
