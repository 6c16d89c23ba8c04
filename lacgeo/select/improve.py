"""Joint improvement of the picks: polish, border transfers, exact rebuilds and simulated annealing."""

from __future__ import annotations

import math

import numpy as np

from ..patches.graph import is_connected
from .candidates import candidate_pool, grow_region, improve_region
from .packing import pack
from .problem import EPS, Candidate, Problem, Rules, make_candidate, selection_ok, union


def _polish(p: Problem, picks: list[Candidate], k: int, rules: Rules, blocked: frozenset[int]) -> Candidate:
    """Local search on pick ``k`` with the other picks held fixed."""
    others = picks[:k] + picks[k + 1 :]

    def accept(trial: set[int]) -> bool:
        return selection_ok(p, [*others, make_candidate(p, trial)], rules)

    better = improve_region(p, set(picks[k].members), blocked | union(others), accept)
    return make_candidate(p, better)


def _transfer(
    p: Problem, picks: list[Candidate], a: int, b: int, rules: Rules, blocked: frozenset[int]
) -> list[Candidate] | None:
    """Best compound move: one area of pick ``a`` joins the neighbouring pick ``b``; both are regrown."""
    best, best_total = None, sum(c.value for c in picks)
    pa, pb = picks[a], picks[b]
    rest = union(c for k, c in enumerate(picks) if k not in (a, b)) | blocked
    for m in sorted(pa.members):
        if m in p.fixed or not any(u in pb.members for u in p.nbrs[m]) or pb.population + p.pop[m] > p.hi + EPS:
            continue
        left = set(pa.members) - {m}
        if not left or not is_connected(left, p.nbrs):
            continue
        new_b = set(pb.members) | {m}
        for score in (lambda j, s: p.value[j], lambda j, s: p.rate[j]):
            grown = grow_region(p, left, score, rest | new_b)
            if grown is None:
                continue
            trial = list(picks)
            trial[a], trial[b] = make_candidate(p, grown), make_candidate(p, new_b)
            if not selection_ok(p, trial, rules):
                continue
            trial[a] = _polish(p, trial, a, rules, blocked)
            trial[b] = _polish(p, trial, b, rules, blocked)
            total = sum(c.value for c in trial)
            if total > best_total + EPS:
                best, best_total = trial, total
    return best


def _rebuild(
    p: Problem,
    picks: list[Candidate],
    ks: tuple[int, ...],
    rules: Rules,
    blocked: frozenset[int],
    rng: np.random.Generator,
) -> list[Candidate] | None:
    """Free the picks ``ks``, grow fresh candidates around the rest and re-pack them exactly."""
    fixed = [c for k, c in enumerate(picks) if k not in ks]
    taken = union(fixed) | blocked
    freed = sorted(union(picks[k] for k in ks), key=lambda i: (-p.value[i], i))
    free = sorted((i for i in range(p.n) if p.eligible[i] and i not in taken), key=lambda i: (-p.value[i], i))
    seeds = list(dict.fromkeys(freed[:10] + free[:10]))
    cores = [frozenset([s]) for s in seeds] + [g for g in rules.groups if not (g & taken)]
    found = candidate_pool(p, cores, rng, blocked=taken, n_random=2)
    found.update({c.members: None for k, c in enumerate(picks) if k in ks})
    pool = sorted((make_candidate(p, m) for m in found), key=lambda c: c.key)
    chosen = pack(p, pool, len(ks), rules, fixed)[0].get(len(ks))
    if chosen is None:
        return None
    trial = list(picks)
    for k, c in zip(ks, chosen, strict=True):
        trial[k] = c
    return trial


def anneal(
    p: Problem,
    picks: list[Candidate],
    rules: Rules,
    blocked: frozenset[int],
    rng: np.random.Generator,
    *,
    iters: int = 8000,
) -> list[Candidate]:
    """Simulated annealing on the joint selection; returns the best selection seen.

    A step takes a random pick and a random area next to it, and pulls that area in (from
    outside, or from the pick holding it: a free trade that lets picks shift), pulls it in
    while dropping one of the pick's own areas, or drops an area. Moves keep every pick
    contiguous and in the band; the selection rules are checked before a move is taken.
    The number of steps is fixed, so the result depends only on the inputs and the seed.
    """
    if not picks:
        return picks
    members = [set(c.members) for c in picks]
    people = [c.population for c in picks]
    label = {i: k for k, m in enumerate(members) for i in m}
    total = sum(c.value for c in picks)
    best_total, best = total, [c.members for c in picks]
    full_check = p.unit is not None or p.min_distance is not None or p.near is not None
    full_check = full_check or bool(rules.singles or rules.groups)
    t_hi, t_lo = 1.0 * p.scale, 0.1 * p.scale
    draws = rng.random((iters, 5))
    ring: list[list[int] | None] = [None] * len(members)  # areas next to each pick, recomputed after a change
    for it in range(iters):
        temp = t_hi * (t_lo / t_hi) ** (it / max(1, iters - 1))
        k = int(draws[it, 0] * len(members))
        mine = members[k]
        outside = ring[k]
        if outside is None:
            outside = ring[k] = sorted(
                {j for i in mine for j in p.nbrs[i] if j not in mine and p.eligible[j] and j not in blocked}
            )
        kind = draws[it, 1]
        moves: list[tuple[int, int, int]] = []  # (area, from pick or -1, to pick or -1)
        if kind < 0.7 and outside:
            j = outside[int(draws[it, 2] * len(outside))]
            src = label.get(j, -1)
            if j in p.fixed:
                continue
            if src >= 0:
                rest = members[src] - {j}
                if people[src] - p.pop[j] < p.lo - EPS or not rest or not is_connected(rest, p.nbrs):
                    continue
            moves.append((j, src, k))
            room = people[k] + p.pop[j]
            if kind >= 0.35:  # ... and drop one of the pick's own areas
                own = sorted(mine - p.fixed)
                if not own:
                    continue
                i = own[int(draws[it, 3] * len(own))]
                moves.append((i, k, -1))
                room -= p.pop[i]
            if not p.lo - EPS <= room <= p.hi + EPS:
                continue
        else:
            own = sorted(mine - p.fixed)
            if not own:
                continue
            i = own[int(draws[it, 3] * len(own))]
            if people[k] - p.pop[i] < p.lo - EPS:
                continue
            moves.append((i, k, -1))
        delta = sum(p.value[a] * ((dst >= 0) - (src >= 0)) for a, src, dst in moves)
        if delta < 0 and draws[it, 4] >= math.exp(delta / temp):
            continue
        new = [set(m) for m in members]
        for a, src, dst in moves:
            if src >= 0:
                new[src].discard(a)
            if dst >= 0:
                new[dst].add(a)
        touched = {src for _, src, _ in moves if src >= 0} | {dst for _, _, dst in moves if dst >= 0}
        if any(not new[t] or not is_connected(new[t], p.nbrs) for t in touched):
            continue
        if rules.pockets and p.strands(frozenset().union(*new)):
            continue
        if full_check and not selection_ok(p, [make_candidate(p, m) for m in new], rules):
            continue
        for a, src, dst in moves:
            if src >= 0:
                people[src] -= p.pop[a]
                label.pop(a, None)
            if dst >= 0:
                people[dst] += p.pop[a]
                label[a] = dst
        members = new
        for t in touched:
            ring[t] = None
        total += delta
        if total > best_total + EPS:
            best_total, best = total, [frozenset(m) for m in members]
    return [make_candidate(p, m) for m in best]


def improve_jointly(
    p: Problem, picks: list[Candidate], rules: Rules, blocked: frozenset[int], rng: np.random.Generator
) -> list[Candidate]:
    """Polish each pick around the others; move border areas between neighbouring picks; rebuild pairs."""
    picks = list(picks)
    total = sum(c.value for c in picks)
    for _ in range(4):
        before = total
        for k in range(len(picks)):
            cand = _polish(p, picks, k, rules, blocked)
            if cand.value > picks[k].value + EPS:
                picks[k] = cand
        pairs = [(a, b) for a in range(len(picks)) for b in range(len(picks)) if a != b]
        for a, b in pairs:
            trial = _transfer(p, picks, a, b, rules, blocked)
            if trial is not None:
                picks = trial
        subsets: list[tuple[int, ...]] = [(a,) for a in range(len(picks))]
        near = [c.members | {u for i in c.members for u in p.nbrs[i]} for c in picks]
        subsets += [
            (a, b) for a in range(len(picks)) for b in range(a + 1, len(picks)) if near[a] & picks[b].members
        ]  # pairs of touching picks: apart, a pair rebuild is two single ones
        for ks in subsets:
            trial = _rebuild(p, picks, ks, rules, blocked, rng)
            if trial is not None and sum(c.value for c in trial) > sum(c.value for c in picks) + EPS:
                picks = trial
        total = sum(c.value for c in picks)
        if total <= before + EPS:
            break
    return picks
