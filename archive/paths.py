"""Where this checkout keeps what ships with it: one place, so moving a module never moves a path."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The five seed articles the corpus starts from (CORPUS_SEEDS, archive extract's default).
SHIPPED_SEEDS = PROJECT_ROOT / "seeds"
# The evaluation sets `python -m archive eval` scores against by default (`make eval`); they live
# with the test fixtures because the tests crawl the same pages. The library functions take paths.
EVAL_WEB = PROJECT_ROOT / "tests" / "fixtures" / "web"  # target-site pages (<host>/<path>)
EVAL_GOLD = PROJECT_ROOT / "tests" / "fixtures" / "gold"  # their hand-cut gold texts
EVAL_BASELINE = PROJECT_ROOT / "tests" / "eval_baseline.json"  # the floors `make eval` enforces
EVAL_GENERIC = PROJECT_ROOT / "tests" / "fixtures" / "eval-generic"  # 88 real pages of other hosts
