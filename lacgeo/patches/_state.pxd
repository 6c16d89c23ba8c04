# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Declarations shared by the patch builder's compiled modules: the seeded random
stream, the band penalty and feature spread, and :class:`_State`, a partition with
its patch sums and the growth that builds one (implemented in ``_state.pyx``)."""

cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport calloc

cdef extern from *:
    """
    static const double LACGEO_EPS = 1e-9;
    """
    const double EPS "LACGEO_EPS"


cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    """The splitmix64 finaliser: every input bit moves every output bit."""
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline uint64_t _next(uint64_t *state) noexcept nogil:
    """splitmix64: a small, well-mixed generator that is the same everywhere."""
    state[0] += <uint64_t>0x9E3779B97F4A7C15
    return _mix(state[0])


cdef inline double _uniform(uint64_t *state) noexcept nogil:
    return <double>(_next(state) >> 11) * (1.0 / 9007199254740992.0)


cdef inline Py_ssize_t _below(uint64_t *state, Py_ssize_t n) noexcept nogil:
    return <Py_ssize_t>(_next(state) % <uint64_t>n)


cdef inline double _penalty(double pop, double lo, double hi) noexcept nogil:
    if pop < lo:
        return lo - pop
    if pop > hi:
        return pop - hi
    return 0.0


cdef inline double _spread(double s0, double sa, double a, double b, double c, double s2) noexcept nogil:
    """Weighted sum of squares of the features about their means, from the patch sums:
    need (``a``) weighted by population (total ``s0``), position (``b``, ``c``) by area
    weight (total ``sa``); ``s2`` is the weighted sum of squares."""
    if s0 > EPS:
        s2 -= a * a / s0
    if sa > EPS:
        s2 -= (b * b + c * c) / sa
    return s2 if s0 > EPS or sa > EPS else 0.0


cdef inline bint _lower(double num, double den, double best_num, double best_den, Py_ssize_t u,
                        Py_ssize_t best) noexcept nogil:
    """Whether ``num / den`` is below ``best_num / best_den`` (positive denominators), ties
    going to the lower area number."""
    cdef double lhs = num * best_den, rhs = best_num * den
    return lhs < rhs or (lhs == rhs and u < best)


cdef inline void *_data(object arr, int typenum, Py_ssize_t n, Py_ssize_t width, str name) except? NULL:
    """Pointer to the values of ``arr``, which must be a C-contiguous numpy array of type
    ``typenum`` and shape ``(n,)`` (``width`` 1) or ``(n, width)``. (A typed-memoryview
    argument does the same checks but cost about 5 us per array in a cold call.)"""
    cdef cnp.ndarray a
    if cnp.PyArray_Check(arr):
        a = <cnp.ndarray>arr
        if (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_IS_C_CONTIGUOUS(a)
                and cnp.PyArray_NDIM(a) == (1 if width == 1 else 2) and cnp.PyArray_DIMS(a)[0] == n
                and (width == 1 or cnp.PyArray_DIMS(a)[1] == width)):
            return cnp.PyArray_DATA(a)
    kind = "int64" if typenum == cnp.NPY_INT64 else "float64"
    shape = f"({n},)" if width == 1 else f"({n}, {width})"
    raise ValueError(f"{name} must be a C-contiguous {kind} array of shape {shape}")


cdef inline object _new(Py_ssize_t n, Py_ssize_t width, int typenum, bint zero):
    """A new numpy array of type ``typenum`` and shape ``(n,)`` (``width`` 1) or ``(n, width)``,
    zeroed if ``zero``, made through numpy's C API (``np.empty`` from Python costs more cold)."""
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = width
    if zero:
        return cnp.PyArray_ZEROS(1 if width == 1 else 2, dims, typenum, 0)
    return cnp.PyArray_EMPTY(1 if width == 1 else 2, dims, typenum, 0)


ctypedef double vec3[3]  # one area's (or patch's) need, x and y


cdef struct _Arena:
    char *base  # NULL while only measuring
    Py_ssize_t used


cdef inline void *_take(_Arena *arena, Py_ssize_t nbytes) noexcept nogil:
    """The next ``nbytes`` of ``arena`` (16-byte aligned). Run once with ``base`` NULL to
    measure the block, then again on the allocated block to place the arrays."""
    cdef void *out = NULL
    if arena.base != NULL:
        out = arena.base + arena.used
    arena.used += (nbytes + 15) & ~(<Py_ssize_t>15)
    return out


cdef inline void *_place(_Arena *arena) except NULL:
    """After measuring: allocate the zeroed block ``arena`` needs and start placing into it."""
    cdef void *mem = calloc(max(arena.used, 1), 1)
    if mem == NULL:
        raise MemoryError()
    arena.base, arena.used = <char *>mem, 0
    return mem


cdef void _shuffle(int64_t *out, Py_ssize_t n, uint64_t *state) noexcept nogil


cdef class _State:
    """Arrays are raw pointers: the inputs point into the caller's arrays (which the
    caller keeps alive while the state is used), everything else into one zeroed
    block, ``mem``, freed with the state. A search builds two states per call, and numpy
    arrays and memoryview slices made the set-up cost a tenth of a small LA's search."""
    cdef Py_ssize_t n, k, gen, ftop
    cdef double lo, hi
    cdef void *mem
    cdef int64_t *indptr
    cdef int64_t *indices
    cdef double *pop
    cdef double *aw
    cdef double *q
    cdef vec3 *f
    cdef vec3 *c
    cdef int64_t *label
    cdef int64_t *head
    cdef int64_t *nxt
    cdef int64_t *prv
    cdef int64_t *size
    cdef int64_t *seen
    cdef int64_t *stack
    cdef double *s0
    cdef double *sa
    cdef double *s2
    cdef vec3 *s1
    # fingerprint of each patch's set of areas: the sum of its areas' random keys
    cdef uint64_t *key
    cdef uint64_t *fp
    # scratch shared by growth and the search moves
    cdef int64_t *fhead
    cdef int64_t *fpool
    cdef int64_t *fnext
    cdef int64_t *queue
    cdef int64_t *comp
    cdef double *dist
    cdef char *active
    cdef char *touched
    cdef char *side

    cdef int setup_state(self, Py_ssize_t n, Py_ssize_t n_links, int64_t *indptr, int64_t *indices, double *pop,
                         double *aw, vec3 *f, Py_ssize_t k, double lo, double hi) except -1
    cdef void clear(self) noexcept nogil
    cdef inline void add(self, Py_ssize_t i, Py_ssize_t p) noexcept nogil:
        self.s0[p] += self.pop[i]
        self.sa[p] += self.aw[i]
        self.s1[p][0] += self.c[i][0]
        self.s1[p][1] += self.c[i][1]
        self.s1[p][2] += self.c[i][2]
        self.s2[p] += self.q[i]
        self.fp[p] += self.key[i]
        self.label[i] = p
        self.touched[p] = 1
        self.prv[i] = -1
        self.nxt[i] = self.head[p]
        if self.head[p] >= 0:
            self.prv[self.head[p]] = i
        self.head[p] = i
        self.size[p] += 1
    cdef inline void remove(self, Py_ssize_t i, Py_ssize_t p) noexcept nogil:
        self.s0[p] -= self.pop[i]
        self.sa[p] -= self.aw[i]
        self.s1[p][0] -= self.c[i][0]
        self.s1[p][1] -= self.c[i][1]
        self.s1[p][2] -= self.c[i][2]
        self.s2[p] -= self.q[i]
        self.fp[p] -= self.key[i]
        if self.prv[i] >= 0:
            self.nxt[self.prv[i]] = self.nxt[i]
        else:
            self.head[p] = self.nxt[i]
        if self.nxt[i] >= 0:
            self.prv[self.nxt[i]] = self.prv[i]
        self.label[i] = -1
        self.touched[p] = 1
        self.size[p] -= 1
    cdef inline void move(self, Py_ssize_t i, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
        self.remove(i, a)
        self.add(i, b)
    cdef inline double patch_cost(self, Py_ssize_t p) noexcept nogil:
        return _spread(self.s0[p], self.sa[p], self.s1[p][0], self.s1[p][1], self.s1[p][2], self.s2[p])
    cdef inline double total_penalty(self) noexcept nogil:
        cdef double t = 0.0
        cdef Py_ssize_t p
        for p in range(self.k):
            t += _penalty(self.s0[p], self.lo, self.hi)
        return t
    cdef inline void pair_after(self, Py_ssize_t a, Py_ssize_t b, double w, double wa, double w0, double w1, double w2,
                         double wq, double *pen, double *cost) noexcept nogil:
        """(band penalty, cost) of patches ``a`` and ``b`` if areas with population ``w``,
        area weight ``wa``, weighted feature sums ``w0, w1, w2`` and weighted sum of squares
        ``wq`` moved from a to b."""
        pen[0] = _penalty(self.s0[a] - w, self.lo, self.hi) + _penalty(self.s0[b] + w, self.lo, self.hi)
        cost[0] = _spread(
            self.s0[a] - w, self.sa[a] - wa, self.s1[a][0] - w0, self.s1[a][1] - w1, self.s1[a][2] - w2, self.s2[a] - wq
        ) + _spread(
            self.s0[b] + w, self.sa[b] + wa, self.s1[b][0] + w0, self.s1[b][1] + w1, self.s1[b][2] + w2, self.s2[b] + wq
        )
    cdef inline double join_cost(self, Py_ssize_t u, double w, double wa, double m0, double m1, double m2,
                          double *den) noexcept nogil:
        """Rise in spread when area ``u`` joins a patch of population ``w`` and area weight
        ``wa`` whose feature means are ``m0, m1, m2``, as a fraction: returns the numerator,
        the denominator in ``den`` (growth compares fractions without dividing)."""
        cdef double g0 = self.f[u][0] - m0, g1 = self.f[u][1] - m1, g2 = self.f[u][2] - m2
        cdef double dp = w + self.pop[u] + EPS, da = wa + self.aw[u] + EPS
        den[0] = dp * da
        return g0 * g0 * self.pop[u] * w * da + (g1 * g1 + g2 * g2) * self.aw[u] * wa * dp
    cdef inline void leave(self, Py_ssize_t i, Py_ssize_t a, double *pen, double *cost) noexcept nogil:
        """Band penalty and cost of patch ``a`` once area ``i`` has left it (the first half
        of :meth:`pair_after` for one area; the same whichever patch ``i`` joins)."""
        pen[0] = _penalty(self.s0[a] - self.pop[i], self.lo, self.hi)
        cost[0] = _spread(self.s0[a] - self.pop[i], self.sa[a] - self.aw[i], self.s1[a][0] - self.c[i][0],
                          self.s1[a][1] - self.c[i][1], self.s1[a][2] - self.c[i][2], self.s2[a] - self.q[i])

    cdef inline void join(self, Py_ssize_t i, Py_ssize_t b, double *pen, double *cost) noexcept nogil:
        """Band penalty and cost of patch ``b`` once area ``i`` has joined it."""
        pen[0] = _penalty(self.s0[b] + self.pop[i], self.lo, self.hi)
        cost[0] = _spread(self.s0[b] + self.pop[i], self.sa[b] + self.aw[i], self.s1[b][0] + self.c[i][0],
                          self.s1[b][1] + self.c[i][1], self.s1[b][2] + self.c[i][2], self.s2[b] + self.q[i])

    cdef Py_ssize_t reach(self, Py_ssize_t start, Py_ssize_t p, Py_ssize_t skip, Py_ssize_t out) noexcept nogil
    cdef bint can_leave(self, Py_ssize_t i, Py_ssize_t a) noexcept nogil
    cdef void load(self, const int64_t *labels) noexcept nogil
    cdef void grow(self, uint64_t *rng) noexcept nogil
    cdef void push_frontier(self, Py_ssize_t m, Py_ssize_t p, bint restrict) noexcept nogil
    cdef Py_ssize_t best_join(self, int64_t *fh, double w, double wa, double n1, double x1, double y1,
                              Py_ssize_t first, bint by_side) noexcept nogil
    cdef void grow_patches(self, Py_ssize_t count, bint restrict) noexcept nogil
    cdef void balance(self) noexcept nogil
    cdef void split(self, Py_ssize_t big, Py_ssize_t new) noexcept nogil
