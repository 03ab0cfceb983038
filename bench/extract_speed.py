"""Extraction speed: articles/s on one core, and parallel re-extraction of a WARC archive.

    .venv/bin/python -m bench.extract_speed [--articles 10000] [--workers 1,2] [--keep DIR]

No crawl needed: a synthetic archive is written with archive/warc/writer.py's own
writer from the gold fixture pages (both sites' markup, captions, JSON-LD),
each copy under its own article URL with freshly generated Vietnamese body
text, so the corpus dedupe writes every article instead of folding them into
eleven. Bodies are gzip-encoded and every third one is sent chunked, as on
the wire; each request carries a Referer.

Reported: `extract_article` alone on one core; walking the archive alone
(the sequential part of `python -m archive extract`); and the whole
re-extraction (`archive.corpus.reextract.reextract`: read, extract in a process
pool, write the corpus) for each worker count. Target (issue 4): 10,000
archived articles in under 5 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html

from archive.corpus.store import Corpus
from archive.extract.article import extract_article
from archive.warc.reader import iter_responses
from archive.corpus.reextract import SiteRules, reextract
from archive.warc.exchange import Exchange
from archive.warc.records import WarcInfo
from archive.warc.writer import WarcWriter
from archive.sites import hints_for, profile_for

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "tests" / "fixtures" / "web"
GOLD = REPO / "tests" / "fixtures" / "gold"
_SLOT = re.compile(r"@@(TITLE|LEAD|P\d+)@@")
_ID_AT_END = re.compile(r"\d{3,}(?=(?:\.[a-z]+)?$)")  # the article id at the end of the path


# --------------------------------------------------------------------------- the archive
class PageTemplate:
    """A gold fixture page with slots where the title, sapo and body paragraphs go."""

    def __init__(self, url: str, page: bytes, vocabulary: list[str], *, pad_kb: int = 0):
        self.url = url
        hints = hints_for(url)
        tree = lxml.html.document_fromstring(page.decode("utf-8"))
        for el in _first(tree, hints.title)[:1]:
            _set_text(el, "@@TITLE@@")
        for el in _first(tree, hints.lead)[:1]:
            _set_text(el, "@@LEAD@@")
        self.paragraphs = []  # word count of each body paragraph, to generate alike
        for body in _first(tree, hints.body):
            for p in body.iter("p"):
                if p.text_content().strip():
                    self.paragraphs.append(len(p.text_content().split()))
                    _set_text(p, f"@@P{len(self.paragraphs) - 1}@@")
        self.html = "<!DOCTYPE html>\n" + lxml.html.tostring(tree, encoding="unicode")
        # Real article pages are 100-200 KB: most of it menus, teaser boxes and scripts.
        self.html = self.html.replace("</body>", _furniture(pad_kb) + "</body>", 1)
        self.vocabulary = vocabulary

    def render(self, n: int, url: str) -> bytes:
        rng = random.Random(n)

        def words(count: int) -> str:
            text = " ".join(rng.choice(self.vocabulary) for _ in range(max(count, 8)))
            return html.escape(text[:1].upper() + text[1:] + ".", quote=False)

        slots = {"TITLE": f"Bài viết số {n}: " + words(10), "LEAD": words(35)}
        slots.update({f"P{i}": words(count) for i, count in enumerate(self.paragraphs)})
        page = _SLOT.sub(lambda m: slots[m.group(1)], self.html)
        return page.replace(self.url, url).encode("utf-8")


_TEASER = ('<article class="story"><a class="story__thumb" href="/bai-lien-quan-{i}-post{i}.html">'
           '<img src="/img/{i}.jpg" alt="Bài viết liên quan số {i} về hợp tác Việt Nam - Lào"></a>'
           '<h3 class="story__heading"><a class="cms-link" href="/bai-lien-quan-{i}-post{i}.html">'
           'Bài viết liên quan số {i} về hợp tác Việt Nam - Lào</a></h3><p class="story__summary">Tóm tắt '
           'bài viết số {i}: các hoạt động giao lưu, hợp tác giữa hai nước trong năm qua.</p></article>\n')


def _furniture(kb: int) -> str:
    """About `kb` KB of page furniture: a teaser sidebar and an inline script."""
    if kb <= 0:
        return ""
    teasers, size, i = [], 0, 0
    while size < kb * 1024 * 0.8:
        teasers.append(_TEASER.format(i=i))
        size += len(teasers[-1].encode())
        i += 1
    script = "<script>window.ads = [" + ",".join(f'{{"slot": {n}}}' for n in range(int(kb * 1024 * 0.2 / 12))) + "];</script>"
    return '<aside class="box-more">' + "".join(teasers) + "</aside>" + script


def _first(tree, selectors):
    """Elements of the first selector that matches (the hints' semantics)."""
    for selector in selectors:
        found = tree.cssselect(selector)
        if found:
            return found
    return []


def _set_text(el, text: str) -> None:
    for child in list(el):
        el.remove(child)
    el.text = text


def gold_templates(pad_kb: int = 0) -> list[PageTemplate]:
    texts, pages = [], []
    for expected in sorted(GOLD.rglob("*.txt")):
        rel = expected.relative_to(GOLD).with_suffix("").as_posix()
        if (WEB / rel).is_file():
            texts.append(expected.read_text("utf-8"))
            pages.append((f"https://{rel}", (WEB / rel).read_bytes()))
    vocabulary = sorted({w for text in texts for w in re.findall(r"\w+", text) if not w.isdigit()})
    templates = [PageTemplate(url, page, vocabulary, pad_kb=pad_kb) for url, page in pages]
    # Only pages whose site profile locates the body can be refilled, and only
    # URLs with an id at the end can be varied (else every copy is one URL).
    return [t for t in templates if t.paragraphs and profile_for(article_url(t.url, 1)).is_article_url(
        article_url(t.url, 1)) and article_url(t.url, 1) != t.url]


def article_url(template_url: str, n: int) -> str:
    return _ID_AT_END.sub(str(9_000_000 + n), template_url, count=1)


def chunked(body: bytes, pieces: int = 3) -> bytes:
    step = max(1, len(body) // pieces)
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                    for i in range(0, len(body), step)) + b"0\r\n\r\n"


def write_archive(directory: Path, articles: int, *, pad_kb: int = 0, max_size: int = 200_000_000
                  ) -> list[Path]:
    """A synthetic crawl of `articles` article pages; returns the WARC files in order."""
    templates = gold_templates(pad_kb)
    writer = WarcWriter(directory, info=WarcInfo(software="bench.extract_speed", hostname="bench"),
                        prefix="bench", max_size=max_size)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    previous = None
    for n in range(articles):
        template = templates[n % len(templates)]
        url = article_url(template.url, n)
        payload = gzip.compress(template.render(n, url), compresslevel=6, mtime=0)
        is_chunked = n % 3 == 0
        framing = "Transfer-Encoding: chunked" if is_chunked else f"Content-Length: {len(payload)}"
        path = url.split("/", 3)[3]
        referer = f"Referer: {previous}\r\n" if previous else ""
        writer.write_exchange(Exchange(
            url=url,
            request_head=(f"GET /{path} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n"
                          f"Accept-Encoding: gzip\r\n{referer}\r\n").encode(),
            request_body=b"",
            response_head=("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                           f"Content-Encoding: gzip\r\n{framing}\r\n\r\n").encode(),
            response_block_body=chunked(payload) if is_chunked else payload,
            payload=payload,
            ip_address="127.0.0.1",
            fetched_at=start + timedelta(seconds=n),
        ))
        previous = url
    writer.close()
    return sorted(directory.glob("*.warc.gz"))


# --------------------------------------------------------------------------- measurements
def single_core_extraction(files: list[Path], sample: int) -> dict:
    pages = []
    for response in iter_responses(files):
        pages.append((response.payload, response.url, response.charset))
        if len(pages) >= sample:
            break
    started = time.perf_counter()
    articles = sum(extract_article(body, url, hints_for(url), encoding=charset).is_article
                   for body, url, charset in pages)
    seconds = time.perf_counter() - started
    return {"pages": len(pages), "articles": articles, "seconds": round(seconds, 2),
            "articles_per_s": round(len(pages) / seconds, 1)}


def archive_walk(files: list[Path]) -> dict:
    rules = SiteRules.from_site_profiles()
    started = time.perf_counter()
    count = sum(1 for _ in iter_responses(files, select=lambda url, status: rules.is_article_url(url)))
    seconds = time.perf_counter() - started
    return {"pages": count, "seconds": round(seconds, 2), "pages_per_s": round(count / seconds, 1)}


def parallel_reextraction(files: list[Path], workers: int, work: Path) -> dict:
    out = work / f"corpus-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    corpus = Corpus(out, None)
    stats = reextract(files, corpus, rules=SiteRules.from_site_profiles(), workers=workers)
    seconds = time.perf_counter() - started
    # Other work on the machine shows up here; a shared box gives noisy figures.
    load = round(os.getloadavg()[1], 2)
    return {"workers": workers, "load_average": load, "pages": stats.pages, "written": stats.outcomes.get("written", 0),
            "outcomes": dict(stats.outcomes), "seconds": round(seconds, 1),
            "articles_per_s": round(stats.pages / seconds, 1),
            "seconds_per_10k": round(10_000 * seconds / max(stats.pages, 1), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000, help="articles in the synthetic archive")
    parser.add_argument("--workers", default=",".join(sorted({"0", "1", str(os.cpu_count() or 1)})),
                        help="comma-separated worker counts to time (0 = inline; default: 0, 1 and all cores)")
    parser.add_argument("--pad-kb", type=int, default=100,
                        help="page furniture added to each page, KB (real pages are 100-200 KB; 0 = bare fixtures)")
    parser.add_argument("--sample", type=int, default=500, help="pages for the one-core extraction figure")
    parser.add_argument("--keep", type=Path, help="keep the archive and corpora here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="extract-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        warc_dir = work / "warc"
        shutil.rmtree(warc_dir, ignore_errors=True)
        files = write_archive(warc_dir, args.articles, pad_kb=args.pad_kb)
        size = sum(p.stat().st_size for p in files)
        print(f"synthetic archive: {args.articles:,} article pages (+{args.pad_kb} KB furniture each), "
              f"{len(files)} WARC file(s), "
              f"{size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s", flush=True)
        results = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                   "archive": {"articles": args.articles, "pad_kb": args.pad_kb, "files": len(files), "bytes": size}}
        results["single_core"] = one = single_core_extraction(files, args.sample)
        print(f"extract_article alone, one core: {one['articles_per_s']} articles/s "
              f"({one['pages']} pages in {one['seconds']} s)", flush=True)
        results["walk"] = walk = archive_walk(files)
        print(f"reading the archive alone (main process): {walk['pages_per_s']} pages/s "
              f"({walk['pages']:,} in {walk['seconds']} s)", flush=True)
        results["reextract"] = []
        for workers in sorted({int(w) for w in args.workers.split(",") if w.strip()}):
            run = parallel_reextraction(files, workers, work)
            results["reextract"].append(run)
            verdict = "meets" if run["seconds_per_10k"] < 300 else "misses"
            print(f"python -m archive extract, {workers} worker(s): {run['articles_per_s']} articles/s, "
                  f"{run['pages']:,} pages in {run['seconds']} s ({run['written']:,} written) → "
                  f"{run['seconds_per_10k']} s per 10,000 ({verdict} the 5-minute target; "
                  f"load average {run['load_average']})", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
