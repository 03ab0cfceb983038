"""The docs name only files that exist, and nothing outside the repository."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATH_IN_BACKTICKS = re.compile(r"`((?:archive|crawler|testbed|tests|bench|docs)/[\w./-]*)`")


def test_every_repo_path_the_readme_and_architecture_tables_name_exists():
    for doc in ("README.md", "docs/architecture.md"):
        text = "\n".join(line for line in (REPO / doc).read_text("utf-8").splitlines() if line.startswith("|"))
        missing = sorted({p for p in PATH_IN_BACKTICKS.findall(text) if "*" not in p and "<" not in p
                          and not (REPO / p.rstrip("/")).exists()})
        assert not missing, f"{doc} names paths that do not exist: {missing}"


def test_settings_reference_is_generated_from_the_settings_module():
    from crawler.settings_doc import declared_settings, render
    from crawler import settings as project

    assert (REPO / "docs" / "settings.md").read_text("utf-8") == render(), "docs/settings.md is stale: make settings-doc"
    listed = {name for _, rows in declared_settings() for name, _, _ in rows}
    assert listed == {name for name in vars(project) if name.isupper()}  # every setting, nothing else


def test_no_tracked_text_refers_to_documents_outside_the_repo():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    outside = re.compile(r"\.\./shared/|/work/shared|\b(?:DESIGN|SITES|PITFALLS)\.md")
    offenders = []
    for name in filter(None, files.decode().split("\0")):
        path = REPO / name
        # Fixture pages and generated pages keep their bytes (their comments name SITES.md).
        if name.startswith("tests/fixtures/") or name in ("testbed/bench_site.py", "tests/test_docs.py") or path.suffix not in (".py", ".md", ".toml", ".cfg", ".txt", ""):
            continue
        if path.is_file() and outside.search(path.read_text("utf-8", errors="replace")):
            offenders.append(name)
    assert not offenders, f"refer to documents outside the repo (use docs/...): {offenders}"
