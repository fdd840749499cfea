"""Bisection over an integer range for a predicate that changes its answer once: the inverse answers (the
longest context, the largest batch or micro-batch, the most --n-gpu-layers, the fewest --n-cpu-moe) each look
for the edge of what fits. Each search calls the predicate at most ceil(log2(high - low)) + 3 times; the range
comes from the caller's own limits (a model's maximum context, MAX_BATCH, its layer count)."""


def largest(fits, low: int, high: int):
    """The largest n in [low, high] with fits(n), for a fits that holds up to some n and not after it; None
    when fits(low) does not hold. low <= high."""
    if not fits(low):
        return None
    if fits(high):
        return high
    while high - low > 1:  # fits(low), not fits(high)
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


def smallest(fits, low: int, high: int):
    """The smallest n in [low, high] with fits(n), for a fits that does not hold up to some n and holds from
    there on; None when fits(high) does not hold. low <= high."""
    if not fits(high):
        return None
    last_short = largest(lambda n: not fits(n), low, high)  # None when fits(low)
    return low if last_short is None else last_short + 1
