"""Local search that refines a contiguous partition.

Moves are single boundary areas passed to a neighbouring patch, never breaking the
contiguity of the patch they leave. The objective is lexicographic:

1. the total population outside the band (people below ``lo`` or above ``hi``);
2. a cost adding, per patch, the population-weighted spread of the area features
   (standardised need, scaled by ``need_weight``, and position in units of a typical
   patch radius): homogeneous need and compact shape.

When no single move lowers the band penalty, *ejection chains* push one area along
a path of neighbouring patches (over-full patch -> ... -> patch with room), which
fixes the cases where every neighbour of an over-full patch is itself full.

Patch sums are kept as plain floats, so a move costs O(1) to evaluate.
"""

from __future__ import annotations

from collections import deque

import numpy as np

EPS = 1e-9


def reach(start: int, nodes: set[int], nbrs: list[list[int]] | list[np.ndarray]) -> set[int]:
    """The members of ``nodes`` connected to ``start`` through ``nodes``."""
    seen = {start}
    stack = [start]
    while stack:
        v = stack.pop()
        for u in nbrs[v]:
            u = int(u)
            if u in nodes and u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def is_connected(nodes: set[int], nbrs: list[list[int]] | list[np.ndarray]) -> bool:
    """Whether ``nodes`` form one connected set in the graph given by ``nbrs``."""
    return len(nodes) <= 1 or len(reach(next(iter(nodes)), nodes, nbrs)) == len(nodes)


class PatchSearch:
    """Mutable partition state with O(1) move evaluation."""

    def __init__(
        self, labels: np.ndarray, nbrs: list[np.ndarray], pop: np.ndarray, feats: np.ndarray, lo: float, hi: float
    ):
        self.labels = [int(v) for v in labels]
        self.nbrs = [[int(u) for u in nb] for nb in nbrs]
        self.pop = [float(p) for p in pop]
        self.f = [tuple(float(x) for x in row) for row in feats]
        self.q = [sum(x * x for x in row) for row in self.f]
        self.lo, self.hi = float(lo), float(hi)
        k = max(self.labels) + 1
        self.s0 = [0.0] * k
        self.s1 = [[0.0, 0.0, 0.0] for _ in range(k)]
        self.s2 = [0.0] * k
        self.members: list[set[int]] = [set() for _ in range(k)]
        for i, p in enumerate(self.labels):
            self._add(i, p, 1.0)

    # -- bookkeeping -------------------------------------------------------------
    def _add(self, i: int, p: int, sign: float) -> None:
        w = sign * self.pop[i]
        f = self.f[i]
        s1 = self.s1[p]
        self.s0[p] += w
        s1[0] += w * f[0]
        s1[1] += w * f[1]
        s1[2] += w * f[2]
        self.s2[p] += w * self.q[i]
        if sign > 0:
            self.members[p].add(i)
        else:
            self.members[p].discard(i)

    def move(self, i: int, a: int, b: int) -> None:
        self._add(i, a, -1.0)
        self._add(i, b, 1.0)
        self.labels[i] = b

    def penalty(self, pop: float) -> float:
        return max(0.0, self.lo - pop) + max(0.0, pop - self.hi)

    @staticmethod
    def _cost(s0: float, a: float, b: float, c: float, s2: float) -> float:
        return 0.0 if s0 <= EPS else s2 - (a * a + b * b + c * c) / s0

    def patch_cost(self, p: int) -> float:
        s1 = self.s1[p]
        return self._cost(self.s0[p], s1[0], s1[1], s1[2], self.s2[p])

    def total(self) -> tuple[float, float]:
        k = len(self.s0)
        return (sum(self.penalty(self.s0[p]) for p in range(k)), sum(self.patch_cost(p) for p in range(k)))

    def delta(self, i: int, a: int, b: int) -> tuple[float, float]:
        """Change in (band penalty, cost) if area ``i`` moved from ``a`` to ``b``."""
        w, f, q = self.pop[i], self.f[i], self.q[i]
        sa0, sb0 = self.s0[a], self.s0[b]
        dpen = self.penalty(sa0 - w) + self.penalty(sb0 + w) - self.penalty(sa0) - self.penalty(sb0)
        sa, sb = self.s1[a], self.s1[b]
        cost = self._cost
        before = cost(sa0, sa[0], sa[1], sa[2], self.s2[a]) + cost(sb0, sb[0], sb[1], sb[2], self.s2[b])
        after = cost(sa0 - w, sa[0] - w * f[0], sa[1] - w * f[1], sa[2] - w * f[2], self.s2[a] - w * q) + cost(
            sb0 + w, sb[0] + w * f[0], sb[1] + w * f[1], sb[2] + w * f[2], self.s2[b] + w * q
        )
        return dpen, after - before

    def can_leave(self, i: int, a: int) -> bool:
        members = self.members[a]
        return len(members) > 1 and is_connected(members - {i}, self.nbrs)

    # -- single moves --------------------------------------------------------------
    def improve(self, rng: np.random.Generator, *, max_passes: int = 50) -> None:
        """Greedy single-area moves until none lowers (penalty, cost)."""
        n = len(self.labels)
        for _ in range(max_passes):
            improved = False
            for i in rng.permutation(n).tolist():
                a = self.labels[i]
                best = None
                for b in {self.labels[u] for u in self.nbrs[i]}:
                    if b == a:
                        continue
                    dpen, dcost = self.delta(i, a, b)
                    if dpen < -EPS or (dpen <= EPS and dcost < -EPS):
                        key = (dpen, dcost, b)
                        if best is None or key < best:
                            best = key
                if best is not None and self.can_leave(i, a):
                    self.move(i, a, best[2])
                    improved = True
            if not improved:
                return

    # -- ejection chains -------------------------------------------------------------
    def _patch_neighbours(self, p: int) -> set[int]:
        return {self.labels[u] for i in self.members[p] for u in self.nbrs[i]} - {p}

    def _block(self, i: int, a: int) -> list[int] | None:
        """Areas that leave ``a`` with ``i``: just ``i``, or, when ``i`` holds part of ``a``
        together, ``i`` and the parts it would cut off (``a`` keeps its most populous part)."""
        rest = self.members[a] - {i}
        if not rest:
            return None
        parts = []
        todo = set(rest)
        while todo:
            part = reach(min(todo), todo, self.nbrs)
            parts.append(part)
            todo -= part
        if len(parts) == 1:
            return [i]
        parts.sort(key=lambda c: (-sum(self.pop[j] for j in c), min(c)))
        return [i] + sorted(j for c in parts[1:] for j in c)

    def _pair_score(self, block: list[int], a: int, b: int) -> tuple[float, float]:
        """(penalty, cost) of patches ``a`` and ``b`` if ``block`` moved from ``a`` to ``b``."""
        for j in block:
            self.move(j, a, b)
        score = (self.penalty(self.s0[a]) + self.penalty(self.s0[b]), self.patch_cost(a) + self.patch_cost(b))
        for j in reversed(block):
            self.move(j, b, a)
        return score

    def _best_block(self, a: int, b: int) -> list[int] | None:
        """The move from ``a`` to ``b`` (one area, or one area with the parts it would cut off)
        that best lowers the (penalty, cost) of the two patches, keeping both contiguous."""
        cands = sorted({i for i in self.members[a] if any(self.labels[u] == b for u in self.nbrs[i])})
        best = None
        for i in cands:
            block = self._block(i, a)
            if block is None:
                continue
            key = (*self._pair_score(block, a, b), i)
            if best is None or key < best[0]:
                best = (key, block)
        return None if best is None else best[1]

    def _push(self, path: list[int]) -> list[tuple[int, int, int]] | None:
        """Move one block along each hop of ``path``; return the moves, or None if blocked."""
        done: list[tuple[int, int, int]] = []
        for a, b in zip(path, path[1:], strict=False):
            block = self._best_block(a, b)
            if block is None:
                for j, x, y in reversed(done):
                    self.move(j, y, x)
                return None
            for j in block:
                self.move(j, a, b)
                done.append((j, a, b))
        return done

    def repair_band(self, *, max_depth: int = 6, max_rounds: int = 200) -> None:
        """Ejection chains from each out-of-band patch until the band penalty stops falling."""
        for _ in range(max_rounds):
            pen, _ = self.total()
            if pen <= EPS:
                return
            improved = False
            bad = sorted(
                (p for p in range(len(self.s0)) if self.penalty(self.s0[p]) > EPS),
                key=lambda p: -self.penalty(self.s0[p]),
            )
            for p in bad:
                over = self.s0[p] > self.hi
                # BFS over patches: push from p outwards (over-full) or pull into p (under-full)
                parent = {p: -1}
                queue = deque([(p, 0)])
                while queue and not improved:
                    q, depth = queue.popleft()
                    if depth >= max_depth:
                        continue
                    for r in sorted(self._patch_neighbours(q)):
                        if r in parent:
                            continue
                        parent[r] = q
                        queue.append((r, depth + 1))
                        path = [r]
                        while parent[path[-1]] != -1:
                            path.append(parent[path[-1]])
                        path = path[::-1] if over else path  # over: p -> ... -> r; under: r -> ... -> p
                        before = self.total()[0]
                        moves = self._push(path)
                        if moves is None:
                            continue
                        if self.total()[0] < before - EPS:
                            improved = True
                            break
                        for j, x, y in reversed(moves):
                            self.move(j, y, x)
                if improved:
                    break
            if not improved:
                return
