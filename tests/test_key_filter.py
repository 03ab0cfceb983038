"""The dedupe index's key filter (archive/corpus/neardup/key_filter.py): never "no" for a key added."""
import random

from archive.corpus.neardup.key_filter import KeyFilter


def test_every_key_added_is_kept_in_order_and_most_others_are_left_out():
    rng = random.Random(5)
    added = [rng.getrandbits(60) * 8 for _ in range(20_000)] + [0, 8, -8, (1 << 63) - 8, -(1 << 63)]
    keys = KeyFilter()
    for start in range(0, len(added), 190):
        keys.add(added[start:start + 190])
    asked = added[::-1]
    assert keys.maybe_held(asked) == asked
    others = [rng.getrandbits(60) * 8 for _ in range(20_000)]
    assert len(keys.maybe_held(others)) < 100  # ~0.0005 expected at this fill
    mixed = [k for pair in zip(added[:500], others[:500]) for k in pair]
    held = keys.maybe_held(mixed)
    assert held == [k for k in mixed if k in set(held)]  # in the order asked
    assert set(added[:500]) <= set(held)


def test_keys_sharing_a_byte_of_the_filter_are_all_kept():
    """Keys whose bits fall in one byte, added in one call: each bit is set, not the last one only."""
    same_byte = [slot << 3 for slot in range(8)]  # first probes: bits 0..7 of byte 0
    keys = KeyFilter()
    keys.add(same_byte)
    assert keys.maybe_held(same_byte) == same_byte
    keys.clear()
    assert keys.maybe_held(same_byte) == [] and keys.maybe_held([]) == []


def test_a_key_without_a_64_bit_value_makes_every_key_a_maybe():
    """The index is given 64-bit hashes; anything else must not turn into a false "no"."""
    keys = KeyFilter()
    keys.add([8, 16])
    assert keys.maybe_held([24, 1 << 70]) == [24, 1 << 70] and keys.maybe_held([24]) == []
    assert keys.maybe_held([1 << 70]) == [1 << 70]
    keys.add([1 << 70])
    assert keys.maybe_held([24, 32]) == [24, 32]
    keys.clear()
    assert keys.maybe_held([8]) == []
