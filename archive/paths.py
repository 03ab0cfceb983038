"""Where this checkout keeps what ships with it: one place, so moving a module never moves a path."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The five seed articles the corpus starts from (CORPUS_SEEDS, archive extract's default).
SHIPPED_SEEDS = PROJECT_ROOT / "seeds"
