"""`python -m archive report DIR --out PATH`: one self-contained HTML page about a crawl and its corpus.

Charts (plotly, its JavaScript bundle embedded, so the file opens offline and
can be mailed around): articles per site per publication day, words per
article, HTTP status codes, fetch rate over time (WARC capture dates, and
each run's average from `runs.jsonl`), topic scores of the pages a topic
crawl kept vs dropped, and what dedupe did. A chart whose data is missing
(no WARC files beside the corpus, no crawl log, a crawl without a topic
filter) is replaced by a sentence saying what is missing and where it
would come from; the page never shows an empty chart.
"""
from __future__ import annotations

import argparse
import html
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from archive.corpus.columns import published_time
from archive.corpus.reader import CorpusReadError, CorpusView, read_corpus
from archive.corpus.crawl_history import CrawlHistory, FetchRecord, locate_history
from archive.writable import staged_file

# Bucket sizes for the fetch-rate chart, in seconds: the smallest giving at most MAX_BUCKETS bars.
_BUCKETS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 120
SCORE_BIN = 0.02


@dataclass
class Chart:
    key: str  # the chart's element id is chart-<key>
    title: str
    note: str  # one line under the title: where the numbers come from
    figure: object | None  # a plotly Figure; None: no data, `note` says why


def build_report(view: CorpusView, history: CrawlHistory, title: str) -> tuple[str, list[Chart]]:
    """The page and its charts (each chart's `figure` is None when its data is missing)."""
    fetches = list(history.fetches())
    runs = history.runs()
    charts = [_per_day(view), _words(view), _statuses(fetches, runs), _fetch_rate(fetches, runs),
              _topic(view, history), _dedupe(view, runs)]
    return _page(title, _summary_rows(view, history, len(fetches), len(runs)), charts), charts


def _per_day(view: CorpusView) -> Chart:
    import plotly.graph_objects as go

    counts: dict[str, Counter] = defaultdict(Counter)
    undated = 0
    for article in view:
        published = published_time(article)
        if published:
            counts[article.host][published.date().isoformat()] += 1
        else:
            undated += 1
    note = "by publication day (GMT+7) of each article's latest version" + (
        f"; {undated} article(s) without a date are not shown" if undated else "")
    if not counts:
        return Chart("per-day", "Articles per site per day", "no article has a publication date", None)
    # Days with articles only, as categories: on a time axis a day's bar is invisible in years of dates.
    all_days = sorted({day for days in counts.values() for day in days})
    figure = go.Figure([go.Bar(name=site, x=all_days, y=[days.get(d, 0) for d in all_days])
                        for site, days in sorted(counts.items())])
    figure.update_layout(barmode="stack", xaxis_title="published (days with articles)", yaxis_title="articles",
                         xaxis_type="category")
    return Chart("per-day", "Articles per site per day", note, figure)


def _words(view: CorpusView) -> Chart:
    import plotly.graph_objects as go

    groups = {"crawled": [], "seed files": []}
    for article in view:
        words = article.fields.get("words")
        if isinstance(words, int):
            groups["seed files" if article.entry.get("seed") else "crawled"].append(words)
    figure = go.Figure([go.Histogram(name=name, x=values, nbinsx=30) for name, values in groups.items() if values])
    figure.update_layout(barmode="stack", xaxis_title="words", yaxis_title="articles")
    return Chart("words", "Words per article", "manifest `words` of each article's latest version "
                 "(a seed a crawl reached: of the crawled extraction)", figure if figure.data else None)


def _statuses(fetches: list[FetchRecord], runs: list[dict]) -> Chart:
    import plotly.graph_objects as go

    counts = Counter(str(f.status or "?") for f in fetches)
    source = "HTTP responses and revisits in the WARC files"
    if not counts:
        for run in runs:
            counts.update({str(k): int(v) for k, v in (run.get("pages_by_status") or {}).items()})
        source = "pages by status in runs.jsonl (no WARC files found)"
    if not counts:
        return Chart("status", "HTTP status codes", "no WARC files and no runs.jsonl beside the corpus", None)
    codes = sorted(counts)
    figure = go.Figure(go.Bar(x=codes, y=[counts[c] for c in codes], text=[counts[c] for c in codes],
                              marker_color=[_status_colour(c) for c in codes]))
    figure.update_layout(xaxis_title="status", yaxis_title="responses", xaxis_type="category")
    return Chart("status", "HTTP status codes", source, figure)


def _status_colour(code: str) -> str:
    return {"2": "#2ca02c", "3": "#1f77b4", "4": "#ff7f0e", "5": "#d62728"}.get(code[:1], "#7f7f7f")


def _fetch_rate(fetches: list[FetchRecord], runs: list[dict]) -> Chart:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(specs=[[{"secondary_y": True}]])
    notes = []
    if fetches:
        first, last = min(f.date for f in fetches), max(f.date for f in fetches)
        span = (last - first).total_seconds()
        size = next((b for b in _BUCKETS if span / b <= MAX_BUCKETS), _BUCKETS[-1])
        buckets = Counter(first + timedelta(seconds=size * ((f.date - first).total_seconds() // size))
                          for f in fetches)
        times = sorted(buckets)
        figure.add_trace(go.Bar(name=f"captures per {_duration(size)} (WARC dates)", x=times,
                                y=[buckets[t] for t in times]), secondary_y=False)
        figure.update_yaxes(title_text=f"captures per {_duration(size)}", secondary_y=False)
        notes.append(f"{len(fetches)} captures from WARC-Date")
    rated = [(start, pages / seconds) for start, seconds, pages in map(_run_span, runs) if start and seconds]
    if rated:
        figure.add_trace(go.Scatter(name="run average pages/s (runs.jsonl)", x=[r[0] for r in rated],
                                    y=[round(r[1], 2) for r in rated], mode="markers", marker_size=10),
                         secondary_y=True)
        figure.update_yaxes(title_text="pages/s per run", secondary_y=True, rangemode="tozero")
        notes.append(f"{len(rated)} run(s) from runs.jsonl")
    if not figure.data:
        return Chart("fetch-rate", "Fetch rate over time", "no WARC files and no runs.jsonl beside the corpus", None)
    figure.update_layout(xaxis_title="time (UTC)", legend_orientation="h")
    return Chart("fetch-rate", "Fetch rate over time", "; ".join(notes), figure)


def _run_span(run: dict) -> tuple[datetime | None, float, int]:
    try:
        start = datetime.fromisoformat(run["start"]).astimezone(timezone.utc)
        seconds = max((datetime.fromisoformat(run["end"]) - datetime.fromisoformat(run["start"])).total_seconds(), 1.0)
        return start, seconds, int(run.get("pages_fetched") or 0)
    except (KeyError, TypeError, ValueError):
        return None, 0.0, 0


def _duration(seconds: int) -> str:
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}"
    return "s" if seconds == 1 else f"{seconds} s"


def _topic(view: CorpusView, history: CrawlHistory) -> Chart:
    import plotly.graph_objects as go

    kept = [float(fields["score"]) for article in view
            for fields in (*(v.fields for v in article.versions), *article.aliases)
            if isinstance(fields.get("score"), (int, float))]
    dropped = history.off_topic()
    if not kept and not dropped:
        return Chart("topic", "Topic scores: kept vs dropped",
                     "no topic scores: the crawl ran without a topic filter (topic=none)", None)
    bins = {"start": 0, "end": 1, "size": SCORE_BIN}
    figure = go.Figure([go.Histogram(name=name, x=values, xbins=bins, opacity=0.75)
                        for name, values in ((f"kept ({len(kept)})", kept), (f"dropped ({len(dropped)})",
                                                                               [d.score for d in dropped]))
                        if values])
    thresholds = sorted({d.threshold for d in dropped})
    for threshold in thresholds:
        figure.add_vline(x=threshold, line_dash="dash", annotation_text=f"threshold {threshold}")
    figure.update_layout(barmode="overlay", xaxis_title="topic score", yaxis_title="pages",
                         xaxis_range=[0, max([*kept, *(d.score for d in dropped), 0.5]) + SCORE_BIN])
    note = "kept: manifest `score` of articles, versions and aliases"
    note += (f"; dropped: off-topic pages named in {history.log_path.name}" if history.log_path
             else "; dropped pages' scores are only in the crawl log, and none was found beside the corpus")
    return Chart("topic", "Topic scores: kept vs dropped", note, figure)


def _dedupe(view: CorpusView, runs: list[dict]) -> Chart:
    import plotly.graph_objects as go

    aliases = Counter(str(a.get("status") or "alias") for article in view for a in article.aliases)
    outcomes = {
        "new article (own file)": sum(not a.entry.get("seed") for a in view),
        "seed reached by the crawl": sum(bool(a.entry.get("matched")) for a in view),
        "same text, other URL (alias)": aliases.pop("duplicate-text", 0),
        "near-duplicate, other URL (alias)": aliases.pop("near-duplicate", 0),
        **{f"{status} (alias)": count for status, count in aliases.items()},
        "changed text, same URL (new version)": sum(len(a.earlier_versions) for a in view),
    }
    note = "from the folded manifest"
    if runs:
        outcomes["same URL, same text again (runs.jsonl)"] = sum(int(r.get("unchanged_articles") or 0) for r in runs)
        note += " and runs.jsonl"
    names = list(outcomes)
    figure = go.Figure(go.Bar(x=[outcomes[n] for n in names], y=names, orientation="h",
                              text=[outcomes[n] for n in names]))
    figure.update_layout(xaxis_title="articles", yaxis_autorange="reversed", margin_l=260)
    return Chart("dedupe", "Dedupe outcomes", note, figure if any(outcomes.values()) else None)


def _summary_rows(view: CorpusView, history: CrawlHistory, fetches: int, runs: int) -> list[tuple[str, str]]:
    warcs = history.warc_files(view.warc_files())
    crawl_ids = sorted({w.crawl_id for w in warcs if w.crawl_id})
    seeds = sum(bool(a.entry.get("seed")) for a in view)
    return [
        ("corpus", str(view.directory)),
        ("articles", f"{len(view)} ({seeds} seed files, {len(view) - seeds} crawled) from {view.lines} manifest rows"
                     + (f"; {len(view.removed)} removed" if view.removed else "")),
        ("WARC directory", str(history.warc_dir or "not found")),
        ("WARC files the corpus points into", f"{sum(w.path is not None for w in warcs)} found of {len(warcs)}"),
        ("crawl ids", ", ".join(crawl_ids) or "-"),
        ("captures (responses and revisits)", str(fetches)),
        ("crawl runs (runs.jsonl)", str(runs) if history.runs_path else "no runs.jsonl found"),
        ("crawl log", str(history.log_path or "not found")),
    ]


def _page(title: str, summary: list[tuple[str, str]], charts: list[Chart]) -> str:
    from plotly.offline import get_plotlyjs

    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary)
    sections = []
    for chart in charts:
        body = (chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{chart.key}",
                                     default_height="420px", config={"displaylogo": False, "responsive": True})
                if chart.figure is not None else f'<p class="missing">No chart: {html.escape(chart.note)}.</p>')
        sections.append(f'<section id="{chart.key}"><h2>{html.escape(chart.title)}</h2>'
                        f'<p class="note">{html.escape(chart.note) if chart.figure is not None else ""}</p>'
                        f"{body}</section>")
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .2em .8em; border-bottom: 1px solid #ddd; }}
th {{ font-weight: 600; }} .note {{ color: #555; margin-top: -.6em; }} .missing {{ color: #a40; }}
section {{ margin-top: 2.5em; }}
</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Made {made} by <code>python -m archive report</code>. Self-contained: opens offline.</p>
<table>{rows}</table>
{''.join(sections)}
</body></html>
"""


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="a corpus directory (or a crawl's output directory "
                        "holding corpus/)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH", help="the HTML file to write")
    parser.add_argument("--warc", type=Path, metavar="DIR", help="the WARC files (default: warc/ beside the corpus)")
    parser.add_argument("--runs", type=Path, metavar="FILE",
                        help="the crawl's runs.jsonl (default: runs.jsonl beside the corpus)")
    parser.add_argument("--log", type=Path, metavar="FILE", help="the crawl log, for the scores of pages the topic "
                        "filter dropped (default: crawl.log beside the corpus)")
    parser.add_argument("--title", default=None, help="page title (default: the corpus directory)")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    try:
        view = read_corpus(args.directory)
        history = locate_history(view.directory, warc_dir=args.warc, runs=args.runs, log=args.log)
        if args.out.is_dir():
            raise CorpusReadError(f"--out {args.out} is a directory")
        page, charts = build_report(view, history, args.title or f"Crawl report: {view.directory}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with staged_file(args.out) as staged:
            staged.write_text(page, encoding="utf-8")
    except CorpusReadError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    drawn = [c.title for c in charts if c.figure is not None]
    print(f"report → {args.out} ({len(drawn)} of {len(charts)} charts drawn"
          + "".join(f"; no {c.title.lower()}: {c.note}" for c in charts if c.figure is None) + ")")
    return 0
