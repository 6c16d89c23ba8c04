# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled core of the patch builder: grow contiguous patches, then refine them.

One *round* is:

1. **Grow.** ``k`` seed areas are drawn k-means++ style on position (each next seed
   with probability proportional to its squared distance from the seeds so far).
   The patch holding the fewest people then repeatedly takes the neighbouring
   unassigned area that least raises its spread of features (need and position), so
   patches grow at the same rate, stay compact and gather areas of similar need.
   Every patch is contiguous by construction. Later rounds instead *kick* the best
   partition so far: a random patch and two of its neighbours are regrown from random
   seeds.
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
``area_weight``, a blend of population and land). Patch sums are kept up to date, so a move
costs O(1) to evaluate; contiguity is checked by a search inside the patch.

``partition`` shares ``n_starts`` rounds between two independent *chains* (each with
its own grown start and its own splitmix64 stream, both drawn from the caller's
seed), run one after the other, and keeps the better result. (They once ran on two
threads: about 1 ms a call on Wiltshire, under 0.05% of a 3.5 s run, for 200 lines
of thread code.) Each chain's answer depends only on its stream, so the result is the
same on every platform. The module only sees arrays: a CSR neighbour list,
population and an ``(n, 3)`` feature matrix (need, x, y) built by
:mod:`lacgeo.patches.partition`.
"""

cimport cython
from numpy cimport NPY_FLOAT64, NPY_INT64, PyArray_DATA, import_array

from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free

from lacgeo.patches._state cimport (
    EPS, _Arena, _State, _below, _data, _mix, _new, _next, _penalty, _place, _shuffle, _spread, _take, vec3,
)

import_array()


cdef Py_ssize_t PAIR_SWEEPS = 10  # sweeps of pair regrowth per round (each stops early when nothing changes)
# Patches a kick regrows: a random one and up to this many less one of its neighbours.
# Regrowing every neighbour (5-6 on average) took 15% longer per call. Over 30 seeds on
# the 6 benchmark LAs it made the 4 small LAs' patches no better, and Wiltshire's ~0.015
# more homogeneous (between-share), where lacgeo is already far above spopt.
cdef Py_ssize_t KICK_PATCHES = 3
# The soft phase's price of one person outside the band, in units of the spread (whose
# need term is population x squared standardised need), and its sweeps of pair regrowth.
# Over 40 seeds on the 6 benchmark LAs, prices 5, 8 and 12 gave mean between-shares
# within 0.003 of each other, about 0.027 above the strict search; 8 kept compactness
# best. Without the pair sweep the gain was about 0.005 smaller.
cdef double SOFT_PRICE = 8.0
cdef Py_ssize_t SOFT_SWEEPS = 1
cdef uint64_t SOFT_KEY = 0x5555555555555555  # marks a pair key as the soft phase's


cdef inline bint _better(double pen, double cost, double best_pen, double best_cost) noexcept nogil:
    """Whether a scored partition beats the best so far: band first, then cost."""
    return pen < best_pen - 1e-6 or (pen <= best_pen + 1e-6 and cost < best_cost)


@cython.final
cdef class _Search(_State):
    """A :class:`_State` with the moves that refine it and the best partition found."""

    cdef Py_ssize_t whead, wtail, n_failed, n_slots, max_depth, tick
    cdef double best_pen, best_cost, price
    cdef void *smem  # one zeroed block holding the arrays below (``g`` is the caller's)
    cdef uint64_t *failed
    cdef uint64_t *fp_before
    cdef int64_t *best
    cdef int64_t *perm
    cdef int64_t *work
    cdef int64_t *bad
    cdef int64_t *parent
    cdef int64_t *depth
    cdef int64_t *path
    cdef int64_t *block
    cdef int64_t *best_block
    cdef int64_t *comp_start
    cdef int64_t *moves
    cdef int64_t *priced
    cdef double *sums
    cdef vec3 *g
    cdef char *padj
    cdef char *dirty
    cdef char *dirty_next
    cdef char *dirty_before
    cdef char *touched_before
    cdef char *inq

    cdef int setup(self, Py_ssize_t n, Py_ssize_t n_links, int64_t *indptr, int64_t *indices, double *pop,
                   double *aw, vec3 *f, vec3 *g, Py_ssize_t k, double lo, double hi, Py_ssize_t max_depth) except -1:
        """:meth:`_State.setup_state`, plus the search's own arrays; ``g`` are the features
        a result is scored on (``f`` those the moves use)."""
        self.setup_state(n, n_links, indptr, indices, pop, aw, f, k, lo, hi)
        cdef Py_ssize_t step, slots = 1024  # a power of two, at least 64 per patch
        while slots < 64 * k:
            slots *= 2
        self.g = g
        self.max_depth = max_depth
        self.best_pen = self.best_cost = INFINITY
        self.whead = self.wtail = 0
        self.tick = 0
        self.n_failed = 0
        self.n_slots = slots
        self.price = 0.0
        cdef _Arena arena
        arena.base, arena.used = NULL, 0
        for step in range(2):  # measure, then place
            if step == 1:
                self.smem = _place(&arena)
            self.best = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.perm = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.work = <int64_t *>_take(&arena, (n + 1) * sizeof(int64_t))
            self.bad = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.parent = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.depth = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.path = <int64_t *>_take(&arena, (k + 1) * sizeof(int64_t))
            self.block = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.best_block = <int64_t *>_take(&arena, n * sizeof(int64_t))
            self.comp_start = <int64_t *>_take(&arena, (n + 1) * sizeof(int64_t))
            self.moves = <int64_t *>_take(&arena, 3 * (max_depth + 1) * n * sizeof(int64_t))
            # tick at which improve last priced a move into each patch
            self.priced = <int64_t *>_take(&arena, k * sizeof(int64_t))
            self.sums = <double *>_take(&arena, 6 * k * sizeof(double))
            self.inq = <char *>_take(&arena, n)
            self.padj = <char *>_take(&arena, k * k)
            self.dirty = <char *>_take(&arena, k)
            self.dirty_next = <char *>_take(&arena, k)
            self.dirty_before = <char *>_take(&arena, k)
            self.touched_before = <char *>_take(&arena, k)
            self.failed = <uint64_t *>_take(&arena, slots * sizeof(uint64_t))
            self.fp_before = <uint64_t *>_take(&arena, k * sizeof(uint64_t))
        return 0

    def __dealloc__(self):
        free(self.smem)

    cdef void patch_adjacency(self) noexcept nogil:
        """``padj[a * k + b]`` = 1 when patches ``a`` and ``b`` (a != b) share a boundary."""
        cdef Py_ssize_t t, i, e, la, lb, k = self.k
        for t in range(k * k):
            self.padj[t] = 0
        for i in range(self.n):
            la = self.label[i]
            for e in range(self.indptr[i], self.indptr[i + 1]):
                lb = self.label[self.indices[e]]
                if lb != la:
                    self.padj[la * k + lb] = 1

    # -- improve -------------------------------------------------------------------

    cdef void push_near(self, Py_ssize_t p) noexcept nogil:
        """Queue (once) every area of patch ``p`` and every neighbour of one."""
        cdef Py_ssize_t m = self.head[p], e, u
        while m >= 0:
            for e in range(self.indptr[m], self.indptr[m + 1]):
                u = self.indices[e]
                if not self.inq[u]:
                    self.inq[u] = 1
                    self.work[self.wtail] = u
                    self.wtail = (self.wtail + 1) % (self.n + 1)
            if not self.inq[m]:
                self.inq[m] = 1
                self.work[self.wtail] = m
                self.wtail = (self.wtail + 1) % (self.n + 1)
            m = self.nxt[m]

    cdef void improve(self, uint64_t *rng, Py_ssize_t max_passes) noexcept nogil:
        """Greedy single-area moves until none lowers (penalty, cost), or in the soft
        phase ``cost + price x penalty``.

        Only areas in or next to a patch changed since the last call (``touched``) are
        tried, in a seeded random order; a move queues the areas of the two patches it
        changed and their neighbours again. At most ``max_passes * n`` tries."""
        cdef Py_ssize_t n = self.n, t, i, a, b, e, u, best_b, tries = 0
        cdef double dpen, dcost, best_pen, best_cost, left_pen, left_cost, join_pen, join_cost, pen_a, cost_a
        _shuffle(self.perm, n, rng)
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
            self.leave(i, a, &left_pen, &left_cost)
            pen_a = _penalty(self.s0[a], self.lo, self.hi)
            cost_a = self.patch_cost(a)
            self.tick += 1
            self.priced[a] = self.tick
            for e in range(self.indptr[i], self.indptr[i + 1]):
                b = self.label[self.indices[e]]
                if self.priced[b] == self.tick:
                    continue
                self.priced[b] = self.tick
                self.join(i, b, &join_pen, &join_cost)
                dpen = left_pen + join_pen - pen_a - _penalty(self.s0[b], self.lo, self.hi)
                dcost = left_cost + join_cost - cost_a - self.patch_cost(b)
                if self.price > 0.0:  # soft phase: the band is a price, not a rule
                    dcost += self.price * dpen
                    dpen = 0.0
                if dpen < -EPS or (dpen <= EPS and dcost < -EPS):
                    if (best_b < 0 or dpen < best_pen or (dpen == best_pen and dcost < best_cost)
                            or (dpen == best_pen and dcost == best_cost and b < best_b)):
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

    cdef Py_ssize_t make_block(self, Py_ssize_t i, Py_ssize_t a) noexcept nogil:
        """Fill ``block`` with the areas that leave ``a`` with ``i``: ``i`` and any parts of
        ``a`` it would cut off (``a`` keeps its most populous part). Returns the count, or 0
        when ``i`` is all of ``a``."""
        cdef Py_ssize_t e, u, ncomp = 0, used = 0, keep = 0, c, count, j, size = 1
        cdef double keep_pop = -1.0, cp
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

    cdef Py_ssize_t choose_block(self, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
        """Into ``best_block``: the move from ``a`` to ``b`` (one area, or one area with the
        parts it would cut off) that best lowers (penalty, cost) of the two patches."""
        cdef Py_ssize_t i, e, size, j, v, best_size = 0
        cdef double w, wa, w0, w1, w2, wq, pen, cost, best_pen = INFINITY, best_cost = INFINITY
        cdef bint touches
        i = self.head[a]
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
                        w0 += self.c[v][0]
                        w1 += self.c[v][1]
                        w2 += self.c[v][2]
                        wq += self.q[v]
                    self.pair_after(a, b, w, wa, w0, w1, w2, wq, &pen, &cost)
                    if (pen < best_pen or (pen == best_pen and cost < best_cost)
                            or (pen == best_pen and cost == best_cost and i < self.best_block[0])):
                        best_pen, best_cost, best_size = pen, cost, size
                        for j in range(size):
                            self.best_block[j] = self.block[j]
            i = self.nxt[i]
        return best_size

    cdef Py_ssize_t push(self, Py_ssize_t length) noexcept nogil:
        """Move one block along each hop of ``path[:length]``; the number of single moves
        logged in ``moves``, or -1 (state restored) if some hop has no legal block."""
        cdef Py_ssize_t h, a, b, size, j, done = 0
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

    cdef void undo(self, Py_ssize_t done) noexcept nogil:
        cdef Py_ssize_t t
        for t in range(done - 1, -1, -1):
            self.move(self.moves[3 * t], self.moves[3 * t + 2], self.moves[3 * t + 1])

    cdef Py_ssize_t chain(self, Py_ssize_t r, bint over) noexcept nogil:
        """Write into ``path`` the patches from the BFS root to ``r`` (root first when the
        root is over-full, so areas flow outwards; ``r`` first otherwise). Returns the length."""
        cdef Py_ssize_t length = 0, x = r, t, tmp
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

    cdef void repair_band(self, Py_ssize_t max_rounds) noexcept nogil:
        """Ejection chains from each out-of-band patch until the band penalty stops falling."""
        cdef Py_ssize_t k = self.k, rnd, nbad, t, s, p, qn, r, head, tail, length, done
        cdef double before
        cdef bint improved, over
        for rnd in range(max_rounds):
            if self.total_penalty() <= EPS:
                return
            self.patch_adjacency()
            # out-of-band patches, worst first (ties: lower patch number first)
            nbad = 0
            for p in range(k):
                if _penalty(self.s0[p], self.lo, self.hi) > EPS:
                    t = nbad
                    while t > 0 and (_penalty(self.s0[self.bad[t - 1]], self.lo, self.hi)
                                     < _penalty(self.s0[p], self.lo, self.hi)):
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

    cdef inline void push_side(self, Py_ssize_t v, Py_ssize_t t, int64_t *fh) noexcept nogil:
        """Add the neighbours of ``v`` inside the pair being regrown (current generation),
        not yet on a side nor listed for side ``t``, to the frontier list headed by ``fh``.
        ``side`` holds the side (1 or 2) in its low bits and "listed for side t" in bit 2 + t."""
        cdef Py_ssize_t e, u
        cdef char listed = 4 << t
        for e in range(self.indptr[v], self.indptr[v + 1]):
            u = self.indices[e]
            if self.seen[u] == self.gen and not (self.side[u] & (3 | listed)):
                self.side[u] |= listed
                self.fpool[self.ftop] = u
                self.fnext[self.ftop] = fh[0]
                fh[0] = self.ftop
                self.ftop += 1

    cdef double grow_two(self, Py_ssize_t cnt, Py_ssize_t s1, Py_ssize_t s2, double *pen) noexcept nogil:
        """Split the areas marked with the current generation (a connected union of two
        patches) into two, grown from ``s1`` and ``s2`` as in :meth:`grow_patches`, into
        ``side`` (1 or 2) without touching the partition. Returns the cost of the split
        and its band penalty in ``pen``."""
        cdef double z0[2]
        cdef double z1[2]
        cdef double z2[2]
        cdef double z3[2]
        cdef double za[2]
        cdef int64_t fh[2]
        cdef bint live[2]
        cdef Py_ssize_t t, v, best
        self.ftop = 0
        for t in range(2):
            v = s1 if t == 0 else s2
            z0[t] = self.pop[v]
            za[t] = self.aw[v]
            z1[t] = self.c[v][0]
            z2[t] = self.c[v][1]
            z3[t] = self.c[v][2]
            self.side[v] = t + 1
            fh[t] = -1
            live[t] = True
        self.push_side(s1, 0, &fh[0])
        self.push_side(s2, 1, &fh[1])
        while live[0] or live[1]:
            t = 0 if live[0] and (not live[1] or z0[0] <= z0[1]) else 1
            best = self.best_join(&fh[t], z0[t], za[t], z1[t], z2[t], z3[t], s1 if t == 0 else s2, True)
            if best < 0:
                live[t] = False
                continue
            z0[t] += self.pop[best]
            za[t] += self.aw[best]
            z1[t] += self.c[best][0]
            z2[t] += self.c[best][1]
            z3[t] += self.c[best][2]
            self.side[best] |= t + 1
            self.push_side(best, t, &fh[t])
        return self.side_cost(cnt, pen)

    cdef double side_cost(self, Py_ssize_t cnt, double *pen) noexcept nogil:
        """Cost (and band penalty in ``pen``) of the two patches that ``side`` makes of
        the areas ``comp[:cnt]``, summed afresh."""
        cdef double z0[2]
        cdef double z1[2]
        cdef double z2[2]
        cdef double z3[2]
        cdef double zq[2]
        cdef double za[2]
        cdef Py_ssize_t m, v, t
        for t in range(2):
            z0[t] = za[t] = z1[t] = z2[t] = z3[t] = zq[t] = 0.0
        for m in range(cnt):
            v = self.comp[m]
            t = (self.side[v] & 3) - 1
            z0[t] += self.pop[v]
            za[t] += self.aw[v]
            z1[t] += self.c[v][0]
            z2[t] += self.c[v][1]
            z3[t] += self.c[v][2]
            zq[t] += self.q[v]
        pen[0] = _penalty(z0[0], self.lo, self.hi) + _penalty(z0[1], self.lo, self.hi)
        return (_spread(z0[0], za[0], z1[0], z2[0], z3[0], zq[0])
                + _spread(z0[1], za[1], z1[1], z2[1], z3[1], zq[1]))

    cdef inline bint lowers(self, double pen, double cost, double best_pen, double best_cost) noexcept nogil:
        """Whether a split beats the best so far: band first, then cost; in the soft phase
        by ``cost + price x penalty``."""
        if self.price > 0.0:
            return cost + self.price * pen < best_cost + self.price * best_pen - EPS
        return pen < best_pen - EPS or (pen <= best_pen + EPS and cost < best_cost - EPS)

    cdef inline uint64_t pair_key(self, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
        """A key for the unordered pair of the area sets of patches ``a`` and ``b`` (never 0),
        different in the soft phase, where a split can fail that the strict rule would take."""
        cdef uint64_t x = self.fp[a], y = self.fp[b], key
        key = _mix(x) ^ y if x < y else _mix(y) ^ x
        if self.price > 0.0:
            key ^= SOFT_KEY
        return key if key != 0 else 1

    cdef Py_ssize_t failed_slot(self, uint64_t key) noexcept nogil:
        """The slot of ``key`` in the table of failed pair splits, or the empty slot it would take."""
        cdef Py_ssize_t mask = self.n_slots - 1, slot = <Py_ssize_t>(key & <uint64_t>mask)
        while self.failed[slot] != 0 and self.failed[slot] != key:
            slot = (slot + 1) & mask
        return slot

    cdef void remember_failed(self, uint64_t key) noexcept nogil:
        """Note that regrowing this pair of area sets found nothing better (emptying a full table)."""
        cdef Py_ssize_t t
        if 2 * (self.n_failed + 1) > self.n_slots:
            for t in range(self.n_slots):
                self.failed[t] = 0
            self.n_failed = 0
        self.failed[self.failed_slot(key)] = key
        self.n_failed += 1

    cdef bint regrow_pair(self, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
        """Re-split the union of neighbouring patches ``a`` and ``b`` by growing two patches
        from two seed pairs (farthest apart; lowest and highest need). Keep the best of
        the old and the new splits by (penalty, cost), or by the soft phase's priced
        sum (see :meth:`lowers`); return whether it changed.

        Every choice (seeds, growth, comparison) breaks ties by area number, so the
        outcome depends only on the two sets of areas, not on how they are listed. A
        pair of sets already tried without success (iterated local search revisits many)
        is therefore skipped: the answer would be the same. So is a pair this method
        has just re-split, as regrowing it again would find the same splits."""
        cdef Py_ssize_t cnt = 0, m, t, e, trial, s1, s2, p, first
        cdef bint adjacent
        cdef double best_pen, best_cost, pen, cost, lo_need, hi_need, far, d, dx, dy
        cdef int best_trial = -1
        cdef uint64_t key = self.pair_key(a, b)
        if self.failed[self.failed_slot(key)] == key:
            return False
        self.gen += 1
        first = self.n
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
        adjacent = False
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
        best_cost = self.side_cost(cnt, &best_pen)
        for t in range(cnt):
            self.side[self.comp[t]] = 0
        for trial in range(2):
            s1 = s2 = first
            if trial == 0:  # the two areas farthest apart (one pass: farthest from the first, then from it)
                for t in range(2):
                    far = -1.0
                    for m in range(cnt):
                        p = self.comp[m]
                        dx = self.f[p][1] - self.f[s1][1]
                        dy = self.f[p][2] - self.f[s1][2]
                        d = dx * dx + dy * dy
                        if d > far or (d == far and p < s2):
                            far, s2 = d, p
                    if t == 0:
                        s1 = s2
            else:  # the lowest- and highest-need areas
                lo_need = hi_need = self.f[first][0]
                for m in range(cnt):
                    p = self.comp[m]
                    d = self.f[p][0]
                    if d < lo_need or (d == lo_need and p < s1):
                        lo_need, s1 = d, p
                    if d > hi_need or (d == hi_need and p < s2):
                        hi_need, s2 = d, p
            if s1 == s2:
                continue
            cost = self.grow_two(cnt, s1, s2, &pen)
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

    cdef void regrow_pairs(self, uint64_t *rng, Py_ssize_t max_sweeps, bint from_dirty) noexcept nogil:
        """Sweeps of :meth:`regrow_pair` over every pair of neighbouring patches (only pairs
        touching a patch marked ``dirty`` if ``from_dirty``), in a seeded random order, until
        a sweep changes nothing."""
        cdef Py_ssize_t k = self.k, sweep, t, a, b
        cdef bint changed
        for sweep in range(max_sweeps):
            self.patch_adjacency()
            _shuffle(self.bad, k, rng)
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

    cdef void soften(self, uint64_t *rng, bint from_dirty) noexcept nogil:
        """The soft phase: single moves and a sweep of pair regrowth with the band priced
        (``SOFT_PRICE`` per person outside it). Afterwards ``touched`` and ``dirty`` mark the
        patches changed before or during it, for the strict moves that follow."""
        cdef Py_ssize_t p, k = self.k
        for p in range(k):
            self.touched_before[p] = self.touched[p]
            self.dirty_before[p] = self.dirty[p]
            self.fp_before[p] = self.fp[p]
        self.price = SOFT_PRICE
        self.improve(rng, 50)
        self.regrow_pairs(rng, SOFT_SWEEPS, from_dirty)
        self.price = 0.0
        for p in range(k):
            self.touched[p] = self.touched_before[p] or self.fp[p] != self.fp_before[p]
            self.dirty[p] = self.dirty[p] or self.dirty_before[p]

    cdef void refine(self, uint64_t *rng, bint from_dirty=False) noexcept nogil:
        self.soften(rng, from_dirty)
        self.improve(rng, 50)
        if self.total_penalty() > EPS:
            self.repair_band(200)
            self.improve(rng, 50)
        self.regrow_pairs(rng, PAIR_SWEEPS, from_dirty)
        self.improve(rng, 50)

    cdef void kick(self, uint64_t *rng) noexcept nogil:
        """Perturb: regrow a random patch and up to ``KICK_PATCHES - 1`` random neighbours
        of it from random seeds, marking them ``dirty`` for the pair sweeps that follow."""
        cdef Py_ssize_t k = self.k, p, m, e, l, count = 0, cnt = 0, t, c
        p = _below(rng, k)
        for t in range(k):
            self.dirty[t] = 0
        self.dirty[p] = 1
        self.parent[0] = p
        count = 1
        m = self.head[p]
        while m >= 0:
            for e in range(self.indptr[m], self.indptr[m + 1]):
                l = self.label[self.indices[e]]
                if not self.dirty[l]:
                    self.dirty[l] = 1
                    self.parent[count] = l
                    count += 1
            m = self.nxt[m]
        if count > KICK_PATCHES:  # keep a random few of the neighbours
            for t in range(1, KICK_PATCHES):
                c = t + _below(rng, count - t)
                l = self.parent[t]
                self.parent[t] = self.parent[c]
                self.parent[c] = l
            for t in range(KICK_PATCHES, count):
                self.dirty[self.parent[t]] = 0
            count = KICK_PATCHES
        self.gen += 1
        for t in range(count):
            l = self.parent[t]
            while self.head[l] >= 0:
                m = self.head[l]
                self.comp[cnt] = m
                cnt += 1
                self.remove(m, l)
                self.seen[m] = self.gen
        for t in range(count):
            c = self.comp[_below(rng, cnt)]
            while self.label[c] >= 0:
                c = self.comp[_below(rng, cnt)]
            self.add(c, self.parent[t])
            self.queue[t] = self.parent[t]
        self.grow_patches(count, True)
        self.balance()

    cdef void run(self, Py_ssize_t rounds, uint64_t seed) noexcept nogil:
        """``rounds`` rounds from the stream ``seed``: grow and refine, then kick from the
        best so far and refine. Keeps the best (penalty, cost) under ``g`` in ``best``."""
        cdef uint64_t state = seed
        cdef Py_ssize_t s, i
        cdef double pen, cost
        for s in range(rounds):
            if s == 0:
                self.grow(&state)
                self.refine(&state)
            else:
                self.load(self.best)
                for i in range(self.k):
                    self.touched[i] = 0
                self.kick(&state)
                self.refine(&state, True)
            _score(self.label, self.n, self.pop, self.aw, self.g, self.k, self.lo, self.hi, self.sums, &pen, &cost)
            if _better(pen, cost, self.best_pen, self.best_cost):
                self.best_pen, self.best_cost = pen, cost
                for i in range(self.n):
                    self.best[i] = self.label[i]


cdef void _score(const int64_t *labels, Py_ssize_t n, const double *pop, const double *aw, const vec3 *f,
                 Py_ssize_t k, double lo, double hi, double *sums, double *pen, double *cost) noexcept nogil:
    """(band penalty, spread cost) of a partition under features ``f``."""
    cdef Py_ssize_t i, p
    cdef double w, wa
    cdef double *z
    for p in range(6 * k):
        sums[p] = 0.0
    for i in range(n):
        z = &sums[6 * labels[i]]
        w = pop[i]
        wa = aw[i]
        z[0] += w
        z[1] += wa
        z[2] += w * f[i][0]
        z[3] += wa * f[i][1]
        z[4] += wa * f[i][2]
        z[5] += w * f[i][0] * f[i][0] + wa * (f[i][1] * f[i][1] + f[i][2] * f[i][2])
    pen[0] = 0.0
    cost[0] = 0.0
    for p in range(k):
        z = &sums[6 * p]
        pen[0] += _penalty(z[0], lo, hi)
        cost[0] += _spread(z[0], z[1], z[2], z[3], z[4], z[5])


cdef void _relabel(const int64_t *labels, int64_t *out, Py_ssize_t n, int64_t *rank, Py_ssize_t k) noexcept nogil:
    """``out`` = ``labels`` (0..k-1) renumbered 0, 1, ... in order of each patch's first area."""
    cdef Py_ssize_t i, p, top = 0
    for p in range(k):
        rank[p] = -1
    for i in range(n):
        if rank[labels[i]] < 0:
            rank[labels[i]] = top
            top += 1
        out[i] = rank[labels[i]]


def partition(indptr, indices, pop, feats, Py_ssize_t k, double lo, double hi, Py_ssize_t n_starts, uint64_t seed,
              *, area_weight=None, search_feats=None, Py_ssize_t max_depth=6):
    """The best partition of a connected graph into ``k`` contiguous patches found in
    ``n_starts`` rounds, shared between two chains.

    A chain's first round grows patches from k-means++ seeds and refines them (a soft
    phase that prices the band, then single moves, ejection chains, pair regrowth).
    Each later round is an iterated-local-search
    kick: from the chain's best partition so far, a random patch and two of its
    neighbours are regrown from random seeds, then refined again. Candidates are scored
    on (people outside ``[lo, hi]``, spread of ``feats``), lexicographically; the best is
    returned.
    The spread weights need (column 0) by population and position (columns 1-2) by
    ``area_weight``, so land, not only people, counts towards compactness.

    Parameters
    ----------
    indptr, indices
        CSR neighbour lists (each area's neighbours, both directions); the graph must
        be connected and ``1 < k <= n``.
    pop, feats
        Population and ``(n, 3)`` features (scaled need, x, y) per area.
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
    """
    cdef Py_ssize_t n = len(pop)
    cdef uint64_t state = seed
    if not 1 < k <= n:
        raise ValueError(f"need 1 < k <= n areas, got k={k}, n={n}")
    # arrays are read through pointers: typed-memoryview arguments cost more than the checks
    cdef int64_t *ip = <int64_t *>_data(indptr, NPY_INT64, n + 1, 1, "indptr")
    cdef int64_t *ix = <int64_t *>_data(indices, NPY_INT64, len(indices), 1, "indices")
    if len(indices) < ip[n]:
        raise ValueError(f"indices has {len(indices)} entries, indptr needs {ip[n]}")
    cdef double *p_pop = <double *>_data(pop, NPY_FLOAT64, n, 1, "pop")
    cdef vec3 *f = <vec3 *>_data(feats, NPY_FLOAT64, n, 3, "feats")
    cdef vec3 *sf = f if search_feats is None else <vec3 *>_data(search_feats, NPY_FLOAT64, n, 3, "search_feats")
    cdef double *aw = p_pop if area_weight is None else <double *>_data(area_weight, NPY_FLOAT64, n, 1, "area_weight")
    n_starts = max(n_starts, 1)
    # chain c runs rounds c, c + 2, ... of n_starts, from its own stream
    cdef Py_ssize_t rounds_one = (n_starts + 1) // 2, rounds_two = n_starts // 2
    cdef uint64_t seed_one = _next(&state), seed_two = _next(&state)
    # the states point into the arguments, which this call keeps alive until it returns
    cdef _Search one = _Search.__new__(_Search), two
    one.setup(n, len(indices), ip, ix, p_pop, aw, sf, f, k, lo, hi, max_depth)
    with nogil:
        one.run(rounds_one, seed_one)
    if rounds_two > 0:
        two = _Search.__new__(_Search)
        two.setup(n, len(indices), ip, ix, p_pop, aw, sf, f, k, lo, hi, max_depth)
        with nogil:
            two.run(rounds_two, seed_two)
        if _better(two.best_pen, two.best_cost, one.best_pen, one.best_cost):
            one = two
    labels = _new(n, 1, NPY_INT64, False)
    _relabel(one.best, <int64_t *>PyArray_DATA(labels), n, one.queue, k)  # the search is over: its queue is free
    return labels, one.best_pen, one.best_cost
