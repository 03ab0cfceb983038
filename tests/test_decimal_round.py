"""`rounded` and `rounded_all` (archive/extract/decimal_round.py) are `round(x, digits)`, to the bit:
on random floats of every magnitude and sign, on values at, next to and between decimal ties, on
zeros, infinities, NaN and huge values, for digits inside and outside the fast path's range."""
import math
import random

import numpy as np

from archive.extract.decimal_round import rounded, rounded_all


def _values() -> list[float]:
    rnd = random.Random(5)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 0.00005, 0.00015, 0.12345, 0.98765, math.inf, -math.inf,
              math.nan, 1e300, 1e-300, 5e-324, 2.0 ** 52, 2.0 ** 53 + 1]
    for _ in range(20_000):
        values += [rnd.random(), -rnd.random() * 10 ** rnd.randint(-12, 6), rnd.random() * 10 ** rnd.randint(-12, 20)]
    for digits in (0, 2, 4, 7, 11):
        for _ in range(3_000):
            n = rnd.randint(-10 ** 6, 10 ** 6)
            tie = (n + 0.5) / 10 ** digits
            values += [tie, math.nextafter(tie, math.inf), math.nextafter(tie, -math.inf), n / 10 ** digits]
    return values


def test_rounded_is_round_to_the_bit():
    values = _values()
    for digits in list(range(0, 16)) + [22, 23, -1]:
        want = [repr(round(value, digits)) for value in values]
        assert [repr(rounded(value, digits)) for value in values] == want, digits
        assert list(map(repr, rounded_all(np.array(values), digits))) == want, digits


def test_rounded_all_takes_each_value_s_digits():
    values = _values()[:5_000]
    digits = [random.Random(n).randint(-2, 24) for n in range(len(values))]
    assert list(map(repr, rounded_all(np.array(values), np.array(digits)))) == \
        [repr(round(value, places)) for value, places in zip(values, digits)]
