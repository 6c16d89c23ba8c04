# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""CSR neighbour lists for the patch builder: build them from an edge list, cut out a
piece, find connected components, and renumber patch labels. Compiled, because
``partition_areas`` calls them on every run and numpy's sorting dominated its cost."""

import numpy as np

from libc.stdint cimport int64_t


def csr(const int64_t[:, ::1] edges, Py_ssize_t n):
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


def components(const int64_t[::1] indptr, const int64_t[::1] indices):
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


def relabel(const int64_t[::1] labels):
    """The same partition numbered 0, 1, ... in order of each patch's first area."""
    cdef Py_ssize_t n = labels.shape[0], i, top = 0, k = 0
    for i in range(n):
        if labels[i] + 1 > top:
            top = labels[i] + 1
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
