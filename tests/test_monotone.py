"""pycore.monotone: the one bisection the inverse answers share, against a plain scan of the range."""
import math

from hypothesis import given, strategies as st

from pycore import monotone


def counted(predicate):
    calls = []

    def fits(n):
        calls.append(n)
        return predicate(n)
    return fits, calls


def budget(low, high):
    # the ends (smallest asks for `high` once more), then one call per halving of (low, high)
    return 3 + (math.ceil(math.log2(high - low)) if high > low else 0)


@given(st.integers(-50, 1000), st.integers(0, 1000), st.integers(-60, 2100))
def test_largest_is_the_last_n_that_fits(low, width, edge):
    high = low + width
    fits, calls = counted(lambda n: n < edge)  # holds up to edge - 1
    expected = max((n for n in range(low, high + 1) if n < edge), default=None)
    assert monotone.largest(fits, low, high) == expected
    assert len(calls) <= budget(low, high)
    assert all(low <= n <= high for n in calls)


@given(st.integers(-50, 1000), st.integers(0, 1000), st.integers(-60, 2100))
def test_smallest_is_the_first_n_that_fits(low, width, edge):
    high = low + width
    fits, calls = counted(lambda n: n >= edge)  # holds from edge on
    expected = min((n for n in range(low, high + 1) if n >= edge), default=None)
    assert monotone.smallest(fits, low, high) == expected
    assert len(calls) <= budget(low, high)
    assert all(low <= n <= high for n in calls)


def test_a_single_value_range():
    assert monotone.largest(lambda n: True, 7, 7) == 7
    assert monotone.largest(lambda n: False, 7, 7) is None
    assert monotone.smallest(lambda n: True, 7, 7) == 7
    assert monotone.smallest(lambda n: False, 7, 7) is None


def test_a_context_of_two_million_tokens_takes_a_few_dozen_calls():
    # solve.max_context searches 1..max_context; a 2^21-token model: 21 halvings and the ends
    fits, calls = counted(lambda n: n <= 1_234_567)
    assert monotone.largest(fits, 1, 2 ** 21) == 1_234_567
    assert len(calls) <= 24
