# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""A partition of one connected area graph into ``k`` patches, and how one is grown.

:class:`_State` holds the labels, each patch's members as a linked list and its
weighted feature sums (need by population, position by area weight), so the cost of a
patch or of a move is O(1).
Growth builds a contiguous partition from scratch:

* ``k`` seed areas are drawn k-means++ style on position (each next seed with
  probability proportional to its squared distance from the seeds so far);
* the patch holding the fewest people then repeatedly takes the neighbouring
  unassigned area that least raises its spread of features (need and position), so
  patches grow at the same rate, stay compact and gather areas of similar need; each
  patch keeps a frontier list, so a step scans its boundary, not all its members;
* patches boxed in below the band are merged into a neighbour and the most populous
  patch is split in two.

The search moves that refine a partition live in ``_search.pyx``.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free


cdef void _shuffle(int64_t *out, Py_ssize_t n, uint64_t *state) noexcept nogil:
    """``out[:n]`` = a seeded random permutation of 0..n-1 (Fisher-Yates)."""
    cdef Py_ssize_t t, j
    cdef int64_t tmp
    for t in range(n):
        out[t] = t
    for t in range(n - 1, 0, -1):
        j = _below(state, t + 1)
        tmp = out[t]
        out[t] = out[j]
        out[j] = tmp


cdef class _State:
    """A partition of one connected graph into ``k`` patches, with its patch sums."""

    cdef int setup_state(self, Py_ssize_t n, Py_ssize_t n_links, int64_t *indptr, int64_t *indices, double *pop,
                         double *aw, vec3 *f, Py_ssize_t k, double lo, double hi) except -1:
        """Point at the caller's CSR lists (``n_links`` entries), population, position
        weights and features of ``n`` areas, and allocate the rest for ``k`` patches.
        (A ``cdef`` method on pointers, not ``__init__``: buffer arguments cost more to
        take than the set-up itself.)"""
        cdef Py_ssize_t m = n_links + 1, i, step
        self.n, self.k, self.lo, self.hi, self.gen, self.ftop = n, k, lo, hi, 0, 0
        self.indptr, self.indices, self.pop, self.aw, self.f = indptr, indices, pop, aw, f
        cdef _Arena arena
        arena.base, arena.used = NULL, 0
        for step in range(2):  # measure, then place
            if step == 1:
                self.mem = _place(&arena)
            self.label = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.nxt = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.prv = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.head = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.size = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.seen = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.stack = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.fhead = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.fpool = <int64_t *>_take(&arena, m * sizeof(int64_t))
            self.fnext = <int64_t *>_take(&arena, m * sizeof(int64_t))
            self.queue = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.comp = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.q = <double *>_take(&arena, n * sizeof(double))
            self.dist = <double *>_take(&arena, n * sizeof(double))
            self.s0 = <double *>_take(&arena, k * sizeof(double))
            self.sa = <double *>_take(&arena, k * sizeof(double))
            self.s2 = <double *>_take(&arena, k * sizeof(double))
            self.s1 = <vec3 *>_take(&arena, k * sizeof(vec3))
            self.c = <vec3 *>_take(&arena, n * sizeof(vec3))
            self.key = <uint64_t *>_take(&arena, n * sizeof(uint64_t))
            self.fp = <uint64_t *>_take(&arena, k * sizeof(uint64_t))
            self.active = <char *>_take(&arena, k)
            self.touched = <char *>_take(&arena, k)
            self.side = <char *>_take(&arena, n)
        self.clear()  # labels, list links and heads -1; sums 0
        for i in range(n):  # each area's weighted features and weighted sum of squares
            self.c[i][0] = self.pop[i] * self.f[i][0]
            self.c[i][1] = self.aw[i] * self.f[i][1]
            self.c[i][2] = self.aw[i] * self.f[i][2]
            self.q[i] = self.pop[i] * self.f[i][0] * self.f[i][0] + self.aw[i] * (
                self.f[i][1] * self.f[i][1] + self.f[i][2] * self.f[i][2])
        cdef uint64_t stream = 0
        for i in range(n):
            self.key[i] = _next(&stream)
        return 0

    def __dealloc__(self):
        free(self.mem)

    # -- bookkeeping -----------------------------------------------------------------

    cdef void clear(self) noexcept nogil:
        cdef Py_ssize_t i, p
        for i in range(self.n):
            self.label[i] = -1
            self.nxt[i] = -1
            self.prv[i] = -1
        for p in range(self.k):
            self.head[p] = -1
            self.size[p] = 0
            self.s0[p] = 0.0
            self.sa[p] = 0.0
            self.s2[p] = 0.0
            self.fp[p] = 0
            self.s1[p][0] = 0.0
            self.s1[p][1] = 0.0
            self.s1[p][2] = 0.0

    cdef Py_ssize_t reach(self, Py_ssize_t start, Py_ssize_t p, Py_ssize_t skip, Py_ssize_t out) noexcept nogil:
        """Mark the areas of patch ``p`` (except ``skip``) connected to ``start`` with the
        current generation; append them to ``comp`` from ``out``. Returns how many."""
        cdef Py_ssize_t top = 0, count = 0, v, u, e
        self.seen[start] = self.gen
        self.stack[0] = start
        top = 1
        while top > 0:
            top -= 1
            v = self.stack[top]
            self.comp[out + count] = v
            count += 1
            for e in range(self.indptr[v], self.indptr[v + 1]):
                u = self.indices[e]
                if u != skip and self.label[u] == p and self.seen[u] != self.gen:
                    self.seen[u] = self.gen
                    self.stack[top] = u
                    top += 1
        return count

    cdef bint can_leave(self, Py_ssize_t i, Py_ssize_t a) noexcept nogil:
        """Whether patch ``a`` stays contiguous (and non-empty) without area ``i``."""
        cdef Py_ssize_t e, u
        if self.size[a] <= 1:
            return False
        for e in range(self.indptr[i], self.indptr[i + 1]):
            u = self.indices[e]
            if self.label[u] == a:
                self.gen += 1
                return self.reach(u, a, i, 0) == self.size[a] - 1
        return False

    cdef void load(self, const int64_t *labels) noexcept nogil:
        """Start from a given partition (labels 0..k-1, each patch contiguous)."""
        cdef Py_ssize_t i
        self.clear()
        for i in range(self.n):
            self.add(i, labels[i])

    # -- grow ------------------------------------------------------------------------

    cdef void grow(self, uint64_t *rng) noexcept nogil:
        """A contiguous start: k-means++ seeds on position, best-fit growth, then balance."""
        cdef Py_ssize_t n = self.n, k = self.k, i, s, c
        cdef double total, r, d, dx, dy
        self.clear()
        total = 0.0
        for i in range(n):
            self.dist[i] = INFINITY
        for s in range(k):
            c = -1
            if s == 0:
                c = _below(rng, n)
            else:
                if total > 0.0:
                    r = _uniform(rng) * total
                    for i in range(n):
                        if self.dist[i] > 0.0:
                            c = i
                            r -= self.dist[i]
                            if r <= 0.0:
                                break
                if c < 0:  # every area sits on a seed already (duplicate points)
                    for i in range(n):
                        if self.label[i] < 0:
                            c = i
                            break
            self.add(c, s)
            total = 0.0  # summed as the distances update, for the next draw
            for i in range(n):
                dx = self.f[i][1] - self.f[c][1]
                dy = self.f[i][2] - self.f[c][2]
                d = 0.0 if self.label[i] >= 0 else dx * dx + dy * dy
                if d < self.dist[i]:
                    self.dist[i] = d
                total += self.dist[i]
            self.queue[s] = s
        self.grow_patches(k, False)
        self.balance()

    cdef void push_frontier(self, Py_ssize_t m, Py_ssize_t p, bint restrict) noexcept nogil:
        """Add the unassigned neighbours of area ``m`` (only current-generation ones if
        ``restrict``) to the frontier list of patch ``p``."""
        cdef Py_ssize_t e, u
        for e in range(self.indptr[m], self.indptr[m + 1]):
            u = self.indices[e]
            if self.label[u] >= 0 or (restrict and self.seen[u] != self.gen):
                continue
            self.fpool[self.ftop] = u
            self.fnext[self.ftop] = self.fhead[p]
            self.fhead[p] = self.ftop
            self.ftop += 1

    cdef Py_ssize_t best_join(self, int64_t *fh, double w, double wa, double n1, double x1, double y1,
                              Py_ssize_t first, bint by_side) noexcept nogil:
        """The area on the frontier list headed by ``fh`` that least raises the spread of a
        growing patch with population ``w``, area weight ``wa`` and weighted sums ``n1,
        x1, y1`` (means from ``first`` while a weight is 0); -1 if none is left. Areas
        taken since they were listed (``label`` set, or ``side`` set if ``by_side``) are
        unlinked on the way."""
        cdef Py_ssize_t best = -1, prev = -1, f = fh[0], u
        cdef double cost, den, best_cost = 1.0, best_den = 1.0
        cdef double m0 = n1 / w if w > EPS else self.f[first][0]
        cdef double m1 = x1 / wa if wa > EPS else self.f[first][1]
        cdef double m2 = y1 / wa if wa > EPS else self.f[first][2]
        while f >= 0:
            u = self.fpool[f]
            if (self.side[u] & 3) != 0 if by_side else self.label[u] >= 0:  # taken: unlink
                if prev < 0:
                    fh[0] = self.fnext[f]
                else:
                    self.fnext[prev] = self.fnext[f]
                f = self.fnext[f]
                continue
            cost = self.join_cost(u, w, wa, m0, m1, m2, &den)
            if best < 0 or _lower(cost, den, best_cost, best_den, u, best):
                best, best_cost, best_den = u, cost, den
            prev = f
            f = self.fnext[f]
        return best

    cdef void grow_patches(self, Py_ssize_t count, bint restrict) noexcept nogil:
        """Grow the patches listed in ``queue[:count]`` over unassigned areas (only those
        marked with the current generation if ``restrict``): the patch with the fewest
        people takes the neighbouring area that least raises its spread, until no listed
        patch has an unassigned neighbour.

        Each patch keeps a frontier list of candidate areas (an area taken meanwhile is
        dropped when met), so a step scans the boundary rather than every member."""
        cdef Py_ssize_t t, p, pp, m, best
        self.ftop = 0
        for t in range(count):
            p = self.queue[t]
            self.active[p] = 1
            self.fhead[p] = -1
            m = self.head[p]
            while m >= 0:
                self.push_frontier(m, p, restrict)
                m = self.nxt[m]
        while True:
            p = -1
            for t in range(count):
                pp = self.queue[t]
                if self.active[pp] and (p < 0 or self.s0[pp] < self.s0[p]):
                    p = pp
            if p < 0:
                return
            best = self.best_join(&self.fhead[p], self.s0[p], self.sa[p], self.s1[p][0], self.s1[p][1],
                                  self.s1[p][2], self.head[p], False)
            if best < 0:
                self.active[p] = 0
            else:
                self.add(best, p)
                self.push_frontier(best, p, restrict)

    cdef void balance(self) noexcept nogil:
        """Undo growth that got boxed in: while some patch is below the band, merge it into
        its smallest neighbouring patch and split the most populous patch in two, for as
        long as that brings the patches nearer the band."""
        cdef Py_ssize_t k = self.k, it, small, big, r, p, m, e, l
        cdef double before
        for it in range(2 * k):
            small = 0
            for p in range(1, k):
                if self.s0[p] < self.s0[small]:
                    small = p
            if self.s0[small] >= self.lo:
                return
            r = -1
            m = self.head[small]
            while m >= 0:
                for e in range(self.indptr[m], self.indptr[m + 1]):
                    l = self.label[self.indices[e]]
                    if l != small and (r < 0 or self.s0[l] < self.s0[r] or (self.s0[l] == self.s0[r] and l < r)):
                        r = l
                m = self.nxt[m]
            if r < 0:
                return
            before = self.total_penalty()
            while self.head[small] >= 0:
                self.move(self.head[small], small, r)
            big = r  # r now holds two areas or more, so some patch can be split
            for p in range(k):
                if self.size[p] >= 2 and self.s0[p] > self.s0[big]:
                    big = p
            self.split(big, small)
            if self.total_penalty() >= before - EPS:
                return  # no nearer the band: further rounds only cycle (the search repairs the rest)

    cdef void split(self, Py_ssize_t big, Py_ssize_t new) noexcept nogil:
        """Regrow patch ``big`` (contiguous, two areas or more) as two patches, ``big`` and
        the empty ``new``, from two of its areas far apart."""
        cdef Py_ssize_t cnt = 0, m, t, a = -1, b = -1
        cdef double mx, my, d, far, dx, dy
        mx = self.s1[big][1] / self.sa[big] if self.sa[big] > EPS else self.f[self.head[big]][1]
        my = self.s1[big][2] / self.sa[big] if self.sa[big] > EPS else self.f[self.head[big]][2]
        self.gen += 1
        m = self.head[big]
        while m >= 0:
            self.comp[cnt] = m
            cnt += 1
            self.seen[m] = self.gen
            m = self.nxt[m]
        far = -1.0
        for t in range(cnt):
            m = self.comp[t]
            dx = self.f[m][1] - mx
            dy = self.f[m][2] - my
            d = dx * dx + dy * dy
            if d > far or (d == far and m < a):
                far, a = d, m
        far = -1.0
        for t in range(cnt):
            m = self.comp[t]
            if m == a:
                continue
            dx = self.f[m][1] - self.f[a][1]
            dy = self.f[m][2] - self.f[a][2]
            d = dx * dx + dy * dy
            if d > far or (d == far and m < b):
                far, b = d, m
        for t in range(cnt):
            self.remove(self.comp[t], big)
        self.add(a, big)
        self.add(b, new)
        self.queue[0] = big
        self.queue[1] = new
        self.grow_patches(2, True)
