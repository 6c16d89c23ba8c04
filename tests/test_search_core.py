"""The compiled search core (``lacgeo.patches._search``) on made-up graphs.

The core is called directly here, without the Python wrapper, so its own promises are
tested: k contiguous, non-empty patches covering every area; the same answer for the
same seed; more search rounds never worse; clear errors on impossible requests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lacgeo.patches import _arrays, _search


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
def test_partition_invariants_on_random_grids(nx, ny, seed, k_share, n_starts):
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(nx, ny)
    n = len(xy)
    k = max(2, min(n, round(k_share * n)))
    pop = rng.integers(0, 3_000, size=n).astype(float)
    feats = features(xy, rng)
    indptr, indices = _arrays.csr(edges, n)
    lo, hi = pop.sum() / k * 0.8, pop.sum() / k * 1.2

    labels, pen, cost = _search.partition(indptr, indices, pop, feats, k, lo, hi, n_starts, seed)

    assert labels.shape == (n,)
    assert sorted(np.unique(labels)) == list(range(k)), "k non-empty patches"
    _, first = np.unique(labels, return_index=True)
    assert list(labels[np.sort(first)]) == list(range(k)), "numbered in order of each patch's first area"
    assert patches_are_contiguous(labels, edges)
    patch_pop = np.bincount(labels, weights=pop, minlength=k)
    assert pen == pytest.approx(np.clip(lo - patch_pop, 0, None).sum() + np.clip(patch_pop - hi, 0, None).sum())
    again = _search.partition(indptr, indices, pop, feats, k, lo, hi, n_starts, seed)[0]
    assert np.array_equal(labels, again), "same seed, same patches"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_more_rounds_are_never_worse(seed):
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(15, 12, holes=frozenset({40, 41, 55, 56, 100}))
    n = len(xy)
    pop = rng.integers(800, 2_500, size=n).astype(float)
    feats = features(xy, rng)
    indptr, indices = _arrays.csr(edges, n)
    k = round(pop.sum() / 10_000)
    one = _search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 1, seed)
    many = _search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 6, seed)
    assert (round(many[1], 6), many[2]) <= (round(one[1], 6), one[2])
    assert one[1] == 0 and many[1] == 0, "a plain grid splits into in-band patches"


def test_impossible_requests_are_refused():
    edges, xy = grid_graph(3, 3)
    indptr, indices = _arrays.csr(edges, 9)
    feats = features(xy, np.random.default_rng(0))
    pop = np.full(9, 1_000.0)
    with pytest.raises(ValueError, match="1 < k <= n"):
        _search.partition(indptr, indices, pop, feats, 10, 0, 1e9, 1, 0)
    with pytest.raises(ValueError, match="1 < k <= n"):
        _search.partition(indptr, indices, pop, feats, 1, 0, 1e9, 1, 0)
    with pytest.raises(ValueError, match=r"feats must be a C-contiguous float64 array of shape \(9, 3\)"):
        _search.partition(indptr, indices, pop, feats[:, :2].copy(), 2, 0, 1e9, 1, 0)
    with pytest.raises(ValueError, match=r"search_feats must be a C-contiguous float64 array of shape \(9, 3\)"):
        _search.partition(indptr, indices, pop, feats, 2, 0, 1e9, 1, 0, search_feats=feats[:5].copy())
    with pytest.raises(ValueError, match=r"indices has 3 entries, indptr needs 24"):
        _search.partition(indptr, indices[:3].copy(), pop, feats, 2, 0, 1e9, 1, 0)


@pytest.mark.parametrize("weighted", [False, True])
def test_reported_cost_is_the_weighted_spread_of_the_patches(weighted):
    """The cost the search minimises: need spread weighted by population plus position
    spread weighted by ``area_weight`` (population when not given), summed over patches."""
    rng = np.random.default_rng(11)
    edges, xy = grid_graph(9, 8)
    n = len(xy)
    pop = rng.integers(500, 2_500, size=n).astype(float)
    feats = features(xy, rng)
    aw = rng.uniform(100, 5_000, size=n) if weighted else None
    indptr, indices = _arrays.csr(edges, n)
    k = round(pop.sum() / 10_000)
    labels, _, cost = _search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 3, 5, area_weight=aw)
    w_pos = pop if aw is None else aw
    expected = 0.0
    for p in range(k):
        m = labels == p
        need_mean = np.average(feats[m, 0], weights=pop[m])
        pos_mean = np.average(feats[m, 1:], axis=0, weights=w_pos[m])
        expected += (pop[m] * (feats[m, 0] - need_mean) ** 2).sum()
        expected += (w_pos[m] * ((feats[m, 1:] - pos_mean) ** 2).sum(axis=1)).sum()
    assert cost == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match=r"area_weight must be a C-contiguous float64 array of shape \(72,\)"):
        _search.partition(indptr, indices, pop, feats, k, 8_000, 12_000, 1, 5, area_weight=np.ones(n - 1))


def test_components_match_scipy():
    edges, _ = grid_graph(6, 6, holes=frozenset({2, 8, 14, 20, 26, 32}))  # a wall splits the grid
    n = 30
    indptr, indices = _arrays.csr(edges, n)
    ours = _arrays.components(indptr, indices)
    adj = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    count, theirs = connected_components(adj, directed=False)
    assert count == 2 and ours.max() == 1
    assert all(len(np.unique(theirs[ours == c])) == 1 for c in range(2))


def _grid_search(seed: int, n_starts: int = 4, search_seed: int | None = None):
    """Arguments of a search on a made-up 14 x 11 grid (populations drawn with ``seed``)."""
    rng = np.random.default_rng(seed)
    edges, xy = grid_graph(14, 11)
    n = len(xy)
    pop = rng.integers(800, 2_500, size=n).astype(float)
    indptr, indices = _arrays.csr(edges, n)
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


def test_read_only_arrays_are_read_not_refused():
    """The search only reads its inputs, so read-only arrays (pandas copy-on-write hands
    them out) give the same answer as writable copies."""
    job = _grid_search(4)
    expected = _search.partition(*job)
    frozen = [np.array(a) if isinstance(a, np.ndarray) else a for a in job]
    for a in frozen:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    got = _search.partition(*frozen)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1:] == expected[1:]
    with pytest.raises(ValueError, match=r"pop must be a C-contiguous float64 array of shape \(154,\)"):
        _search.partition(job[0], job[1], job[2].astype(np.float32), *job[3:])


@pytest.mark.parametrize("n_starts", [2, 5])
def test_the_answer_does_not_depend_on_the_number_of_threads(n_starts):
    """The two search chains run on two threads or one after the other: same partition."""
    job = _grid_search(7, n_starts, search_seed=3)
    serial = _search.partition(*job, n_threads=1)
    threaded = _search.partition(*job, n_threads=2)
    np.testing.assert_array_equal(serial[0], threaded[0])
    assert serial[1:] == threaded[1:]


def test_csr_and_subgraph_match_scipy():
    rng = np.random.default_rng(1)
    edges, _ = grid_graph(7, 5, holes=frozenset({3, 17}))
    edges = edges[rng.permutation(len(edges))]  # order of the edge list must not matter
    n = 33
    indptr, indices = _arrays.csr(edges, n)
    adj = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    ref = (adj + adj.T).tocsr()
    ref.sort_indices()
    np.testing.assert_array_equal(indptr, ref.indptr)
    np.testing.assert_array_equal(indices, ref.indices)

    members = np.array([30, 2, 9, 10, 11, 16, 4], dtype=np.int64)
    sub_ptr, sub_idx = _arrays.subgraph(indptr, indices, members)
    sub_ref = ref[members][:, members].tocsr()
    for t in range(len(members)):
        ours = sorted(sub_idx[sub_ptr[t] : sub_ptr[t + 1]])
        assert ours == sorted(sub_ref.indices[sub_ref.indptr[t] : sub_ref.indptr[t + 1]])

    with pytest.raises(ValueError, match=r"edge \(0, 40\) refers to an area outside 0\.\.32"):
        _arrays.csr(np.array([[0, 40]], dtype=np.int64), n)


def test_concurrent_callers_share_the_worker_safely():
    """Python threads searching at once (the GIL is released) get the serial answers:
    one takes the worker thread, the others run both chains themselves."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [_grid_search(seed) for seed in range(12)]
    serial = [_search.partition(*job, n_threads=1)[0] for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            threaded = list(pool.map(lambda job: _search.partition(*job)[0], jobs))
            for one, other in zip(serial, threaded, strict=True):
                np.testing.assert_array_equal(one, other)


def _search_in_child(conn):
    conn.send(_search.partition(*_grid_search(5))[0])
    conn.close()


def test_a_forked_child_gets_its_own_worker():
    """After a fork the worker thread exists only in the parent: the child must start
    its own (or search alone), not wait for the parent's."""
    import multiprocessing as mp
    import warnings

    expected = _search.partition(*_grid_search(5))[0]  # the parent's worker is running
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+ warns on fork with threads
        proc = ctx.Process(target=_search_in_child, args=(child,))
        proc.start()
    child.close()
    assert parent.poll(60), "the forked child's search did not finish within 60 s"
    np.testing.assert_array_equal(parent.recv(), expected)
    proc.join(10)
    assert proc.exitcode == 0


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("pop", np.nan, "population"),
        ("pop", -1.0, "population"),
        ("pop", np.inf, "population"),
        ("need", -np.inf, "need"),
        ("xy", np.nan, "xy"),
        ("area", np.nan, "area"),
        ("area", -2.0, "area"),
        ("need", -5.0, ""),  # need may be negative (it is standardised)
    ],
)
def test_invalid_names_the_first_unusable_input(column, value, expected):
    arrays = {"pop": np.full(6, 1_500.0), "need": np.zeros(6), "xy": np.zeros((6, 2)), "area": np.ones(6)}
    arrays[column].flat[3] = value
    assert _arrays.invalid(arrays["pop"], arrays["need"], arrays["xy"], arrays["area"]) == expected
    assert _arrays.invalid(arrays["pop"], arrays["need"], arrays["xy"], np.zeros(6)) == (expected or "area")
    if column != "area":
        assert _arrays.invalid(arrays["pop"], arrays["need"], arrays["xy"]) == expected
