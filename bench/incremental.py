"""Incremental re-crawl benchmark: a 2,000-page site crawled, 1 % of it edited, crawled again.

The site is testbed/bench_site.py's generated nhandan-style site, with a listing that
links every page (so a re-crawl does not depend on following links out of
unchanged pages), `ETag`/`Last-Modified` on every article, 304 answers to
matching conditional requests, and a sitemap (`/sitemaps.xml`, the nhandan
profile's discovery entry point, also named in robots.txt) with a `<lastmod>`
per article that moves when the article is edited, as a CMS does. Four crawls
share one archive, corpus and state, all with the scheduled-crawl command
(`scrapy crawl news -a since=all`: discovery on):

1. first crawl: everything is new;
2. 1 % edited, re-crawl with the default settings (`REVISIT_LASTMOD=trust`):
   only the articles whose sitemap lastmod moved are requested;
3. another 1 % edited, re-crawl revalidating all (`REVISIT_OLD_EVERY=0`,
   `REVISIT_LASTMOD=ignore`): every article is asked for with
   `If-None-Match`; the edited come back 200 (new WARC response and a corpus
   version), the rest 304 (small revisit records);
4. nothing edited, re-crawl under the age policy alone (`REVISIT_LASTMOD=ignore`;
   articles older than 2 days: every 30 days): known articles are not requested.

Time and bytes written (WARC, from the crawl report) of each re-crawl are
compared with the first, and each re-crawl is checked to have caught the edits
made before it (a corpus version per edited article). Results: printed and
written to bench/incremental.json; the exit status is 1 if a run missed an edit.
`python -m bench.incremental [--pages N]`
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from email.utils import formatdate
from pathlib import Path

from testbed.bench_site import HOST, BenchSite, article_url
from testbed.fixtureserver import Reply
from testbed.incremental_site import _request, serve

REPO = Path(__file__).resolve().parent.parent
LAST_MODIFIED = formatdate(1726060500, usegmt=True)  # 2024-09-11 13:15 UTC, the pages' date
PUBLISHED = "2024-09-11T20:15:00+07:00"  # the same moment: the sitemap lastmod of a page never edited
SITEMAP = f"https://{HOST}/sitemaps.xml"  # archive/sites/nhandan.py entry_points


class ConditionalBenchSite(BenchSite):
    """BenchSite plus validators, 304s, a full listing, a sitemap with lastmod, and edits of chosen pages."""

    def __init__(self, pages: int):
        super().__init__(pages)
        self.edited: set[int] = set()
        self.lastmod: dict[int, str] = {}  # n -> sitemap lastmod of an edited page: when it was edited
        self.not_modified = 0

    def edit(self, pages) -> None:
        now = datetime.now(timezone.utc).isoformat()
        for n in pages:
            self.edited.add(n)
            self.lastmod[n] = now

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")],
                         body=f"User-agent: *\nDisallow: /api/\nSitemap: {SITEMAP}\n".encode())
        if path_qs == "/sitemaps.xml":
            urls = "".join(f"<url><loc>{article_url(i)}</loc><lastmod>{self.lastmod.get(i, PUBLISHED)}</lastmod></url>"
                           for i in range(self.pages))
            return Reply(headers=[("Content-Type", "application/xml; charset=utf-8")], body=(
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>").encode())
        if path_qs == "/tin-moi.html":
            links = "".join(f'<article class="story"><a class="cms-link" href="{article_url(i)}">{i}</a></article>'
                            for i in range(self.pages))
            return Reply(headers=[("Content-Type", "text/html; charset=utf-8")],
                         body=f'<html><body><div class="box-stream">{links}</div></body></html>'.encode())
        reply = super().resolve(host, path_qs)
        if host != HOST or reply.status != 200 or "-post" not in path_qs:
            return reply
        n = int(path_qs.rsplit("-post", 1)[1].split(".")[0]) - 100000
        if n in self.edited:  # an edited page: new text, new validators
            body = reply.body
            if dict(reply.headers).get("Content-Encoding") == "gzip":
                import gzip
                body = gzip.decompress(body)
            body = body.replace(b"</div>\n<div class=\"article__author\">",
                                "<p>Cập nhật: bài viết được biên tập lại.</p></div>\n"
                                "<div class=\"article__author\">".encode())
            reply = Reply(headers=[("Content-Type", "text/html; charset=utf-8")], body=body,
                          chunked=reply.chunked)
        etag = '"%s"' % hashlib.sha1(f"{n}:{n in self.edited}".encode()).hexdigest()[:16]
        reply.headers += [("ETag", etag), ("Last-Modified", LAST_MODIFIED)]
        headers = getattr(_request, "headers", None)
        if headers is not None and headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return Reply(status=304, headers=[("ETag", etag), ("Last-Modified", LAST_MODIFIED)],
                         encoding="identity")
        return reply


def crawl(server, site: ConditionalBenchSite, work: Path, label: str, extra: dict) -> dict:
    settings = {"WARC_DIR": work / "warc", "CORPUS_DIR": work / "corpus", "CORPUS_SEEDS": "",
                "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                "LOG_LEVEL": "WARNING", "LOG_FILE": work / f"{label}.log", **extra}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}", "-a", "since=all",
           "-a", "depth=1", "-a", "topic=none", "-a", f"max_pages={site.pages + 10}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    started = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()}, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    report = json.loads((work / "runs.jsonl").read_text().splitlines()[-1])
    return {"label": label, "wall_s": round(wall, 2), "pages_fetched": report["pages_fetched"],
            "pages_by_status": report["pages_by_status"], "bytes_archived": report["bytes_archived"],
            "new_articles": report["new_articles"], "changed_articles": report["changed_articles"],
            "revisits": report["revisits"], "skipped_not_due": report["skipped_not_due"],
            "due_lastmod": report["due_lastmod"], "skipped_lastmod": report["skipped_lastmod"],
            "peak_rss_mb": round(report["peak_rss_bytes"] / 2**20, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of pages edited between crawls")
    args = parser.parse_args(argv)
    site = ConditionalBenchSite(args.pages)
    server = serve(site)
    work = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    step = max(1, round(1 / args.changed))
    plan = [  # label, pages edited just before, settings
        ("first", [], {}),
        ("recrawl-lastmod", range(0, args.pages, step), {}),
        ("recrawl-revalidate-all", range(step // 2, args.pages, step),
         {"REVISIT_OLD_EVERY": "0", "REVISIT_LASTMOD": "ignore"}),
        ("recrawl-default-policy", [], {"REVISIT_LASTMOD": "ignore"}),
    ]
    runs = []
    try:
        for label, edits, extra in plan:
            site.edit(edits)
            run = crawl(server, site, work, label, extra)
            run["edited_before"] = len(edits)
            runs.append(run)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    first = runs[0]
    for run in runs[1:]:
        run["bytes_vs_first_pct"] = round(100 * run["bytes_archived"] / first["bytes_archived"], 2)
        run["speedup_vs_first"] = round(first["wall_s"] / run["wall_s"], 1)
        run["caught_edits"] = run["changed_articles"] == run["edited_before"]
    results = {"pages": args.pages, "edited_per_step": len(plan[1][1]), "machine": {"cores": os.cpu_count()},
               "runs": runs}
    (REPO / "bench" / "incremental.json").write_text(json.dumps(results, indent=1) + "\n")
    for run in runs:
        extra = ""
        if "speedup_vs_first" in run:
            caught = (f"caught {run['changed_articles']}/{run['edited_before']} edits" if run["edited_before"]
                      else f"no edits to catch, {run['changed_articles']} changed")
            extra = (f"; {run['bytes_vs_first_pct']} % of the first crawl's bytes, {run['speedup_vs_first']}× "
                     f"faster; {caught}{'' if run['caught_edits'] else ' (MISSED)'}")
        print(f"{run['label']:24} {run['wall_s']:7.1f} s  {run['pages_fetched']:5} pages {run['pages_by_status']}  "
              f"{run['bytes_archived']:>11,} WARC bytes  new {run['new_articles']}, changed "
              f"{run['changed_articles']}, revisits {run['revisits']}, not due {run['skipped_not_due']}, "
              f"lastmod: due {run['due_lastmod']}, unchanged {run['skipped_lastmod']}{extra}")
    return 0 if all(run.get("caught_edits", True) for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
