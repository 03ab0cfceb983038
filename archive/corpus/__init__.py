"""The seed-format corpus: store, manifest fold and reconciliation, dedupe, seeds, re-extraction, reading and export."""
