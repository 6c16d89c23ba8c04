# cython: language_level=3, cdivision=True, initializedcheck=False, infer_types=True
"""The patch search: grow contiguous patches, then refine them.

One source, two ways to run. This file is Cython's pure-Python mode: plain Python
with C types in its annotations. ``setup.py`` compiles it when a C compiler is there
(the wheels are built so); without one, or with ``LACGEO_INTERPRETED=1``, Python runs
the same file, about 30-40 times slower, and finds the same patches: every step is
integer arithmetic, the same IEEE double operations in the same order (compiled
without fused multiply-adds), or the splitmix64 stream, kept to 64 bits either way.

One *round* is:

1. **Grow.** ``k`` seed areas are drawn k-means++ style on position (each next seed
   with probability proportional to its squared distance from the seeds so far).
   The patch holding the fewest people then repeatedly takes the neighbouring
   unassigned area that least raises its spread of features (need and position), so
   patches grow at the same rate, stay compact and gather areas of similar need; each
   patch keeps a frontier list, so a step scans its boundary, not all its members.
   Patches boxed in below the band are merged into a neighbour and the most populous
   patch is split in two. Later rounds instead *kick* the best partition so far: a
   random patch and two of its neighbours are regrown from random seeds.
2. **Soft phase.** Single moves, then one sweep of pair regrowth (step 5), with the
   band priced instead of enforced: ``SOFT_PRICE`` per person outside it. A move that
   the band blocks but that lowers the spread enough can now be made; step 4 then
   pays the band back with chains of moves, which single moves under a strict band
   cannot reach (strategic oscillation).
3. **Improve.** Single boundary areas move to a neighbouring patch when that lowers
   the objective and keeps the patch they leave contiguous. A work list holds only the
   areas in or next to patches that changed, so a kick costs what it touched.
4. **Repair.** While a patch is outside the band, *ejection chains* push an area (or
   an area with the parts it would cut off) along a path of neighbouring patches:
   over-full patch -> ... -> patch with room, or the reverse for an under-full one.
5. **Pair regrowth.** Two neighbouring patches are regrown as two from two seed pairs;
   the best of the old and new splits is kept. Then improve again.

Outside the soft phase the objective is lexicographic: first the people outside the
band (below ``lo`` or above ``hi``), then the sum over patches of the weighted spread
of the area features around the patch means (need weighted by population, position by
``area_weight``, a blend of population and land). :class:`_State` keeps each patch's
members as a linked list and its weighted sums up to date, so a move costs O(1) to
price; contiguity is checked by a search inside the patch.

:func:`partition` shares ``n_starts`` rounds between two independent *chains* (each
with its own grown start and its own splitmix64 stream, both drawn from the caller's
seed), run one after the other, and keeps the better result. Each chain's answer
depends only on its stream, so the result is the same on every platform. The module
only sees arrays: a CSR neighbour list, population and an ``(n, 3)`` feature matrix
(need, x, y) built by :mod:`lacgeo.patches.partition`.

This file is one compilation unit: a compiled class can only extend one from another
module through a ``.pxd`` and Cython's ``cimport``, which plain Python cannot follow.
"""

import numpy as np

try:  # Cython reads this as its own module; without Cython, the stand-in keeps the file plain Python
    import cython
except ModuleNotFoundError:
    from . import _cython as cython

# the types the search declares: an area, patch or count; a real number; a 64-bit key
Index = cython.typedef(cython.Py_ssize_t)
Real = cython.typedef(cython.double)
Key = cython.typedef(cython.ulonglong)

MASK = cython.declare(Key, 0xFFFFFFFFFFFFFFFF)  # 64 bits: a no-op compiled, needed interpreted
GOLDEN = cython.declare(Key, 0x9E3779B97F4A7C15)
MIX1 = cython.declare(Key, 0xBF58476D1CE4E5B9)
MIX2 = cython.declare(Key, 0x94D049BB133111EB)
EPS = cython.declare(Real, 1e-9)
INFINITY = cython.declare(Real, float("inf"))

PAIR_SWEEPS = cython.declare(Index, 10)  # sweeps of pair regrowth per round (each stops early)
# Patches a kick regrows: a random one and up to this many less one of its neighbours.
# Regrowing every neighbour (5-6 on average) took 15% longer per call. Over 30 seeds on
# the 6 benchmark LAs it made the 4 small LAs' patches no better, and Wiltshire's ~0.015
# more homogeneous (between-share), where lacgeo is already far above spopt.
KICK_PATCHES = cython.declare(Index, 3)
# The soft phase's price of one person outside the band, in units of the spread (whose
# need term is population x squared standardised need), and its sweeps of pair regrowth.
# Over 40 seeds on the 6 benchmark LAs, prices 5, 8 and 12 gave mean between-shares
# within 0.003 of each other, about 0.027 above the strict search; 8 kept compactness
# best. Without the pair sweep the gain was about 0.005 smaller.
SOFT_PRICE = cython.declare(Real, 8.0)
SOFT_SWEEPS = cython.declare(Index, 1)
SOFT_KEY = cython.declare(Key, 0x5555555555555555)  # marks a pair key as the soft phase's


# -- small pure functions --------------------------------------------------------------


@cython.cfunc
@cython.exceptval(check=False)
@cython.inline
def _mix(z: Key) -> Key:
    """The splitmix64 finaliser: every input bit moves every output bit."""
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


@cython.cfunc
@cython.exceptval(check=False)
@cython.inline
def _penalty(pop: Real, lo: Real, hi: Real) -> Real:
    if pop < lo:
        return lo - pop
    if pop > hi:
        return pop - hi
    return 0.0


@cython.cfunc
@cython.exceptval(check=False)
@cython.inline
def _spread(s0: Real, sa: Real, a: Real, b: Real, c: Real, s2: Real) -> Real:
    """Weighted sum of squares of the features about their means, from the patch sums:
    need (``a``) weighted by population (total ``s0``), position (``b``, ``c``) by area
    weight (total ``sa``); ``s2`` is the weighted sum of squares."""
    if s0 > EPS:
        s2 -= a * a / s0
    if sa > EPS:
        s2 -= (b * b + c * c) / sa
    return s2 if s0 > EPS or sa > EPS else 0.0


@cython.cfunc
@cython.exceptval(check=False)
@cython.inline
def _lower(num: Real, den: Real, best_num: Real, best_den: Real, u: Index, best: Index) -> cython.bint:
    """Whether ``num / den`` is below ``best_num / best_den`` (positive denominators), ties
    going to the lower area number."""
    lhs: Real = num * best_den
    rhs: Real = best_num * den
    return lhs < rhs or (lhs == rhs and u < best)


@cython.cfunc
@cython.exceptval(check=False)
@cython.inline
def _better(pen: Real, cost: Real, best_pen: Real, best_cost: Real) -> cython.bint:
    """Whether a scored partition beats the best so far: band first, then cost."""
    return pen < best_pen - 1e-6 or (pen <= best_pen + 1e-6 and cost < best_cost)


def _rows(rows, n, dtype):
    """``rows`` zeroed arrays of ``n`` values in one block: a 2-D numpy array for the
    compiled search, which takes its rows as views (one allocation, not one per array),
    or a list of lists for Python (whose lists index faster than numpy arrays)."""
    if cython.compiled:
        return np.zeros((rows, n), dtype=dtype)
    zero = 0.0 if dtype == np.float64 else 0
    return [[zero] * n for _ in range(rows)]


# -- a partition and its growth -----------------------------------------------------


@cython.cclass
class _State:
    """A partition of one connected graph into ``k`` patches, with its patch sums.

    Inputs (read only): the CSR neighbour lists ``indptr``/``indices``, population
    ``pop``, position weight ``aw`` and the features the moves use, ``fn, fx, fy``
    (need, x, y). Per area: ``cn, cx, cy`` the weighted features and ``q`` their weighted
    sum of squares. Per patch: people ``s0``, position weight ``sa``, weighted feature
    sums ``sn, sx, sy``, weighted sum of squares ``s2`` and ``fp``, a fingerprint of its
    set of areas (the sum of their random ``key``).
    """

    n: Index
    k: Index
    gen: Index
    ftop: Index
    lo: Real
    hi: Real
    rng: Key
    indptr: cython.longlong[::1]
    indices: cython.longlong[::1]
    pop: Real[::1]
    aw: Real[::1]
    fn: Real[::1]
    fx: Real[::1]
    fy: Real[::1]
    cn: Real[::1]
    cx: Real[::1]
    cy: Real[::1]
    q: Real[::1]
    label: cython.longlong[::1]
    head: cython.longlong[::1]
    nxt: cython.longlong[::1]
    prv: cython.longlong[::1]
    size: cython.longlong[::1]
    seen: cython.longlong[::1]
    stack: cython.longlong[::1]
    s0: Real[::1]
    sa: Real[::1]
    sn: Real[::1]
    sx: Real[::1]
    sy: Real[::1]
    s2: Real[::1]
    key: Key[::1]
    fp: Key[::1]
    # scratch shared by growth and the search moves
    fhead: cython.longlong[::1]  # frontier list heads: one per patch, then two for pair regrowth
    fpool: cython.longlong[::1]
    fnext: cython.longlong[::1]
    queue: cython.longlong[::1]
    comp: cython.longlong[::1]
    dist: Real[::1]
    active: cython.char[::1]
    touched: cython.char[::1]
    side: cython.char[::1]

    @cython.cfunc
    def setup_state(self, indptr, indices, pop, aw, feats, k: Index, lo: Real, hi: Real):
        """Take the CSR lists, population, position weights and features (rows need, x, y)
        of the areas, and allocate the rest for ``k`` patches."""
        n: Index = len(pop)
        self.n, self.k, self.lo, self.hi, self.gen, self.ftop, self.rng = n, k, lo, hi, 0, 0, 0
        self.indptr, self.indices, self.pop, self.aw = indptr, indices, pop, aw
        f: cython.double[:, ::1] = feats
        self.fn, self.fx, self.fy = f[0], f[1], f[2]
        per_area: cython.longlong[:, ::1] = _rows(6, n, np.int64)
        self.label, self.nxt, self.prv = per_area[0], per_area[1], per_area[2]
        self.seen, self.stack, self.comp = per_area[3], per_area[4], per_area[5]
        per_patch: cython.longlong[:, ::1] = _rows(4, k + 2, np.int64)  # two more frontier heads: pair regrowth
        self.head, self.size, self.queue, self.fhead = per_patch[0], per_patch[1], per_patch[2], per_patch[3]
        per_link: cython.longlong[:, ::1] = _rows(2, len(indices) + 1, np.int64)
        self.fpool, self.fnext = per_link[0], per_link[1]
        area_sums: cython.double[:, ::1] = _rows(5, n, np.float64)
        self.cn, self.cx, self.cy, self.q, self.dist = (
            area_sums[0],
            area_sums[1],
            area_sums[2],
            area_sums[3],
            area_sums[4],
        )
        patch_sums: cython.double[:, ::1] = _rows(6, k, np.float64)
        self.s0, self.sa, self.s2 = patch_sums[0], patch_sums[1], patch_sums[2]
        self.sn, self.sx, self.sy = patch_sums[3], patch_sums[4], patch_sums[5]
        area_keys: cython.ulonglong[:, ::1] = _rows(1, n, np.uint64)
        patch_keys: cython.ulonglong[:, ::1] = _rows(1, k, np.uint64)
        self.key, self.fp = area_keys[0], patch_keys[0]
        area_flags: cython.char[:, ::1] = _rows(1, n, np.int8)
        patch_flags: cython.char[:, ::1] = _rows(2, k, np.int8)
        self.side, self.active, self.touched = area_flags[0], patch_flags[0], patch_flags[1]
        self.clear()  # labels, list links and heads -1; sums 0
        for i in range(n):  # each area's weighted features and weighted sum of squares
            self.cn[i] = self.pop[i] * self.fn[i]
            self.cx[i] = self.aw[i] * self.fx[i]
            self.cy[i] = self.aw[i] * self.fy[i]
            self.q[i] = self.pop[i] * self.fn[i] * self.fn[i] + self.aw[i] * (
                self.fx[i] * self.fx[i] + self.fy[i] * self.fy[i]
            )
        for i in range(n):  # the keys come from their own stream, seeded 0
            self.key[i] = self.rand()
        return 0

    # -- random stream (splitmix64) ------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def rand(self) -> Key:
        """splitmix64: a small, well-mixed generator that is the same everywhere."""
        self.rng = (self.rng + GOLDEN) & MASK
        return _mix(self.rng)

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def uniform(self) -> Real:
        return cython.cast(Real, self.rand() >> 11) * (1.0 / 9007199254740992.0)

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def below(self, n: Index) -> Index:
        return cython.cast(Index, self.rand() % cython.cast(Key, n))

    @cython.cfunc
    @cython.exceptval(check=False)
    def shuffle(self, out: cython.longlong[::1], n: Index) -> cython.void:
        """``out[:n]`` = a seeded random permutation of 0..n-1 (Fisher-Yates)."""
        for t in range(n):
            out[t] = t
        for t in range(n - 1, 0, -1):
            j = self.below(t + 1)
            tmp = out[t]
            out[t] = out[j]
            out[j] = tmp

    # -- bookkeeping -----------------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def clear(self) -> cython.void:
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
            self.sn[p] = 0.0
            self.sx[p] = 0.0
            self.sy[p] = 0.0

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def add(self, i: Index, p: Index) -> cython.void:
        self.s0[p] += self.pop[i]
        self.sa[p] += self.aw[i]
        self.sn[p] += self.cn[i]
        self.sx[p] += self.cx[i]
        self.sy[p] += self.cy[i]
        self.s2[p] += self.q[i]
        self.fp[p] = (self.fp[p] + self.key[i]) & MASK
        self.label[i] = p
        self.touched[p] = 1
        self.prv[i] = -1
        self.nxt[i] = self.head[p]
        if self.head[p] >= 0:
            self.prv[self.head[p]] = i
        self.head[p] = i
        self.size[p] += 1

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def remove(self, i: Index, p: Index) -> cython.void:
        self.s0[p] -= self.pop[i]
        self.sa[p] -= self.aw[i]
        self.sn[p] -= self.cn[i]
        self.sx[p] -= self.cx[i]
        self.sy[p] -= self.cy[i]
        self.s2[p] -= self.q[i]
        self.fp[p] = (self.fp[p] - self.key[i]) & MASK
        if self.prv[i] >= 0:
            self.nxt[self.prv[i]] = self.nxt[i]
        else:
            self.head[p] = self.nxt[i]
        if self.nxt[i] >= 0:
            self.prv[self.nxt[i]] = self.prv[i]
        self.label[i] = -1
        self.touched[p] = 1
        self.size[p] -= 1

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def move(self, i: Index, a: Index, b: Index) -> cython.void:
        self.remove(i, a)
        self.add(i, b)

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def patch_cost(self, p: Index) -> Real:
        return _spread(self.s0[p], self.sa[p], self.sn[p], self.sx[p], self.sy[p], self.s2[p])

    @cython.cfunc
    @cython.exceptval(check=False)
    def total_penalty(self) -> Real:
        t: Real = 0.0
        for p in range(self.k):
            t += _penalty(self.s0[p], self.lo, self.hi)
        return t

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def pair_after(
        self, a: Index, b: Index, w: Real, wa: Real, w0: Real, w1: Real, w2: Real, wq: Real
    ) -> tuple[Real, Real]:
        """(band penalty, cost) of patches ``a`` and ``b`` if areas with population ``w``,
        area weight ``wa``, weighted feature sums ``w0, w1, w2`` and weighted sum of squares
        ``wq`` moved from a to b."""
        pen: Real = _penalty(self.s0[a] - w, self.lo, self.hi) + _penalty(self.s0[b] + w, self.lo, self.hi)
        cost: Real = _spread(
            self.s0[a] - w, self.sa[a] - wa, self.sn[a] - w0, self.sx[a] - w1, self.sy[a] - w2, self.s2[a] - wq
        ) + _spread(self.s0[b] + w, self.sa[b] + wa, self.sn[b] + w0, self.sx[b] + w1, self.sy[b] + w2, self.s2[b] + wq)
        return pen, cost

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def join_cost(self, u: Index, w: Real, wa: Real, m0: Real, m1: Real, m2: Real) -> tuple[Real, Real]:
        """Rise in spread when area ``u`` joins a patch of population ``w`` and area weight
        ``wa`` whose feature means are ``m0, m1, m2``, as a fraction (numerator,
        denominator): growth compares fractions without dividing."""
        g0: Real = self.fn[u] - m0
        g1: Real = self.fx[u] - m1
        g2: Real = self.fy[u] - m2
        dp: Real = w + self.pop[u] + EPS
        da: Real = wa + self.aw[u] + EPS
        return g0 * g0 * self.pop[u] * w * da + (g1 * g1 + g2 * g2) * self.aw[u] * wa * dp, dp * da

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def leave(self, i: Index, a: Index) -> tuple[Real, Real]:
        """Band penalty and cost of patch ``a`` once area ``i`` has left it (the first half
        of :meth:`pair_after` for one area; the same whichever patch ``i`` joins)."""
        return _penalty(self.s0[a] - self.pop[i], self.lo, self.hi), _spread(
            self.s0[a] - self.pop[i],
            self.sa[a] - self.aw[i],
            self.sn[a] - self.cn[i],
            self.sx[a] - self.cx[i],
            self.sy[a] - self.cy[i],
            self.s2[a] - self.q[i],
        )

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def join(self, i: Index, b: Index) -> tuple[Real, Real]:
        """Band penalty and cost of patch ``b`` once area ``i`` has joined it."""
        return _penalty(self.s0[b] + self.pop[i], self.lo, self.hi), _spread(
            self.s0[b] + self.pop[i],
            self.sa[b] + self.aw[i],
            self.sn[b] + self.cn[i],
            self.sx[b] + self.cx[i],
            self.sy[b] + self.cy[i],
            self.s2[b] + self.q[i],
        )

    @cython.cfunc
    @cython.exceptval(check=False)
    def reach(self, start: Index, p: Index, skip: Index, out: Index) -> Index:
        """Mark the areas of patch ``p`` (except ``skip``) connected to ``start`` with the
        current generation; append them to ``comp`` from ``out``. Returns how many."""
        top: Index = 1
        count: Index = 0
        self.seen[start] = self.gen
        self.stack[0] = start
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

    @cython.cfunc
    @cython.exceptval(check=False)
    def can_leave(self, i: Index, a: Index) -> cython.bint:
        """Whether patch ``a`` stays contiguous (and non-empty) without area ``i``."""
        if self.size[a] <= 1:
            return False
        for e in range(self.indptr[i], self.indptr[i + 1]):
            u = self.indices[e]
            if self.label[u] == a:
                self.gen += 1
                return self.reach(u, a, i, 0) == self.size[a] - 1
        return False

    @cython.cfunc
    @cython.exceptval(check=False)
    def load(self, labels: cython.longlong[::1]) -> cython.void:
        """Start from a given partition (labels 0..k-1, each patch contiguous)."""
        self.clear()
        for i in range(self.n):
            self.add(i, labels[i])

    # -- grow ------------------------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def grow(self) -> cython.void:
        """A contiguous start: k-means++ seeds on position, best-fit growth, then balance."""
        n: Index = self.n
        k: Index = self.k
        total: Real = 0.0
        self.clear()
        for i in range(n):
            self.dist[i] = INFINITY
        for s in range(k):
            c = -1
            if s == 0:
                c = self.below(n)
            else:
                if total > 0.0:
                    r = self.uniform() * total
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
                dx = self.fx[i] - self.fx[c]
                dy = self.fy[i] - self.fy[c]
                d = 0.0 if self.label[i] >= 0 else dx * dx + dy * dy
                if d < self.dist[i]:
                    self.dist[i] = d
                total += self.dist[i]
            self.queue[s] = s
        self.grow_patches(k, False)
        self.balance()

    @cython.cfunc
    @cython.exceptval(check=False)
    def push_frontier(self, m: Index, p: Index, restrict: cython.bint) -> cython.void:
        """Add the unassigned neighbours of area ``m`` (only current-generation ones if
        ``restrict``) to the frontier list of patch ``p``."""
        for e in range(self.indptr[m], self.indptr[m + 1]):
            u = self.indices[e]
            if self.label[u] >= 0 or (restrict and self.seen[u] != self.gen):
                continue
            self.fpool[self.ftop] = u
            self.fnext[self.ftop] = self.fhead[p]
            self.fhead[p] = self.ftop
            self.ftop += 1

    @cython.cfunc
    @cython.exceptval(check=False)
    def best_join(
        self, h: Index, w: Real, wa: Real, n1: Real, x1: Real, y1: Real, first: Index, by_side: cython.bint
    ) -> Index:
        """The area on frontier list ``h`` that least raises the spread of a growing patch
        with population ``w``, area weight ``wa`` and weighted sums ``n1, x1, y1`` (means
        from area ``first`` while a weight is 0); -1 if none is left. Areas taken since
        they were listed (``label`` set, or ``side`` set if ``by_side``) are unlinked on
        the way."""
        best: Index = -1
        prev: Index = -1
        f: Index = self.fhead[h]
        best_cost: Real = 1.0
        best_den: Real = 1.0
        m0: Real = n1 / w if w > EPS else self.fn[first]
        m1: Real = x1 / wa if wa > EPS else self.fx[first]
        m2: Real = y1 / wa if wa > EPS else self.fy[first]
        while f >= 0:
            u = self.fpool[f]
            if (self.side[u] & 3) != 0 if by_side else self.label[u] >= 0:  # taken: unlink
                if prev < 0:
                    self.fhead[h] = self.fnext[f]
                else:
                    self.fnext[prev] = self.fnext[f]
                f = self.fnext[f]
                continue
            cost, den = self.join_cost(u, w, wa, m0, m1, m2)
            if best < 0 or _lower(cost, den, best_cost, best_den, u, best):
                best, best_cost, best_den = u, cost, den
            prev = f
            f = self.fnext[f]
        return best

    @cython.cfunc
    @cython.exceptval(check=False)
    def grow_patches(self, count: Index, restrict: cython.bint) -> cython.void:
        """Grow the patches listed in ``queue[:count]`` over unassigned areas (only those
        marked with the current generation if ``restrict``): the patch with the fewest
        people takes the neighbouring area that least raises its spread, until no listed
        patch has an unassigned neighbour.

        Each patch keeps a frontier list of candidate areas (an area taken meanwhile is
        dropped when met), so a step scans the boundary rather than every member."""
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
            best = self.best_join(p, self.s0[p], self.sa[p], self.sn[p], self.sx[p], self.sy[p], self.head[p], False)
            if best < 0:
                self.active[p] = 0
            else:
                self.add(best, p)
                self.push_frontier(best, p, restrict)

    @cython.cfunc
    @cython.exceptval(check=False)
    def balance(self) -> cython.void:
        """Undo growth that got boxed in: while some patch is below the band, merge it into
        its smallest neighbouring patch and split the most populous patch in two, for as
        long as that brings the patches nearer the band."""
        k: Index = self.k
        for _ in range(2 * k):
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
                    lb = self.label[self.indices[e]]
                    if lb != small and (r < 0 or self.s0[lb] < self.s0[r] or (self.s0[lb] == self.s0[r] and lb < r)):
                        r = lb
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

    @cython.cfunc
    @cython.exceptval(check=False)
    def split(self, big: Index, new: Index) -> cython.void:
        """Regrow patch ``big`` (contiguous, two areas or more) as two patches, ``big`` and
        the empty ``new``, from two of its areas far apart."""
        cnt: Index = 0
        a: Index = -1
        b: Index = -1
        mx = self.sx[big] / self.sa[big] if self.sa[big] > EPS else self.fx[self.head[big]]
        my = self.sy[big] / self.sa[big] if self.sa[big] > EPS else self.fy[self.head[big]]
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
            dx = self.fx[m] - mx
            dy = self.fy[m] - my
            d = dx * dx + dy * dy
            if d > far or (d == far and m < a):
                far, a = d, m
        far = -1.0
        for t in range(cnt):
            m = self.comp[t]
            if m == a:
                continue
            dx = self.fx[m] - self.fx[a]
            dy = self.fy[m] - self.fy[a]
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


# -- the search ---------------------------------------------------------------------


@cython.final
@cython.cclass
class _Search(_State):
    """A :class:`_State` with the moves that refine it and the best partition found;
    ``gn, gx, gy`` are the features a result is scored on (``fn, fx, fy`` those the
    moves use)."""

    whead: Index
    wtail: Index
    n_failed: Index
    n_slots: Index
    max_depth: Index
    tick: Index
    best_pen: Real
    best_cost: Real
    price: Real
    failed: Key[::1]
    fp_before: Key[::1]
    best: cython.longlong[::1]
    perm: cython.longlong[::1]
    work: cython.longlong[::1]
    bad: cython.longlong[::1]
    parent: cython.longlong[::1]
    depth: cython.longlong[::1]
    path: cython.longlong[::1]
    block: cython.longlong[::1]
    best_block: cython.longlong[::1]
    comp_start: cython.longlong[::1]
    moves: cython.longlong[::1]
    priced: cython.longlong[::1]  # tick at which improve last priced a move into each patch
    sums: Real[::1]
    gn: Real[::1]
    gx: Real[::1]
    gy: Real[::1]
    padj: cython.char[::1]
    dirty: cython.char[::1]
    dirty_next: cython.char[::1]
    dirty_before: cython.char[::1]
    touched_before: cython.char[::1]
    inq: cython.char[::1]

    @cython.cfunc
    def setup(self, indptr, indices, pop, aw, feats, score_feats, k: Index, lo: Real, hi: Real, max_depth: Index):
        """:meth:`_State.setup_state`, plus the search's own arrays."""
        self.setup_state(indptr, indices, pop, aw, feats, k, lo, hi)
        n: Index = self.n
        slots: Index = 1024  # a power of two, at least 64 per patch
        while slots < 64 * k:
            slots *= 2
        g: cython.double[:, ::1] = score_feats
        self.gn, self.gx, self.gy = g[0], g[1], g[2]
        self.max_depth = max_depth
        self.best_pen = self.best_cost = INFINITY
        self.whead = self.wtail = self.tick = self.n_failed = 0
        self.n_slots = slots
        self.price = 0.0
        per_area: cython.longlong[:, ::1] = _rows(6, n + 1, np.int64)
        # best (the answer) holds exactly n labels; the others may have the one spare slot
        self.best, self.perm, self.block, self.best_block = per_area[0][:n], per_area[1], per_area[2], per_area[3]
        self.work, self.comp_start = per_area[4], per_area[5]
        per_patch: cython.longlong[:, ::1] = _rows(5, k + 1, np.int64)
        self.bad, self.parent, self.depth, self.priced, self.path = (
            per_patch[0],
            per_patch[1],
            per_patch[2],
            per_patch[3],
            per_patch[4],
        )
        moves: cython.longlong[:, ::1] = _rows(1, 3 * (max_depth + 1) * n, np.int64)
        sums: cython.double[:, ::1] = _rows(1, 6 * k, np.float64)
        self.moves, self.sums = moves[0], sums[0]
        area_flags: cython.char[:, ::1] = _rows(1, n, np.int8)
        pair_flags: cython.char[:, ::1] = _rows(1, k * k, np.int8)
        patch_flags: cython.char[:, ::1] = _rows(4, k, np.int8)
        self.inq, self.padj = area_flags[0], pair_flags[0]
        self.dirty, self.dirty_next, self.dirty_before, self.touched_before = (
            patch_flags[0],
            patch_flags[1],
            patch_flags[2],
            patch_flags[3],
        )
        failed: cython.ulonglong[:, ::1] = _rows(1, slots, np.uint64)
        patch_keys: cython.ulonglong[:, ::1] = _rows(1, k, np.uint64)
        self.failed, self.fp_before = failed[0], patch_keys[0]
        return 0

    @cython.cfunc
    @cython.exceptval(check=False)
    def patch_adjacency(self) -> cython.void:
        """``padj[a * k + b]`` = 1 when patches ``a`` and ``b`` (a != b) share a boundary."""
        k: Index = self.k
        for t in range(k * k):
            self.padj[t] = 0
        for i in range(self.n):
            la = self.label[i]
            for e in range(self.indptr[i], self.indptr[i + 1]):
                lb = self.label[self.indices[e]]
                if lb != la:
                    self.padj[la * k + lb] = 1

    # -- improve -------------------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def queue_area(self, u: Index) -> cython.void:
        """Put area ``u`` on the work list, once."""
        if not self.inq[u]:
            self.inq[u] = 1
            self.work[self.wtail] = u
            self.wtail = (self.wtail + 1) % (self.n + 1)

    @cython.cfunc
    @cython.exceptval(check=False)
    def push_near(self, p: Index) -> cython.void:
        """Queue (once) every area of patch ``p`` and every neighbour of one."""
        m: Index = self.head[p]
        while m >= 0:
            for e in range(self.indptr[m], self.indptr[m + 1]):
                self.queue_area(self.indices[e])
            self.queue_area(m)
            m = self.nxt[m]

    @cython.cfunc
    @cython.exceptval(check=False)
    def improve(self, max_passes: Index) -> cython.void:
        """Greedy single-area moves until none lowers (penalty, cost), or in the soft
        phase ``cost + price x penalty``.

        Only areas in or next to a patch changed since the last call (``touched``) are
        tried, in a seeded random order; a move queues the areas of the two patches it
        changed and their neighbours again. At most ``max_passes * n`` tries."""
        n: Index = self.n
        tries: Index = 0
        self.shuffle(self.perm, n)
        self.whead = self.wtail = self.ftop = 0
        for t in range(n):
            i = self.perm[t]
            self.inq[i] = self.touched[self.label[i]]
            if not self.inq[i]:
                for e in range(self.indptr[i], self.indptr[i + 1]):
                    if self.touched[self.label[self.indices[e]]]:
                        self.inq[i] = 1
                        break
            if self.inq[i]:
                self.work[self.wtail] = i
                self.wtail += 1
        while self.whead != self.wtail and tries < max_passes * n:
            i = self.work[self.whead]
            self.whead = (self.whead + 1) % (n + 1)
            self.inq[i] = 0
            tries += 1
            a = self.label[i]
            best_b = -1
            best_pen = 0.0
            best_cost = 0.0
            # leaving a costs the same whichever patch i joins; each patch is priced once
            left_pen, left_cost = self.leave(i, a)
            pen_a = _penalty(self.s0[a], self.lo, self.hi)
            cost_a = self.patch_cost(a)
            self.tick += 1
            self.priced[a] = self.tick
            for e in range(self.indptr[i], self.indptr[i + 1]):
                b = self.label[self.indices[e]]
                if self.priced[b] == self.tick:
                    continue
                self.priced[b] = self.tick
                join_pen, join_cost = self.join(i, b)
                dpen = left_pen + join_pen - pen_a - _penalty(self.s0[b], self.lo, self.hi)
                dcost = left_cost + join_cost - cost_a - self.patch_cost(b)
                if self.price > 0.0:  # soft phase: the band is a price, not a rule
                    dcost += self.price * dpen
                    dpen = 0.0
                if dpen < -EPS or (dpen <= EPS and dcost < -EPS):
                    if (
                        best_b < 0
                        or dpen < best_pen
                        or (dpen == best_pen and dcost < best_cost)
                        or (dpen == best_pen and dcost == best_cost and b < best_b)
                    ):
                        best_b, best_pen, best_cost = b, dpen, dcost
            if best_b >= 0 and self.can_leave(i, a):
                self.move(i, a, best_b)
                self.push_near(a)
                self.push_near(best_b)
        for t in range(self.k):
            self.touched[t] = 0
        while self.whead != self.wtail:  # leave no area marked as queued
            self.inq[self.work[self.whead]] = 0
            self.whead = (self.whead + 1) % (n + 1)

    # -- ejection chains -----------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def make_block(self, i: Index, a: Index) -> Index:
        """Fill ``block`` with the areas that leave ``a`` with ``i``: ``i`` and any parts of
        ``a`` it would cut off (``a`` keeps its most populous part). Returns the count, or 0
        when ``i`` is all of ``a``."""
        ncomp: Index = 0
        used: Index = 0
        keep: Index = 0
        size: Index = 1
        keep_pop: Real = -1.0
        if self.size[a] <= 1:
            return 0
        self.gen += 1
        for e in range(self.indptr[i], self.indptr[i + 1]):
            u = self.indices[e]
            if self.label[u] == a and self.seen[u] != self.gen:
                self.comp_start[ncomp] = used
                count = self.reach(u, a, i, used)
                cp = 0.0
                for j in range(used, used + count):
                    cp += self.pop[self.comp[j]]
                if cp > keep_pop:
                    keep_pop, keep = cp, ncomp
                used += count
                ncomp += 1
        self.comp_start[ncomp] = used
        self.block[0] = i
        for c in range(ncomp):
            if c == keep:
                continue
            for j in range(self.comp_start[c], self.comp_start[c + 1]):
                self.block[size] = self.comp[j]
                size += 1
        return size

    @cython.cfunc
    @cython.exceptval(check=False)
    def choose_block(self, a: Index, b: Index) -> Index:
        """Into ``best_block``: the move from ``a`` to ``b`` (one area, or one area with the
        parts it would cut off) that best lowers (penalty, cost) of the two patches."""
        i: Index = self.head[a]
        best_size: Index = 0
        best_pen: Real = INFINITY
        best_cost: Real = INFINITY
        while i >= 0:
            touches = False
            for e in range(self.indptr[i], self.indptr[i + 1]):
                if self.label[self.indices[e]] == b:
                    touches = True
                    break
            if touches:
                size = self.make_block(i, a)
                if size > 0:
                    w = wa = w0 = w1 = w2 = wq = 0.0
                    for j in range(size):
                        v = self.block[j]
                        w += self.pop[v]
                        wa += self.aw[v]
                        w0 += self.cn[v]
                        w1 += self.cx[v]
                        w2 += self.cy[v]
                        wq += self.q[v]
                    pen, cost = self.pair_after(a, b, w, wa, w0, w1, w2, wq)
                    if (
                        pen < best_pen
                        or (pen == best_pen and cost < best_cost)
                        or (pen == best_pen and cost == best_cost and i < self.best_block[0])
                    ):
                        best_pen, best_cost, best_size = pen, cost, size
                        for j in range(size):
                            self.best_block[j] = self.block[j]
            i = self.nxt[i]
        return best_size

    @cython.cfunc
    @cython.exceptval(check=False)
    def push(self, length: Index) -> Index:
        """Move one block along each hop of ``path[:length]``; the number of single moves
        logged in ``moves``, or -1 (state restored) if some hop has no legal block."""
        done: Index = 0
        for h in range(length - 1):
            a = self.path[h]
            b = self.path[h + 1]
            size = self.choose_block(a, b)
            if size == 0:
                self.undo(done)
                return -1
            for j in range(size):
                self.move(self.best_block[j], a, b)
                self.moves[3 * done] = self.best_block[j]
                self.moves[3 * done + 1] = a
                self.moves[3 * done + 2] = b
                done += 1
        return done

    @cython.cfunc
    @cython.exceptval(check=False)
    def undo(self, done: Index) -> cython.void:
        for t in range(done - 1, -1, -1):
            self.move(self.moves[3 * t], self.moves[3 * t + 2], self.moves[3 * t + 1])

    @cython.cfunc
    @cython.exceptval(check=False)
    def chain(self, r: Index, over: cython.bint) -> Index:
        """Write into ``path`` the patches from the BFS root to ``r`` (root first when the
        root is over-full, so areas flow outwards; ``r`` first otherwise). Returns the length."""
        length: Index = 0
        x: Index = r
        while x >= 0:
            self.path[length] = x
            length += 1
            x = self.parent[x]
        if over:
            for t in range(length // 2):
                tmp = self.path[t]
                self.path[t] = self.path[length - 1 - t]
                self.path[length - 1 - t] = tmp
        return length

    @cython.cfunc
    @cython.exceptval(check=False)
    def repair_band(self, max_rounds: Index) -> cython.void:
        """Ejection chains from each out-of-band patch until the band penalty stops falling."""
        k: Index = self.k
        for _ in range(max_rounds):
            if self.total_penalty() <= EPS:
                return
            self.patch_adjacency()
            # out-of-band patches, worst first (ties: lower patch number first)
            nbad = 0
            for p in range(k):
                if _penalty(self.s0[p], self.lo, self.hi) > EPS:
                    t = nbad
                    while t > 0 and (
                        _penalty(self.s0[self.bad[t - 1]], self.lo, self.hi) < _penalty(self.s0[p], self.lo, self.hi)
                    ):
                        self.bad[t] = self.bad[t - 1]
                        t -= 1
                    self.bad[t] = p
                    nbad += 1
            improved = False
            for s in range(nbad):
                p = self.bad[s]
                over = self.s0[p] > self.hi
                for t in range(k):
                    self.parent[t] = -2
                self.parent[p] = -1
                self.depth[p] = 0
                self.queue[0] = p
                head, tail = 0, 1
                while head < tail and not improved:
                    qn = self.queue[head]
                    head += 1
                    if self.depth[qn] >= self.max_depth:
                        continue
                    for r in range(k):
                        if not self.padj[qn * k + r] or self.parent[r] != -2:
                            continue
                        self.parent[r] = qn
                        self.depth[r] = self.depth[qn] + 1
                        self.queue[tail] = r
                        tail += 1
                        length = self.chain(r, over)
                        before = self.total_penalty()
                        done = self.push(length)
                        if done < 0:
                            continue
                        if self.total_penalty() < before - EPS:
                            improved = True
                            break
                        self.undo(done)
                if improved:
                    break
            if not improved:
                return

    # -- pair regrowth -------------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def push_side(self, v: Index, t: Index) -> cython.void:
        """Add the neighbours of ``v`` inside the pair being regrown (current generation),
        not yet on a side nor listed for side ``t``, to that side's frontier list
        (``fhead[k + t]``). ``side`` holds the side (1 or 2) in its low bits and "listed
        for side t" in bit 2 + t."""
        h: Index = self.k + t
        listed: cython.char = 4 << t
        for e in range(self.indptr[v], self.indptr[v + 1]):
            u = self.indices[e]
            if self.seen[u] == self.gen and not (self.side[u] & (3 | listed)):
                self.side[u] |= listed
                self.fpool[self.ftop] = u
                self.fnext[self.ftop] = self.fhead[h]
                self.fhead[h] = self.ftop
                self.ftop += 1

    @cython.cfunc
    @cython.exceptval(check=False)
    def grow_two(self, cnt: Index, s1: Index, s2: Index) -> tuple[Real, Real]:
        """Split the areas marked with the current generation (a connected union of two
        patches) into two, grown from ``s1`` and ``s2`` as in :meth:`grow_patches`, into
        ``side`` (1 or 2) without touching the partition. Returns the split's band
        penalty and cost."""
        k: Index = self.k
        # each side's population, position weight and weighted feature sums
        p1: Real = self.pop[s1]
        a1: Real = self.aw[s1]
        n1: Real = self.cn[s1]
        x1: Real = self.cx[s1]
        y1: Real = self.cy[s1]
        p2: Real = self.pop[s2]
        a2: Real = self.aw[s2]
        n2: Real = self.cn[s2]
        x2: Real = self.cx[s2]
        y2: Real = self.cy[s2]
        live1: cython.bint = True
        live2: cython.bint = True
        self.ftop = 0
        self.side[s1] = 1
        self.side[s2] = 2
        self.fhead[k] = -1
        self.fhead[k + 1] = -1
        self.push_side(s1, 0)
        self.push_side(s2, 1)
        while live1 or live2:
            if live1 and (not live2 or p1 <= p2):
                best = self.best_join(k, p1, a1, n1, x1, y1, s1, True)
                if best < 0:
                    live1 = False
                    continue
                p1 += self.pop[best]
                a1 += self.aw[best]
                n1 += self.cn[best]
                x1 += self.cx[best]
                y1 += self.cy[best]
                t = 0
            else:
                best = self.best_join(k + 1, p2, a2, n2, x2, y2, s2, True)
                if best < 0:
                    live2 = False
                    continue
                p2 += self.pop[best]
                a2 += self.aw[best]
                n2 += self.cn[best]
                x2 += self.cx[best]
                y2 += self.cy[best]
                t = 1
            self.side[best] |= t + 1
            self.push_side(best, t)
        return self.side_cost(cnt)

    @cython.cfunc
    @cython.exceptval(check=False)
    def side_cost(self, cnt: Index) -> tuple[Real, Real]:
        """Band penalty and cost of the two patches that ``side`` makes of the areas
        ``comp[:cnt]``, summed afresh."""
        p1: Real = 0.0
        a1: Real = 0.0
        n1: Real = 0.0
        x1: Real = 0.0
        y1: Real = 0.0
        q1: Real = 0.0
        p2: Real = 0.0
        a2: Real = 0.0
        n2: Real = 0.0
        x2: Real = 0.0
        y2: Real = 0.0
        q2: Real = 0.0
        for m in range(cnt):
            v = self.comp[m]
            if (self.side[v] & 3) == 1:
                p1 += self.pop[v]
                a1 += self.aw[v]
                n1 += self.cn[v]
                x1 += self.cx[v]
                y1 += self.cy[v]
                q1 += self.q[v]
            else:
                p2 += self.pop[v]
                a2 += self.aw[v]
                n2 += self.cn[v]
                x2 += self.cx[v]
                y2 += self.cy[v]
                q2 += self.q[v]
        return (
            _penalty(p1, self.lo, self.hi) + _penalty(p2, self.lo, self.hi),
            _spread(p1, a1, n1, x1, y1, q1) + _spread(p2, a2, n2, x2, y2, q2),
        )

    @cython.cfunc
    @cython.exceptval(check=False)
    @cython.inline
    def lowers(self, pen: Real, cost: Real, best_pen: Real, best_cost: Real) -> cython.bint:
        """Whether a split beats the best so far: band first, then cost; in the soft phase
        by ``cost + price x penalty``."""
        if self.price > 0.0:
            return cost + self.price * pen < best_cost + self.price * best_pen - EPS
        return pen < best_pen - EPS or (pen <= best_pen + EPS and cost < best_cost - EPS)

    @cython.cfunc
    @cython.exceptval(check=False)
    def pair_key(self, a: Index, b: Index) -> Key:
        """A key for the unordered pair of the area sets of patches ``a`` and ``b`` (never 0),
        different in the soft phase, where a split can fail that the strict rule would take."""
        x: Key = self.fp[a]
        y: Key = self.fp[b]
        key: Key = _mix(x) ^ y if x < y else _mix(y) ^ x
        if self.price > 0.0:
            key ^= SOFT_KEY
        return key if key != 0 else 1

    @cython.cfunc
    @cython.exceptval(check=False)
    def failed_slot(self, key: Key) -> Index:
        """The slot of ``key`` in the table of failed pair splits, or the empty slot it would take."""
        mask: Index = self.n_slots - 1
        slot: Index = cython.cast(Index, key & cython.cast(Key, mask))
        while self.failed[slot] != 0 and self.failed[slot] != key:
            slot = (slot + 1) & mask
        return slot

    @cython.cfunc
    @cython.exceptval(check=False)
    def remember_failed(self, key: Key) -> cython.void:
        """Note that regrowing this pair of area sets found nothing better (emptying a full table)."""
        if 2 * (self.n_failed + 1) > self.n_slots:
            for t in range(self.n_slots):
                self.failed[t] = 0
            self.n_failed = 0
        self.failed[self.failed_slot(key)] = key
        self.n_failed += 1

    @cython.cfunc
    @cython.exceptval(check=False)
    def regrow_pair(self, a: Index, b: Index) -> cython.bint:
        """Re-split the union of neighbouring patches ``a`` and ``b`` by growing two patches
        from two seed pairs (farthest apart; lowest and highest need). Keep the best of
        the old and the new splits by (penalty, cost), or by the soft phase's priced
        sum (see :meth:`lowers`); return whether it changed.

        Every choice (seeds, growth, comparison) breaks ties by area number, so the
        outcome depends only on the two sets of areas, not on how they are listed. A
        pair of sets already tried without success (iterated local search revisits many)
        is therefore skipped: the answer would be the same. So is a pair this method
        has just re-split, as regrowing it again would find the same splits."""
        cnt: Index = 0
        first: Index = self.n
        adjacent: cython.bint = False
        best_trial: Index = -1
        key: Key = self.pair_key(a, b)
        if self.failed[self.failed_slot(key)] == key:
            return False
        self.gen += 1
        for t in range(2):
            p = a if t == 0 else b
            m = self.head[p]
            while m >= 0:
                self.comp[cnt] = m
                self.block[cnt] = p
                self.seen[m] = self.gen
                if m < first:
                    first = m
                cnt += 1
                m = self.nxt[m]
        if cnt < 3:
            return False
        # earlier moves in a sweep may have parted a and b: the union must be connected
        for m in range(cnt):
            if self.block[m] == a:
                t = self.comp[m]
                for e in range(self.indptr[t], self.indptr[t + 1]):
                    if self.label[self.indices[e]] == b:
                        adjacent = True
                        break
                if adjacent:
                    break
        if not adjacent:
            return False
        # the current split, summed afresh so that it compares like for like with a new one
        for t in range(cnt):
            self.side[self.comp[t]] = 1 if self.block[t] == a else 2
        best_pen, best_cost = self.side_cost(cnt)
        for t in range(cnt):
            self.side[self.comp[t]] = 0
        for trial in range(2):
            s1 = s2 = first
            if trial == 0:  # the two areas farthest apart (one pass: farthest from the first, then from it)
                for t in range(2):
                    far = -1.0
                    for m in range(cnt):
                        p = self.comp[m]
                        dx = self.fx[p] - self.fx[s1]
                        dy = self.fy[p] - self.fy[s1]
                        d = dx * dx + dy * dy
                        if d > far or (d == far and p < s2):
                            far, s2 = d, p
                    if t == 0:
                        s1 = s2
            else:  # the lowest- and highest-need areas
                lo_need = hi_need = self.fn[first]
                for m in range(cnt):
                    p = self.comp[m]
                    d = self.fn[p]
                    if d < lo_need or (d == lo_need and p < s1):
                        lo_need, s1 = d, p
                    if d > hi_need or (d == hi_need and p < s2):
                        hi_need, s2 = d, p
            if s1 == s2:
                continue
            pen, cost = self.grow_two(cnt, s1, s2)
            if self.lowers(pen, cost, best_pen, best_cost):
                best_pen, best_cost, best_trial = pen, cost, trial
                for m in range(cnt):
                    self.best_block[m] = a if (self.side[self.comp[m]] & 3) == 1 else b
            for m in range(cnt):
                self.side[self.comp[m]] = 0
        if best_trial < 0:
            self.remember_failed(key)
            if self.price > 0.0 and best_pen == 0.0:
                # both patches in the band: no split beat them at a price, so none beats them
                # under the strict rule either (it needs a split in the band with lower cost)
                self.remember_failed(key ^ SOFT_KEY)
            return False
        for m in range(cnt):
            if self.best_block[m] != self.block[m]:
                self.move(self.comp[m], self.block[m], self.best_block[m])
        # the same two sets would grow the same splits again, none better than this one
        self.remember_failed(self.pair_key(a, b))
        return True

    @cython.cfunc
    @cython.exceptval(check=False)
    def regrow_pairs(self, max_sweeps: Index, from_dirty: cython.bint) -> cython.void:
        """Sweeps of :meth:`regrow_pair` over every pair of neighbouring patches (only pairs
        touching a patch marked ``dirty`` if ``from_dirty``), in a seeded random order, until
        a sweep changes nothing."""
        k: Index = self.k
        for sweep in range(max_sweeps):
            self.patch_adjacency()
            self.shuffle(self.bad, k)
            changed = False
            for t in range(k):
                self.dirty_next[t] = 0
            for t in range(k):
                a = self.bad[t]
                for b in range(k):
                    if b == a or not self.padj[a * k + b]:
                        continue
                    if b < a and sweep == 0 and not from_dirty:
                        continue  # each pair once in the first sweep
                    if (sweep > 0 or from_dirty) and not (self.dirty[a] or self.dirty[b]):
                        continue  # neither patch changed since this pair was last tried
                    if self.regrow_pair(a, b):
                        changed = True
                        self.dirty_next[a] = 1
                        self.dirty_next[b] = 1
            if not changed:
                return
            for t in range(k):
                self.dirty[t] = self.dirty_next[t]

    # -- rounds --------------------------------------------------------------------

    @cython.cfunc
    @cython.exceptval(check=False)
    def soften(self, from_dirty: cython.bint) -> cython.void:
        """The soft phase: single moves and a sweep of pair regrowth with the band priced
        (``SOFT_PRICE`` per person outside it). Afterwards ``touched`` and ``dirty`` mark the
        patches changed before or during it, for the strict moves that follow."""
        for p in range(self.k):
            self.touched_before[p] = self.touched[p]
            self.dirty_before[p] = self.dirty[p]
            self.fp_before[p] = self.fp[p]
        self.price = SOFT_PRICE
        self.improve(50)
        self.regrow_pairs(SOFT_SWEEPS, from_dirty)
        self.price = 0.0
        for p in range(self.k):
            self.touched[p] = 1 if self.touched_before[p] or self.fp[p] != self.fp_before[p] else 0
            self.dirty[p] = 1 if self.dirty[p] or self.dirty_before[p] else 0

    @cython.cfunc
    @cython.exceptval(check=False)
    def refine(self, from_dirty: cython.bint) -> cython.void:
        self.soften(from_dirty)
        self.improve(50)
        if self.total_penalty() > EPS:
            self.repair_band(200)
            self.improve(50)
        self.regrow_pairs(PAIR_SWEEPS, from_dirty)
        self.improve(50)

    @cython.cfunc
    @cython.exceptval(check=False)
    def kick(self) -> cython.void:
        """Perturb: regrow a random patch and up to ``KICK_PATCHES - 1`` random neighbours
        of it from random seeds, marking them ``dirty`` for the pair sweeps that follow."""
        k: Index = self.k
        count: Index = 1
        cnt: Index = 0
        p = self.below(k)
        for t in range(k):
            self.dirty[t] = 0
        self.dirty[p] = 1
        self.parent[0] = p
        m = self.head[p]
        while m >= 0:
            for e in range(self.indptr[m], self.indptr[m + 1]):
                lb = self.label[self.indices[e]]
                if not self.dirty[lb]:
                    self.dirty[lb] = 1
                    self.parent[count] = lb
                    count += 1
            m = self.nxt[m]
        if count > KICK_PATCHES:  # keep a random few of the neighbours
            for t in range(1, KICK_PATCHES):
                c = t + self.below(count - t)
                lb = self.parent[t]
                self.parent[t] = self.parent[c]
                self.parent[c] = lb
            for t in range(KICK_PATCHES, count):
                self.dirty[self.parent[t]] = 0
            count = KICK_PATCHES
        self.gen += 1
        for t in range(count):
            lb = self.parent[t]
            while self.head[lb] >= 0:
                m = self.head[lb]
                self.comp[cnt] = m
                cnt += 1
                self.remove(m, lb)
                self.seen[m] = self.gen
        for t in range(count):
            c = self.comp[self.below(cnt)]
            while self.label[c] >= 0:
                c = self.comp[self.below(cnt)]
            self.add(c, self.parent[t])
            self.queue[t] = self.parent[t]
        self.grow_patches(count, True)
        self.balance()

    @cython.cfunc
    @cython.exceptval(check=False)
    def score(self) -> tuple[Real, Real]:
        """(band penalty, spread cost) of the current partition under the scoring features."""
        pen: Real = 0.0
        cost: Real = 0.0
        for p in range(6 * self.k):
            self.sums[p] = 0.0
        for i in range(self.n):
            z = 6 * self.label[i]
            w = self.pop[i]
            wa = self.aw[i]
            self.sums[z] += w
            self.sums[z + 1] += wa
            self.sums[z + 2] += w * self.gn[i]
            self.sums[z + 3] += wa * self.gx[i]
            self.sums[z + 4] += wa * self.gy[i]
            self.sums[z + 5] += w * self.gn[i] * self.gn[i] + wa * (self.gx[i] * self.gx[i] + self.gy[i] * self.gy[i])
        for p in range(self.k):
            z = 6 * p
            pen += _penalty(self.sums[z], self.lo, self.hi)
            cost += _spread(
                self.sums[z], self.sums[z + 1], self.sums[z + 2], self.sums[z + 3], self.sums[z + 4], self.sums[z + 5]
            )
        return pen, cost

    @cython.cfunc
    @cython.exceptval(check=False)
    def run(self, rounds: Index, seed: Key) -> cython.void:
        """``rounds`` rounds from the stream ``seed``: grow and refine, then kick from the
        best so far and refine. Keeps the best (penalty, cost) under ``g`` in ``best``."""
        self.rng = seed
        for s in range(rounds):
            if s == 0:
                self.grow()
                self.refine(False)
            else:
                self.load(self.best)
                for i in range(self.k):
                    self.touched[i] = 0
                self.kick()
                self.refine(True)
            pen, cost = self.score()
            if _better(pen, cost, self.best_pen, self.best_cost):
                self.best_pen, self.best_cost = pen, cost
                for i in range(self.n):
                    self.best[i] = self.label[i]


def _array(a, dtype, shape, name):
    """``a`` as a C-contiguous, writable array of ``dtype`` and ``shape`` (a copy if it is
    read-only: a compiled memoryview takes only writable buffers), or a ValueError naming it."""
    arr = np.asarray(a)
    if arr.dtype != dtype or arr.shape != shape:
        kind = np.dtype(dtype).name
        raise ValueError(f"{name} must be a {kind} array of shape {shape}, found {arr.dtype.name} {arr.shape}")
    return np.require(arr, requirements=("C", "W"))


def partition(
    indptr, indices, pop, feats, k, lo, hi, n_starts, seed, *, area_weight=None, search_feats=None, max_depth=6
):
    """The best partition of a connected graph into ``k`` contiguous patches found in
    ``n_starts`` rounds, shared between two chains.

    A chain's first round grows patches from k-means++ seeds and refines them (a soft
    phase that prices the band, then single moves, ejection chains, pair regrowth).
    Each later round is an iterated-local-search kick: from the chain's best partition
    so far, a random patch and two of its neighbours are regrown from random seeds,
    then refined again. Candidates are scored on (people outside ``[lo, hi]``, spread
    of ``feats``), lexicographically; the best is returned.
    The spread weights need (column 0) by population and position (columns 1-2) by
    ``area_weight``, so land, not only people, counts towards compactness.

    Parameters
    ----------
    indptr, indices
        CSR neighbour lists (int64; each area's neighbours, both directions); the graph
        must be connected and ``1 < k <= n``.
    pop, feats
        Population and ``(n, 3)`` features (scaled need, x, y) per area (float64).
    area_weight
        Weight of each area's position in the spread (its land area, scaled to the same
        total as ``pop``); population if not given.
    search_feats
        Features the growth and the search use, if not ``feats`` (e.g. need zeroed).
    seed
        Seeds the splitmix64 streams behind every random choice.

    Returns
    -------
    labels, penalty, cost
        Patch numbers 0..k-1 in order of each patch's first area; the people outside
        ``[lo, hi]`` summed over patches; the spread of ``feats``.

    Examples
    --------
    Four areas in a row, two patches of 2 people:

    >>> import numpy as np
    >>> indptr = np.array([0, 1, 3, 5, 6])
    >>> indices = np.array([1, 0, 2, 1, 3, 2])
    >>> feats = np.array([[0.0, x, 0.0] for x in range(4)])
    >>> labels, pen, cost = partition(indptr, indices, np.ones(4), feats, 2, 1.5, 2.5, 4, 0)
    >>> labels.tolist(), pen
    ([0, 0, 1, 1], 0.0)
    """
    n = len(pop)
    if not 1 < k <= n:
        raise ValueError(f"need 1 < k <= n areas, got k={k}, n={n}")
    indptr = _array(indptr, np.int64, (n + 1,), "indptr")
    indices = np.asarray(indices)
    if indices.dtype != np.int64 or indices.ndim != 1 or len(indices) < indptr[n]:
        raise ValueError(f"indices must be an int64 array of at least {indptr[n]} entries")
    indices = np.require(indices, requirements=("C", "W"))
    pop = _array(pop, np.float64, (n,), "pop")
    feats = _array(feats, np.float64, (n, 3), "feats")
    search_feats = feats if search_feats is None else _array(search_feats, np.float64, (n, 3), "search_feats")
    aw = pop if area_weight is None else _array(area_weight, np.float64, (n,), "area_weight")
    n_starts = max(int(n_starts), 1)
    # what both chains read: arrays for the compiled search (features as rows), lists for Python
    search_rows, score_rows = np.ascontiguousarray(search_feats.T), np.ascontiguousarray(feats.T)
    if not cython.compiled:
        indptr, indices, pop, aw, search_rows, score_rows = (
            a.tolist() for a in (indptr, indices, pop, aw, search_rows, score_rows)
        )
    # two seeds from the caller's, one per chain; chain c runs rounds c, c + 2, ... of n_starts
    seeds = _Search()
    seeds.rng = int(seed) & MASK
    seed_one, seed_two = seeds.rand(), seeds.rand()
    best = None
    for rounds, chain_seed in (((n_starts + 1) // 2, seed_one), (n_starts // 2, seed_two)):
        if rounds == 0:
            continue
        chain = _Search()
        chain.setup(indptr, indices, pop, aw, search_rows, score_rows, k, lo, hi, max_depth)
        chain.run(rounds, chain_seed)
        if best is None or _better(chain.best_pen, chain.best_cost, best.best_pen, best.best_cost):
            best = chain
    labels = np.asarray(best.best, dtype=np.int64)
    # renumber 0, 1, ... in order of each patch's first area
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(k)
    return rank[labels], best.best_pen, best.best_cost
