# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Array preparation for the patch builder: input checks, CSR neighbour lists (built
from an edge list, cut into pieces, split into connected components), the search's
feature matrix, and patch renumbering. Compiled, because ``partition_areas`` calls
them on every run: timed cold, as a one-LA run calls it, its dozen numpy calls took
about a third of a small LA's partitioning time. :func:`prepare` runs the steps a call
needs as one compiled call."""

import numpy as np

from libc.math cimport M_PI, isfinite, rint, sqrt
from libc.stdint cimport int64_t


cpdef csr(const int64_t[:, ::1] edges, Py_ssize_t n):
    """CSR neighbour lists of ``n`` areas from undirected ``edges`` (each pair once or
    twice); every area's neighbours sorted."""
    cdef Py_ssize_t m = edges.shape[0], t, i, j, a, b
    cdef int64_t v
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(2 * m, dtype=np.int64)
    fill = np.zeros(n, dtype=np.int64)
    cdef int64_t[::1] ip = indptr, ix = indices, fl = fill
    for t in range(m):
        a, b = edges[t, 0], edges[t, 1]
        if not (0 <= a < n and 0 <= b < n):
            raise ValueError(f"edge ({a}, {b}) refers to an area outside 0..{n - 1}")
        ip[a + 1] += 1
        ip[b + 1] += 1
    for i in range(n):
        ip[i + 1] += ip[i]
    for t in range(m):
        a, b = edges[t, 0], edges[t, 1]
        ix[ip[a] + fl[a]] = b
        fl[a] += 1
        ix[ip[b] + fl[b]] = a
        fl[b] += 1
    for i in range(n):  # insertion sort: degrees are small
        for t in range(ip[i] + 1, ip[i + 1]):
            v = ix[t]
            j = t - 1
            while j >= ip[i] and ix[j] > v:
                ix[j + 1] = ix[j]
                j -= 1
            ix[j + 1] = v
    return indptr, indices


def subgraph(const int64_t[::1] indptr, const int64_t[::1] indices, const int64_t[::1] members):
    """CSR of the areas ``members`` (local positions follow their order), keeping only
    neighbours among them."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, m = members.shape[0], t, e, u, count = 0
    local = np.full(n, -1, dtype=np.int64)
    sub_ptr = np.zeros(m + 1, dtype=np.int64)
    cdef int64_t[::1] loc = local, sp = sub_ptr
    for t in range(m):
        loc[members[t]] = t
    for t in range(m):
        for e in range(indptr[members[t]], indptr[members[t] + 1]):
            if loc[indices[e]] >= 0:
                count += 1
        sp[t + 1] = count
    sub_idx = np.empty(count, dtype=np.int64)
    cdef int64_t[::1] si = sub_idx
    count = 0
    for t in range(m):
        for e in range(indptr[members[t]], indptr[members[t] + 1]):
            u = loc[indices[e]]
            if u >= 0:
                si[count] = u
                count += 1
    return sub_ptr, sub_idx


cpdef components(const int64_t[::1] indptr, const int64_t[::1] indices):
    """Connected component of every area (numbered in order of their first area)."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, i, v, u, e, top, c = 0
    labels = np.full(n, -1, dtype=np.int64)
    stack = np.empty(max(n, 1), dtype=np.int64)
    cdef int64_t[::1] lab = labels, st = stack
    for i in range(n):
        if lab[i] >= 0:
            continue
        lab[i] = c
        st[0] = i
        top = 1
        while top > 0:
            top -= 1
            v = st[top]
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if lab[u] < 0:
                    lab[u] = c
                    st[top] = u
                    top += 1
        c += 1
    return labels


cdef Py_ssize_t _n_labels(const int64_t[::1] labels) noexcept:
    """One more than the largest label (0 for none)."""
    cdef Py_ssize_t i, top = 0
    for i in range(labels.shape[0]):
        if labels[i] + 1 > top:
            top = labels[i] + 1
    return top


def relabel(const int64_t[::1] labels):
    """The same partition numbered 0, 1, ... in order of each patch's first area."""
    cdef Py_ssize_t n = labels.shape[0], i, top = _n_labels(labels), k = 0
    rank = np.full(max(top, 1), -1, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] r = rank, o = out
    for i in range(n):
        if labels[i] < 0:
            raise ValueError("labels must be 0 or more")
        if r[labels[i]] < 0:
            r[labels[i]] = k
            k += 1
        o[i] = r[labels[i]]
    return out


cpdef features(const double[::1] need, const double[:, ::1] xy, double need_weight, double n_patches):
    """The ``(n, 3)`` features the search compares: need, centred and scaled to variance
    ``need_weight`` (0 when need does not vary), and position (``xy``, metres), centred and
    in units of a typical patch radius: that of a circle holding one ``n_patches``-th of
    the bounding box. So homogeneity and compactness weigh alike whatever the LA's size."""
    cdef Py_ssize_t n = need.shape[0], i
    cdef double m0 = 0.0, m1 = 0.0, m2 = 0.0, ss = 0.0, d, scale, radius
    cdef double x_lo = xy[0, 0], x_hi = xy[0, 0], y_lo = xy[0, 1], y_hi = xy[0, 1]
    for i in range(n):
        m0 += need[i]
        m1 += xy[i, 0]
        m2 += xy[i, 1]
        x_lo = min(x_lo, xy[i, 0])
        x_hi = max(x_hi, xy[i, 0])
        y_lo = min(y_lo, xy[i, 1])
        y_hi = max(y_hi, xy[i, 1])
    m0 /= n
    m1 /= n
    m2 /= n
    for i in range(n):
        d = need[i] - m0
        ss += d * d
    scale = sqrt(need_weight / (ss / n)) if ss > 0 else 0.0
    radius = sqrt(max((x_hi - x_lo) * (y_hi - y_lo), 1.0) / n_patches / M_PI)
    feats = np.empty((n, 3))
    cdef double[:, ::1] f = feats
    for i in range(n):
        f[i, 0] = (need[i] - m0) * scale
        f[i, 1] = (xy[i, 0] - m1) / radius
        f[i, 2] = (xy[i, 1] - m2) / radius
    return feats


cpdef str invalid(const double[::1] pop, const double[::1] need, const double[:, ::1] xy, const double[::1] area=None):
    """The first input the search cannot use, or ``""``: ``"population"`` or ``"area"``
    with a value that is missing (NaN), infinite or below 0, ``"need"`` or ``"xy"`` with
    one missing or infinite, or ``"area"`` all 0. One compiled pass, because four numpy
    reductions per call cost more than the check."""
    cdef Py_ssize_t n = pop.shape[0], i
    cdef double land = 0.0
    for i in range(n):
        if not (isfinite(pop[i]) and pop[i] >= 0):
            return "population"
    for i in range(n):
        if not isfinite(need[i]):
            return "need"
    for i in range(n):
        if not (isfinite(xy[i, 0]) and isfinite(xy[i, 1])):
            return "xy"
    if area is not None:
        for i in range(area.shape[0]):
            if not (isfinite(area[i]) and area[i] >= 0):
                return "area"
            land += area[i]
        if not land > 0:
            return "area"
    return ""


cpdef position_weight(const double[::1] pop, const double[::1] area, double land_weight):
    """Each area's weight in the spread of position: ``(1 - land_weight) x population +
    land_weight x land``, with land scaled to the population's total so need and
    position stay balanced."""
    cdef Py_ssize_t n = pop.shape[0], i
    cdef double people = 0.0, land = 0.0, scale
    for i in range(n):
        people += pop[i]
        land += area[i]
    scale = land_weight * people / land
    out = np.empty(n)
    cdef double[::1] o = out
    for i in range(n):
        o[i] = (1 - land_weight) * pop[i] + scale * area[i]
    return out


cpdef patch_totals(const int64_t[::1] labels, const double[::1] pop):
    """People and areas in each patch (``0..labels.max()``), as two lists."""
    cdef Py_ssize_t i, k = _n_labels(labels)
    people = np.zeros(k)
    size = np.zeros(k, dtype=np.int64)
    cdef double[::1] pp = people
    cdef int64_t[::1] ss = size
    for i in range(labels.shape[0]):
        pp[labels[i]] += pop[i]
        ss[labels[i]] += 1
    return people.tolist(), size.tolist()


def prepare(const int64_t[:, ::1] edges, const double[::1] pop, const double[::1] need, const double[:, ::1] xy,
            const double[::1] area, double land_weight, double need_weight, double target):
    """The inputs of ``partition_areas`` made ready for the search, in one call.

    Returns ``bad, aw, (indptr, indices), piece, people, feats``: the first unusable input
    (:func:`invalid`; if it is not ``""`` the rest is ``None``); each area's weight in the
    spread of position (:func:`position_weight`, or population where ``area`` is None or
    ``land_weight`` is 0); the CSR neighbour lists of ``edges``; each area's connected
    piece and the people in each piece (a list); and the feature matrix
    (:func:`features`) for ``round(people / target)`` patches.
    """
    cdef Py_ssize_t n = pop.shape[0], i
    cdef double total = 0.0
    bad = invalid(pop, need, xy, area)
    if bad:
        return bad, None, None, None, None, None
    aw = np.asarray(pop) if area is None or land_weight == 0 else position_weight(pop, area, land_weight)
    indptr, indices = csr(edges, n)
    piece = components(indptr, indices)
    people = patch_totals(piece, pop)[0]
    for i in range(n):
        total += pop[i]
    feats = features(need, xy, need_weight, max(1.0, rint(total / target)))
    return bad, aw, (indptr, indices), piece, people, feats
