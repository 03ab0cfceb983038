"""Near-duplicate detection for the corpus: fingerprints (fingerprint.py), the look-up (finder.py) and its
on-disk containment index (shingle_index.py)."""
