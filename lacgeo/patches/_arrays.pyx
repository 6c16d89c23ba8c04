# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Array preparation for the patch builder: input checks, CSR neighbour lists (built
from an edge list, cut into pieces, split into connected components), the search's
feature matrix and patch totals.

Compiled, because ``partition_areas`` calls them on every run, and a one-LA run calls
it cold: there, each numpy call from Python cost 10-50 us and each typed-memoryview
argument about 5 us, against a search of a few hundred microseconds. So
:func:`prepare`, which runs the steps a call needs, takes arrays as objects, reads
them through pointers (:func:`lacgeo.patches._state._data`) and allocates its results
through numpy's C API. The ``cpdef`` helpers are the same steps for other callers.
"""

cimport numpy as cnp
from libc.math cimport M_PI, isfinite, rint, sqrt
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from lacgeo.patches._state cimport _data, _new

cnp.import_array()


# -- steps on pointers ----------------------------------------------------------------


cdef int _csr(const int64_t *edges, Py_ssize_t m, Py_ssize_t n, int64_t *ip, int64_t *ix) except -1:
    """CSR of ``n`` areas from ``m`` undirected ``edges`` (pairs) into ``ip`` (n + 1, zeroed)
    and ``ix`` (2m); every area's neighbours sorted."""
    cdef Py_ssize_t t, i, j, a, b
    cdef int64_t v
    for t in range(m):
        a, b = edges[2 * t], edges[2 * t + 1]
        if not (0 <= a < n and 0 <= b < n):
            raise ValueError(f"edge ({a}, {b}) refers to an area outside 0..{n - 1}")
        ip[a + 1] += 1
        ip[b + 1] += 1
    for i in range(n):
        ip[i + 1] += ip[i]
    cdef int64_t *fill = <int64_t *>malloc((n + 1) * sizeof(int64_t))
    if fill == NULL:
        raise MemoryError()
    for i in range(n):
        fill[i] = ip[i]
    for t in range(m):
        a, b = edges[2 * t], edges[2 * t + 1]
        ix[fill[a]] = b
        fill[a] += 1
        ix[fill[b]] = a
        fill[b] += 1
    free(fill)
    for i in range(n):  # insertion sort: degrees are small
        for t in range(ip[i] + 1, ip[i + 1]):
            v = ix[t]
            j = t - 1
            while j >= ip[i] and ix[j] > v:
                ix[j + 1] = ix[j]
                j -= 1
            ix[j + 1] = v
    return 0


cdef Py_ssize_t _components(const int64_t *indptr, const int64_t *indices, Py_ssize_t n, int64_t *lab) except -1:
    """Connected component of every area into ``lab`` (numbered in order of their first
    area); returns how many."""
    cdef Py_ssize_t i, v, u, e, top, c = 0
    cdef int64_t *st = <int64_t *>malloc((n + 1) * sizeof(int64_t))
    if st == NULL:
        raise MemoryError()
    for i in range(n):
        lab[i] = -1
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
    free(st)
    return c


cdef void _features(const double *need, const double *xy, Py_ssize_t n, double need_weight, double n_patches,
                    double *f) noexcept nogil:
    """The ``(n, 3)`` features the search compares, into ``f``: need, centred and scaled to
    variance ``need_weight`` (0 when need does not vary), and position (``xy``, metres),
    centred and in units of a typical patch radius: that of a circle holding one
    ``n_patches``-th of the bounding box. So homogeneity and compactness weigh alike
    whatever the LA's size."""
    cdef Py_ssize_t i
    cdef double m0 = 0.0, m1 = 0.0, m2 = 0.0, ss = 0.0, d, scale, radius
    cdef double x_lo = xy[0], x_hi = xy[0], y_lo = xy[1], y_hi = xy[1]
    for i in range(n):
        m0 += need[i]
        m1 += xy[2 * i]
        m2 += xy[2 * i + 1]
        x_lo = min(x_lo, xy[2 * i])
        x_hi = max(x_hi, xy[2 * i])
        y_lo = min(y_lo, xy[2 * i + 1])
        y_hi = max(y_hi, xy[2 * i + 1])
    m0 /= n
    m1 /= n
    m2 /= n
    for i in range(n):
        d = need[i] - m0
        ss += d * d
    scale = sqrt(need_weight / (ss / n)) if ss > 0 else 0.0
    radius = sqrt(max((x_hi - x_lo) * (y_hi - y_lo), 1.0) / n_patches / M_PI)
    for i in range(n):
        f[3 * i] = (need[i] - m0) * scale
        f[3 * i + 1] = (xy[2 * i] - m1) / radius
        f[3 * i + 2] = (xy[2 * i + 1] - m2) / radius


cdef str _invalid(const double *pop, const double *need, const double *xy, const double *area, Py_ssize_t n):
    """See :func:`invalid` (``area`` may be NULL)."""
    cdef Py_ssize_t i
    cdef double land = 0.0
    for i in range(n):
        if not (isfinite(pop[i]) and pop[i] >= 0):
            return "population"
    for i in range(n):
        if not isfinite(need[i]):
            return "need"
    for i in range(n):
        if not (isfinite(xy[2 * i]) and isfinite(xy[2 * i + 1])):
            return "xy"
    if area != NULL:
        for i in range(n):
            if not (isfinite(area[i]) and area[i] >= 0):
                return "area"
            land += area[i]
        if not land > 0:
            return "area"
    return ""


cdef void _position_weight(const double *pop, const double *area, Py_ssize_t n, double land_weight,
                           double *out) noexcept nogil:
    """Each area's weight in the spread of position, into ``out``: ``(1 - land_weight) x
    population + land_weight x land``, with land scaled to the population's total so need
    and position stay balanced."""
    cdef Py_ssize_t i
    cdef double people = 0.0, land = 0.0, scale
    for i in range(n):
        people += pop[i]
        land += area[i]
    scale = land_weight * people / land
    for i in range(n):
        out[i] = (1 - land_weight) * pop[i] + scale * area[i]


# -- the same steps for Python callers ----------------------------------------------------


cpdef csr(const int64_t[:, ::1] edges, Py_ssize_t n):
    """CSR neighbour lists of ``n`` areas from undirected ``edges`` (each pair once or
    twice); every area's neighbours sorted."""
    cdef Py_ssize_t m = edges.shape[0]
    indptr = _new(n + 1, 1, cnp.NPY_INT64, True)
    indices = _new(2 * m, 1, cnp.NPY_INT64, False)
    _csr(&edges[0, 0] if m else NULL, m, n, <int64_t *>cnp.PyArray_DATA(indptr), <int64_t *>cnp.PyArray_DATA(indices))
    return indptr, indices


def subgraph(const int64_t[::1] indptr, const int64_t[::1] indices, const int64_t[::1] members):
    """CSR of the areas ``members`` (local positions follow their order), keeping only
    neighbours among them."""
    cdef Py_ssize_t n = indptr.shape[0] - 1, m = members.shape[0], t, e, u, count = 0
    local = _new(n, 1, cnp.NPY_INT64, False)
    sub_ptr = _new(m + 1, 1, cnp.NPY_INT64, True)
    cdef int64_t *loc = <int64_t *>cnp.PyArray_DATA(local)
    cdef int64_t *sp = <int64_t *>cnp.PyArray_DATA(sub_ptr)
    for t in range(n):
        loc[t] = -1
    for t in range(m):
        loc[members[t]] = t
    for t in range(m):
        for e in range(indptr[members[t]], indptr[members[t] + 1]):
            if loc[indices[e]] >= 0:
                count += 1
        sp[t + 1] = count
    sub_idx = _new(count, 1, cnp.NPY_INT64, False)
    cdef int64_t *si = <int64_t *>cnp.PyArray_DATA(sub_idx)
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
    cdef Py_ssize_t n = indptr.shape[0] - 1
    labels = _new(n, 1, cnp.NPY_INT64, False)
    _components(&indptr[0], &indices[0] if indices.shape[0] else NULL, n, <int64_t *>cnp.PyArray_DATA(labels))
    return labels


cpdef str invalid(const double[::1] pop, const double[::1] need, const double[:, ::1] xy, const double[::1] area=None):
    """The first input the search cannot use, or ``""``: ``"population"`` or ``"area"``
    with a value that is missing (NaN), infinite or below 0, ``"need"`` or ``"xy"`` with
    one missing or infinite, or ``"area"`` all 0. One compiled pass, because four numpy
    reductions per call cost more than the check."""
    cdef const double *land = NULL
    if area is not None:
        if area.shape[0] != pop.shape[0]:
            return "area"
        land = &area[0]
    return _invalid(&pop[0], &need[0], &xy[0, 0], land, pop.shape[0])


cpdef patch_totals(const int64_t[::1] labels, const double[::1] pop):
    """People and areas in each patch (``0..labels.max()``), as two lists."""
    cdef Py_ssize_t i, k = 0
    for i in range(labels.shape[0]):
        if labels[i] + 1 > k:
            k = labels[i] + 1
    return _totals(&labels[0] if k else NULL, &pop[0] if k else NULL, labels.shape[0], k)


cdef tuple _totals(const int64_t *labels, const double *pop, Py_ssize_t n, Py_ssize_t k):
    """People and areas in each of patches ``0..k-1`` (labels below ``k``), as two lists."""
    cdef Py_ssize_t i
    cdef double *people = <double *>malloc((k + 1) * sizeof(double))
    cdef int64_t *size = <int64_t *>malloc((k + 1) * sizeof(int64_t))
    if people == NULL or size == NULL:
        free(people)
        free(size)
        raise MemoryError()
    for i in range(k):
        people[i] = 0.0
        size[i] = 0
    for i in range(n):
        people[labels[i]] += pop[i]
        size[labels[i]] += 1
    out = ([people[i] for i in range(k)], [size[i] for i in range(k)])
    free(people)
    free(size)
    return out


def prepare(edges, pop, need, xy, area, double land_weight, double need_weight, double target):
    """The inputs of ``partition_areas`` made ready for the search, in one call.

    ``edges`` is an ``(m, 2)`` int64 array, ``pop``, ``need`` and ``area`` (or None)
    float64 arrays of ``n`` values and ``xy`` an ``(n, 2)`` float64 array, all C-contiguous.

    Returns ``bad, aw, (indptr, indices), piece, people, feats``: the first unusable input
    (:func:`invalid`; if it is not ``""`` the rest is ``None``); each area's weight in the
    spread of position (:func:`_position_weight`, or ``pop`` itself where ``area`` is None
    or ``land_weight`` is 0); the CSR neighbour lists of ``edges``; each area's connected
    piece and the people in each piece (a list); and the feature matrix
    (:func:`_features`) for ``round(people / target)`` patches.
    """
    cdef Py_ssize_t n = len(pop), m = len(edges), i, n_pieces
    cdef const double *p_pop = <const double *>_data(pop, cnp.NPY_FLOAT64, n, 1, "pop")
    cdef const double *p_need = <const double *>_data(need, cnp.NPY_FLOAT64, n, 1, "need")
    cdef const double *p_xy = <const double *>_data(xy, cnp.NPY_FLOAT64, n, 2, "xy")
    cdef const double *p_area = NULL
    cdef const int64_t *p_edges = <const int64_t *>_data(edges, cnp.NPY_INT64, m, 2, "edges")
    if area is not None:
        p_area = <const double *>_data(area, cnp.NPY_FLOAT64, n, 1, "area")
    bad = _invalid(p_pop, p_need, p_xy, p_area, n)
    if bad:
        return bad, None, None, None, None, None
    if p_area == NULL or land_weight == 0:
        aw = pop
    else:
        aw = _new(n, 1, cnp.NPY_FLOAT64, False)
        _position_weight(p_pop, p_area, n, land_weight, <double *>cnp.PyArray_DATA(aw))
    indptr = _new(n + 1, 1, cnp.NPY_INT64, True)
    indices = _new(2 * m, 1, cnp.NPY_INT64, False)
    cdef int64_t *ip = <int64_t *>cnp.PyArray_DATA(indptr)
    cdef int64_t *ix = <int64_t *>cnp.PyArray_DATA(indices)
    _csr(p_edges, m, n, ip, ix)
    piece = _new(n, 1, cnp.NPY_INT64, False)
    cdef int64_t *pc = <int64_t *>cnp.PyArray_DATA(piece)
    n_pieces = _components(ip, ix, n, pc)
    people = _totals(pc, p_pop, n, n_pieces)[0]
    cdef double total = 0.0
    for i in range(n):
        total += p_pop[i]
    feats = _new(n, 3, cnp.NPY_FLOAT64, False)
    _features(p_need, p_xy, n, need_weight, max(1.0, rint(total / target)), <double *>cnp.PyArray_DATA(feats))
    return bad, aw, (indptr, indices), piece, people, feats
