"""Does a change to the worker's page analysis keep its output? Dump it before, dump it after, compare.

    .venv/bin/python -m bench.analysis_identity dump before.json     # on the old code
    .venv/bin/python -m bench.analysis_identity dump after.json      # on the new code
    .venv/bin/python -m bench.analysis_identity compare before.json after.json

What is dumped, for every page of tests/fixtures/eval-generic/ (88 real pages of hosts with no
profile), tests/fixtures/web/ (the target sites' pages, read both with their site's profile and
as a host with no profile) and 20 pages of each host of bench/default_site.py: the `repr` of
what `archive.extract.pool._analyse` returns with the spider's default spec and the
`topic=auto` profile (the `Article`, its dedupe `Fingerprint`, the `PageReading` with every
measured text's score and verdict, each anchor's vector and the page text's heaviest terms: what
the crawl uses of each), of `extract_article` alone, and of the page gate (`judge_page`). Speed
work on these paths must leave every line equal.
To dump the old code, copy this file into a checkout of it (`git worktree add`) and run it there.
`dump --sent` compares what the crawl receives instead: each `_analyse` answer pickled and
unpickled as a worker's answer travels (archive/extract/process_pool.py `_frame`).
"""
from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import fields, is_dataclass
from pathlib import Path

from archive.extract.sent_links import ReceivedLinks

REPO = Path(__file__).resolve().parent.parent


HEAVIEST = 80  # the page text's terms the judged-pages memory keeps (crawler/judged_pages.py TERMS_PER_PAGE)


def _shown(value, page_text: bool = False) -> str:
    """repr, with what a measured text carries beside its characters that the crawl uses: an
    anchor's vector in its order; a page text's heaviest terms (the judged-pages memory keeps
    them, by a stable sort: before the worker sent only those, it sent the whole vector, so
    this reads them off either)."""
    if hasattr(value, "topic_key") and isinstance(value, str):
        if page_text:
            carried = getattr(value, "heaviest", None)
            vector = value.vector
            top = list(carried[0][:HEAVIEST]) if carried else sorted(vector, key=vector.__getitem__,
                                                                     reverse=True)[:HEAVIEST]
            return f"Measured({str(value)!r}, {value.score!r}, {value.enough!r}, heaviest={top!r})"
        return f"Measured({str(value)!r}, {value.score!r}, {value.enough!r}, {list(value.vector.items())!r})"
    if isinstance(value, (tuple, ReceivedLinks)):  # (the links a worker sends, as the crawl receives them)
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    if is_dataclass(value) and not isinstance(value, type):
        return f"{type(value).__name__}(" + ", ".join(
            f"{f.name}={_shown(getattr(value, f.name), f.name == 'text' and type(value).__name__ == 'PageReading')}"
            for f in fields(value)) + ")"
    return repr(value)


def pages(repo: Path):
    """(key, body, url, generic) of every page compared."""
    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.bench_site import HOST

    eval_dir = repo / "tests" / "fixtures" / "eval-generic"
    truth = json.loads((eval_dir / "ground-truth.json").read_text())
    for page_id in sorted(truth):
        yield f"eval-generic/{page_id}", gzip.decompress((eval_dir / "html" / f"{page_id}.html.gz").read_bytes()), \
            truth[page_id]["url"], True
    web = repo / "tests" / "fixtures" / "web"
    for path in sorted(p for p in web.rglob("*.html") if p.is_file()):
        relative = path.relative_to(web).as_posix()
        url = "https://" + (relative[: -len("index.html")] if relative.endswith("index.html") else relative)
        yield f"web/{relative}", path.read_bytes(), url, False
        yield f"web-as-generic/{relative}", path.read_bytes(), url, True
    for host in (HOST, GENERIC_HOST):
        site = DefaultSite(2000, host)
        for n in range(20):
            yield f"bench/{host}/{n}", site.render(n), f"http://{host}/bai-viet-so-{n}-post{100000 + n}.html", False


def dump(out: Path, sent: bool = False) -> int:
    import pickle

    from archive.extract import pool
    from archive.extract.article import extract_article, parse_page
    from archive.extract.page_gate import judge_page
    from archive.extract.topic import load_topic
    from archive.sites import profile_for
    from archive.sites.generic import generic_profile
    from bench.worker_profile import spec_for

    topic = load_topic("auto", REPO / "seeds")
    pool._use_topic(topic)
    lines = {}
    for key, body, url, generic in pages(REPO):
        profile = generic_profile(url) if generic else profile_for(url)
        spec = spec_for(profile, generic=generic or profile.name.startswith("generic"))
        analysed = pool._analyse(body, url, profile.extraction, None, spec, True, topic.key)
        if sent:
            analysed = pickle.loads(pickle.dumps(analysed, protocol=pickle.HIGHEST_PROTOCOL))
        lines[key + " analyse"] = _shown(analysed)
        lines[key + " extract"] = _shown(extract_article(body, url, profile.extraction))
        tree = parse_page(body, url).tree
        lines[key + " gate"] = _shown(judge_page(tree) if tree is not None else None)
    out.write_text(json.dumps(lines, indent=0, ensure_ascii=False) + "\n")
    print(f"{len(lines)} results of {len(lines) // 3} pages written to {out}")
    return 0


def compare(before: Path, after: Path) -> int:
    old, new = (json.loads(p.read_text()) for p in (before, after))
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    for key in differ[:20]:
        print(f"differs: {key}\n  before: {str(old.get(key))[:400]}\n  after:  {str(new.get(key))[:400]}")
    print(f"{len(old)} results before, {len(new)} after, {len(differ)} differ")
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dumped = sub.add_parser("dump")
    dumped.add_argument("out", type=Path)
    dumped.add_argument("--sent", action="store_true", help="the answers as the crawl receives them (pickled)")
    both = sub.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    return dump(args.out, args.sent) if args.command == "dump" else compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
