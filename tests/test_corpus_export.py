"""The demo corpus as researchers use it: Parquet/JSONL/CSV export, loaded by pandas and `datasets`,
and the HTML crawl report, opened in headless Chromium."""
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from archive.cli import main
from archive.corpus.consistency import MANIFEST_NAME
from archive.corpus.columns import COLUMNS
from archive.extract.requisites import kind_by_extension
from archive.serve import CHROMIUM_FLAGS
from archive.urls import url_hash16
from testbed.demo import run_demo
from tests.test_corpus_reader import MIRROR, URL, build_corpus

VN = timezone(timedelta(hours=7))
CHARTS = ("per-day", "words", "status", "fetch-rate", "topic", "dedupe")
# Independent of archive/corpus/reader.py: what the seed-format files and manifest say.
PLAIN_FIELDS = ("url", "canonical_url", "site", "title", "date_line", "author", "category", "lead", "language",
                "text_sha256", "simhash", "warc_file", "warc_record_id", "found_from", "rule", "matched_by")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`make demo`'s output (crawl, export, report) in a temporary directory."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert run_demo(out) == 0
    return out


def none_if_na(value):
    return None if not isinstance(value, (list, dict)) and pd.isna(value) else value


def seed_format_corpus(corpus: Path) -> list[dict]:
    """Every numbered file with its text and its manifest rows merged in order (later keys winning;
    an alias or version row adds one element to its list; a full record starts afresh; an entry
    last marked `removed`, e.g. a syndicated copy superseded by its original, is gone)."""
    merged: dict[str, dict] = {}
    for line in (corpus / MANIFEST_NAME).read_text("utf-8").splitlines():
        row = json.loads(line)
        if "update" not in row:
            merged.pop(row["file"], None)
        entry = merged.setdefault(row["file"], {})
        for key, plural in (("alias", "aliases"), ("version_entry", "versions")):
            if key in row:
                entry[plural] = entry.get(plural, []) + [row.pop(key)]
        entry.update(row)
    merged = {file: entry for file, entry in merged.items() if not entry.get("removed")}
    files = sorted(p.name for p in corpus.glob("[0-9]*_*.txt"))
    assert sorted(merged) == files
    return [{**merged[name], "text": (corpus / name).read_text("utf-8")} for name in files]


def test_demo_corpus_round_trips_through_parquet_into_pandas_and_datasets(demo, tmp_path, monkeypatch):
    export = demo / "export" / "corpus.parquet"
    expected = seed_format_corpus(demo / "corpus")
    assert len(expected) == 9  # five seeds (three reached by the crawl), four crawled articles

    frame = pd.read_parquet(export)
    assert list(frame.columns) == [c.name for c in COLUMNS]  # stable order, text last
    assert str(frame["published"].dtype) == "datetime64[us, UTC+07:00]" and str(frame["words"].dtype) == "int64"
    assert str(frame["fetched_at"].dtype) == "datetime64[us, UTC]"
    assert list(frame["file"]) == [e["file"] for e in expected]  # row for row
    for row, want in zip(frame.to_dict("records"), expected, strict=True):
        assert row["text"] == want["text"]
        assert {k: none_if_na(row[k]) for k in PLAIN_FIELDS} == {k: want.get(k) for k in PLAIN_FIELDS}
        assert row["words"] == want["words"] and row["seed"] == want["seed"]
        assert row["number"] == want["number"] and row["version"] == 1 and row["is_latest"]
        for key in ("published", "fetched_at"):  # typed times, the same instants
            assert none_if_na(row[key]) == (datetime.fromisoformat(want[key]) if want.get(key) else None)
        assert row["published"] is pd.NaT or row["published"].utcoffset() == timedelta(hours=7)
        assert none_if_na(row["warc_offset"]) == want.get("warc_offset")
        assert list(row["tags"]) == want.get("tags", [])
        assert [a["canonical_url"] for a in row["aliases"]] == [a["canonical_url"] for a in want.get("aliases", [])]
        extractor = none_if_na(row["extractor"])
        assert (json.loads(extractor) if extractor else None) == want.get("extractor")
    aliased = frame[frame["aliases"].map(len) > 0]
    # The nhandan original keeps the file; thoidai's copy is its alias, whether it came after it
    # (near-duplicate) or before it and was superseded (docs/corpus-determinism.md).
    [alias] = aliased.iloc[0]["aliases"] if len(aliased) == 1 else [None, None]
    assert alias["status"] in {"near-duplicate", "superseded"} and alias["url"].startswith("https://thoidai.com.vn/")
    assert aliased.iloc[0]["url"].startswith("https://nhandan.vn/")

    # Hugging Face datasets, with the hub out of reach: the same rows, the same types.
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    loaded = datasets.load_dataset("parquet", data_files=str(export), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.column_names == [c.name for c in COLUMNS] and loaded.num_rows == len(expected)
    assert loaded.features["published"].dtype == "timestamp[us, tz=+07:00]"
    assert loaded.features["words"].dtype == "int64"
    assert loaded["file"] == [e["file"] for e in expected] and loaded["text"] == [e["text"] for e in expected]
    assert loaded["title"] == [e["title"] for e in expected]
    first = loaded[0]
    assert first["published"] == datetime.fromisoformat(expected[0]["published"])
    # The dataset card's YAML header makes the export's directory loadable by itself.
    from_dir = datasets.load_dataset(str(export.parent), split="train", cache_dir=str(tmp_path / "hf"))
    assert from_dir["file"] == loaded["file"]


def test_dataset_card_names_fields_crawls_and_warc_files(demo):
    card = (demo / "export" / "README.md").read_text("utf-8")
    assert card.startswith("---\n") and "  data_files: corpus.parquet\n" in card
    for column in COLUMNS:
        assert f"| `{column.name}` |" in card
    warc = next((demo / "warc").glob("*.warc.gz")).name
    crawl_id = re.search(r"`(vn-news-archiver-\d{8}T\d{6}Z-\d+)`", card).group(1)
    assert f"| `{warc}` | `{crawl_id}` |" in card
    assert "## Licence" in card and "copyright" in card and "nhandan.vn, thoidai.com.vn" in card


def test_jsonl_and_csv_carry_the_same_rows(demo, tmp_path, capsys):
    parquet = pd.read_parquet(demo / "export" / "corpus.parquet")
    assert main(["export-corpus", str(demo), "--out", str(tmp_path / "j" / "c.jsonl")]) == 0
    assert main(["export-corpus", str(demo), "--format", "csv", "--out", str(tmp_path / "c") + "/"]) == 0
    jsonl = [json.loads(line) for line in (tmp_path / "j" / "c.jsonl").read_text("utf-8").splitlines()]
    csv = pd.read_csv(tmp_path / "c" / "corpus.csv", keep_default_na=False)
    assert [list(r) for r in jsonl[:1]] == [[c.name for c in COLUMNS]] and list(csv.columns) == list(parquet.columns)
    assert [r["text"] for r in jsonl] == list(csv["text"]) == list(parquet["text"])
    assert [r["published"] for r in jsonl] == [p.isoformat() if not pd.isna(p) else None for p in parquet["published"]]
    assert all(p.endswith("+07:00") for p in csv["published"] if p)
    assert [json.loads(a) for a in csv["aliases"]] == [r["aliases"] for r in jsonl]
    assert "README.md" in {p.name for p in (tmp_path / "c").iterdir()}


def test_filters_and_the_long_table_of_versions(demo, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert main(["export-corpus", str(demo), "--out", str(out), "--site", "nhandan"]) == 0
    assert set(pd.read_parquet(out)["canonical_url"].str.slice(0, 19)) == {"https://nhandan.vn/"}
    assert main(["export-corpus", str(demo), "--out", str(out), "--site", "thoidai.com.vn,www.nhandan.vn"]) == 0
    assert len(pd.read_parquet(out)) == 7  # every article with a URL
    assert main(["export-corpus", str(demo), "--out", str(out), "--since", "2024-09-13"]) == 0
    published = pd.read_parquet(out)["published"]
    assert len(published) == 4 and published.min() >= pd.Timestamp("2024-09-13T00:00+07:00")
    assert main(["export-corpus", str(demo), "--out", str(out), "--include-versions"]) == 0
    assert len(pd.read_parquet(out)) == 9  # the demo crawled every article once: one version each
    capsys.readouterr()
    assert main(["export-corpus", str(demo), "--out", str(out), "--since", "2030-01-01"]) == 2
    assert "no article of" in capsys.readouterr().err


def test_versions_removals_and_unknown_fields_reach_the_export(tmp_path, capsys):
    corpus = build_corpus(tmp_path / "corpus")  # 005 has a second version and an alias
    with (corpus / MANIFEST_NAME).open("a", encoding="utf-8") as manifest:
        manifest.write(json.dumps({"file": "003_b893ee3835113bf1.txt", "update": "rollback", "removed": True}) + "\n")
        manifest.write(json.dumps({"file": "005_" + url_hash16(URL) + ".txt", "update": "reconciled",
                                   "checked": True}) + "\n")
    wide, long = tmp_path / "wide.parquet", tmp_path / "long.parquet"
    assert main(["export-corpus", str(corpus), "--out", str(wide)]) == 0
    assert main(["export-corpus", str(corpus), "--out", str(long), "--include-versions"]) == 0
    rows = pd.read_parquet(wide).to_dict("records")
    assert [r["file"][:3] for r in rows] == ["000", "001", "002", "004", "005"]  # 003 rolled back
    latest = rows[-1]
    assert (latest["version"], latest["is_latest"], latest["title"]) == (2, True, "Cập nhật: hợp tác giáo dục")
    assert latest["text"] == (corpus / latest["text_file"]).read_text("utf-8") and "versions/" in latest["text_file"]
    assert [v["version"] for v in latest["earlier_versions"]] == [1] and latest["warc_offset"] == 300
    assert json.loads(latest["extra"]) == {"checked": True} and list(latest["updates"]) == ["alias", "version",
                                                                                            "reconciled"]
    versions = pd.read_parquet(long)
    assert len(versions) == 6
    first, second = versions[versions["file"] == latest["file"]].to_dict("records")
    assert (first["version"], first["is_latest"], second["version"]) == (1, False, 2)
    assert first["text"] == (corpus / latest["file"]).read_text("utf-8") and first["score"] == 0.31
    assert len(first["earlier_versions"]) == 0 and first["aliases"][0]["canonical_url"] == MIRROR
    card = (tmp_path / "README.md").read_text("utf-8")
    assert "1 later version(s), 1 removed entry" in card and "one per version of each article" in card


def bad_input(tmp_path, argv: list[str], capsys) -> str:
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a temporary file
    return err


def test_bad_input_is_one_error_line_and_writes_nothing(demo, tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    assert "is not a corpus" in bad_input(tmp_path, ["export-corpus", str(tmp_path / "plain")], capsys)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / MANIFEST_NAME).write_text("")
    assert "empty corpus" in bad_input(tmp_path, ["export-corpus", str(tmp_path / "empty")], capsys)
    torn = tmp_path / "torn"
    shutil.copytree(demo / "corpus", torn)
    with (torn / MANIFEST_NAME).open("a") as manifest:
        manifest.write('{"file": "009_x.txt", "url": "https://nha')
    for command in ("export-corpus", "report"):
        assert "is torn" in bad_input(tmp_path, [command, str(torn)], capsys)
    missing = tmp_path / "missing"
    shutil.copytree(demo / "corpus", missing)
    victim = sorted(missing.glob("00[5-8]_*.txt"))[-1]
    victim.unlink()
    assert "the file is missing" in bad_input(tmp_path, ["export-corpus", str(missing)], capsys)
    assert "--since" in bad_input(tmp_path, ["export-corpus", str(demo), "--since", "last tuesday"], capsys)
    garbled = tmp_path / "garbled"
    shutil.copytree(demo / "corpus", garbled)
    with (garbled / MANIFEST_NAME).open("a") as manifest:
        manifest.write(json.dumps({"file": victim.name, "update": "reconciled", "published": "hôm qua"}) + "\n")
    for command in ("export-corpus", "report"):
        assert "published = 'hôm qua' is not a timestamp" in bad_input(tmp_path, [command, str(garbled)], capsys)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "README.md").write_text("# my own notes\n")
    assert main(["export-corpus", str(demo), "--out", str(foreign / "c.parquet")]) == 2
    assert "is not a card this command wrote" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["README.md"]


def chromium_or_skip() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Chromium is not installed and `make chromium` (apt-get install chromium) could not install it")
    return found


def drawn_marks(chart) -> int:
    """Bars with a non-zero size and markers plotly drew in a chart's SVG."""
    count = 0
    for path in chart.xpath('.//*[contains(concat(" ", @class, " "), " point ")]/descendant-or-self::path'):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        if re.match(r"M[^A]*V[^A]*H", path.get("d", "")):  # a bar: M x0,y0 V y1 H x1 …
            count += len(numbers) >= 4 and numbers[1] != numbers[2] and numbers[0] != numbers[3]
        else:  # a marker
            count += bool(numbers)
    return count


def test_report_opens_offline_in_chromium_with_every_chart_drawn(demo, tmp_path):
    report = demo / "report.html"
    page = report.read_text("utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?:", page)  # nothing to fetch
    command = [chromium_or_skip(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom", report.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no error, no warning, nothing logged
    dom = lxml.html.fromstring(done.stdout)
    for key in CHARTS:
        chart = dom.get_element_by_id(f"chart-{key}")
        assert "js-plotly-plot" in chart.get("class"), key  # plotly ran on it
        assert drawn_marks(chart) > 0, key
    assert drawn_marks(dom.get_element_by_id("chart-topic")) >= 2  # kept and dropped pages both drawn
    summary = " ".join(dom.xpath("//table//td/text()"))
    assert "vn-news-archiver-" in summary and "9 (5 seed files, 4 crawled)" in summary


def test_report_without_crawl_records_says_what_is_missing(demo, tmp_path, capsys):
    corpus = tmp_path / "alone" / "corpus"
    shutil.copytree(demo / "corpus", corpus)  # no warc/, runs.jsonl or crawl.log beside it
    assert main(["report", str(corpus), "--out", str(tmp_path / "r.html")]) == 0
    said = capsys.readouterr().out
    assert "4 of 6 charts drawn" in said and "no http status codes: no WARC files and no runs.jsonl" in said
    page = (tmp_path / "r.html").read_text("utf-8")
    assert page.count('class="missing"') == 2 and 'id="chart-topic"' in page  # kept scores still drawn
    assert "dropped pages&#x27; scores are only in the crawl log" in page
    assert main(["report", str(corpus), "--out", str(tmp_path), "--runs", str(tmp_path / "nope")]) == 2


def test_captures_read_from_cdxj_or_from_warc_headers_agree(demo, tmp_path):
    from archive.corpus.crawl_history import locate_history

    bare = tmp_path / "crawl"
    shutil.copytree(demo / "corpus", bare / "corpus")
    shutil.copytree(demo / "warc", bare / "warc")
    for index in (bare / "warc").glob("*.cdxj"):
        index.write_text("not an index line\n")  # unreadable: the WARC headers are read instead
    indexed = sorted(locate_history(demo / "corpus").fetches(), key=lambda f: (f.date, f.url))
    scanned = sorted(locate_history(bare / "corpus").fetches(), key=lambda f: (f.date, f.url))
    from warcio.archiveiterator import ArchiveIterator

    responses = 0
    for warc in (demo / "warc").glob("*.warc.gz"):
        with warc.open("rb") as fh:
            responses += sum(r.rec_type in ("response", "revisit") for r in ArchiveIterator(fh))
    assert len(indexed) == responses and scanned == indexed  # every archived response, read either way
    pages = [f for f in indexed if kind_by_extension(f.url, "page") == "page"]  # the pages' logos etc. apart
    assert {f.status for f in pages} == {200, 404}
