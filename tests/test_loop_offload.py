"""Work moved off the crawl's event loop (issue #17) gives the same answers it gave there:
topic measurements made in the extraction worker, the crawl state's batched writes, the
setup call every worker gets once."""
import os
import pickle
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from archive.extract.pool import ExtractionPool
from archive.extract.process_pool import BudgetPool
from archive.extract import topic as topic_mod
from archive.extract.topic import MeasuredText, enough_text, load_topic
from archive.sites import profile_for
from archive.state.store import CrawlState
from crawler.judged_pages import JudgedPages
from crawler.relevance import TopicGate
from tests.test_parse_once import PAGES, page_url, read_in_reactor, topic_spec

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def topic():
    return load_topic("auto", SEEDS)


@pytest.fixture(autouse=True)
def _fresh_anchor_memos(monkeypatch):
    """Each test measures its anchors itself, not from an earlier test's (topic.py `_anchor_memo`)."""
    from archive.extract import topic as topic_mod

    monkeypatch.setattr(topic_mod, "_ANCHOR_MEMOS", {})


@pytest.fixture(scope="module")
def worker_pool():
    pool = ExtractionPool(1)
    yield pool
    pool.close()


def test_measured_text_gives_what_the_profile_computes(topic):
    text = "Việt Nam và Lào ký kết hợp tác giáo dục, đào tạo nguồn nhân lực chất lượng cao " * 3
    measured = pickle.loads(pickle.dumps(topic.measure(text)))  # as it comes back from a worker
    assert isinstance(measured, MeasuredText) and measured == text
    assert topic.score(measured) == topic.score(text)
    assert topic.vector(measured) == topic.vector(text)
    assert enough_text(measured) == enough_text(text)
    other = load_topic(str(SEEDS / next(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")), None)
    assert other.key != topic.key and other.score(measured) == other.score(text)  # another profile recomputes


def test_worker_measured_pages_get_the_same_topic_decisions(topic, worker_pool):
    """Every fixture page: the gate's verdicts, link choices and leanings from the worker's
    measured reading equal those from the reactor's plain reading, page after page."""
    measured_gate, plain_gate = TopicGate(topic), TopicGate(topic)
    for path in PAGES:
        url, body = page_url(path), path.read_bytes()
        profile = profile_for(url)
        is_article = profile.is_article_url(url)
        response = HtmlResponse(url, body=body)
        spec = topic_spec(profile, is_article)
        _, _, measured = worker_pool.submit_page(body, url, profile.extraction, response.encoding, spec,
                                                 extract=False, topic=topic).result(timeout=60)
        plain = read_in_reactor(response, spec, profile)
        assert measured == plain and isinstance(measured.text, MeasuredText)
        if is_article:
            assert measured_gate.judge_page(measured.text, "related") == plain_gate.judge_page(plain.text, "related")
            mode, score = "related", measured_gate.topic.score(measured.text)
        else:
            assert measured_gate.listing_is_topical(measured.text) == plain_gate.listing_is_topical(plain.text)
            mode, score = "listing", 0.0
        assert (measured_gate.choose_links(list(measured.links), mode, score)
                == plain_gate.choose_links(list(plain.links), mode, score))
        for _, anchor, _ in measured.links:
            assert measured_gate.judged.leaning(anchor) == plain_gate.judged.leaning(str(anchor))


def test_judged_pages_remember_measured_text_as_plain_text(topic):
    text = "Hợp tác Việt Nam - Lào trong giáo dục và y tế, đào tạo cán bộ " * 4
    plain, measured = JudgedPages(topic), JudgedPages(topic)
    plain.remember(text, True)
    measured.remember(topic.measure(text), True)
    assert plain._df == measured._df and list(plain._order[0]) == list(measured._order[0])


def test_a_page_text_carries_only_its_heaviest_terms(topic):
    """What a worker sends back for a page text: its score, verdict and heaviest terms, the same
    the loop computes from the whole vector (ties in their order), and a fraction of the bytes."""
    text = "\n".join(p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))[:6])  # a long page's worth
    full = topic.measure(text)
    light = pickle.loads(pickle.dumps(topic.measure(text, heaviest=80)))
    assert len(full.vector) > 200 and light.vector is None
    assert (light.score, light.enough) == (full.score, full.enough) == (topic.score(text), enough_text(text))
    assert topic.heaviest_terms(light, 80) == topic.heaviest_terms(full, 80) == topic.heaviest_terms(text, 80)
    assert topic.heaviest_terms(light, 10) == topic.heaviest_terms(text, 10)
    assert topic.heaviest_terms(light, 200) == topic.heaviest_terms(text, 200)  # past what it carries: computed
    assert topic.vector(light) == topic.vector(text)  # not carried: computed again
    carried = lambda measured: len(pickle.dumps(measured)) - len(pickle.dumps(str(measured)))  # noqa: E731
    assert carried(light) * 5 < carried(full)
    tied = "Lào Lào hợp tác, giáo dục, y tế, đào tạo, cán bộ, biên giới, thủy điện"
    assert topic.heaviest_terms(topic.measure(tied, heaviest=3), 3) == topic.heaviest_terms(tied, 3)
    plain, measured = JudgedPages(topic), JudgedPages(topic)
    plain.remember(text, False, anchors=["Lào"])
    measured.remember(light, False, anchors=[topic.measure("Lào")])
    assert plain._df == measured._df and list(plain._order[1]) == list(measured._order[1])


def _note(path):
    with open(path, "a") as fh:
        fh.write(f"{os.getpid()}\n")


def _pid():
    return os.getpid()


def test_every_worker_runs_the_setup_once_replacements_too(tmp_path):
    notes = tmp_path / "setup.txt"
    pool = BudgetPool(2, None)
    try:
        pool.setup(_note, str(notes))
        pids = {f.result(timeout=60) for f in [pool.submit(_pid) for _ in range(8)]}
        assert sorted(notes.read_text().split()) == sorted(map(str, pids)) and len(pids) == 2
        pool.submit(os._exit, 1)  # the worker dies; its replacement must get the setup too
        later = {f.result(timeout=60) for f in [pool.submit(_pid) for _ in range(8)]}
        noted = notes.read_text().split()
        assert set(map(str, later)) <= set(noted) and len(noted) == len(set(noted))
    finally:
        pool.close()


def test_batched_state_writes_commit_on_flush_and_close(tmp_path):
    path = tmp_path / "state.sqlite"
    state = CrawlState(path, batched=True)
    for n in range(50):
        state.record_fetch(f"https://nhandan.vn/a-{n}.html", fetch_url=f"https://nhandan.vn/a-{n}.html",
                           status=200, outcome="new")
        state.record_extraction(f"https://nhandan.vn/a-{n}.html", is_article=True, published=None)
    state.flush()
    reader = CrawlState(path, lock=False)
    assert len(reader) == 50 and all(p.is_article for p in reader.pages())
    state.record_fetch("https://nhandan.vn/last.html", fetch_url="https://nhandan.vn/last.html", status=200,
                       outcome="new")
    state.close()  # commits what is queued
    assert reader.get("https://nhandan.vn/last.html").status == 200
    reader.close()


def test_a_host_without_profile_is_judged_and_extracted_in_the_worker(tmp_path):
    """Its pages are parsed once, in the worker: the page gate's verdict decides what is read
    (article: related links; listing: listing links) and the article comes back with it; the
    corpus holds exactly what extraction of each page gives."""
    import json

    from archive.extract.article import extract_article, render_seed_text
    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.fixtureserver import FixtureServer
    from tests.conftest import run_crawl

    site = DefaultSite(12, GENERIC_HOST)
    server = FixtureServer(site).start_background()
    try:
        run = run_crawl(tmp_path / "run", f"urls={site.start_url()}", "depth=3", "requisites=none",
                        server=server, timeout=180)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-2000:]
    stats = json.loads((run.out / "stats.json").read_text())
    assert stats["news/listing_pages"] == 1 and stats.get("news/analyse_failed") is None
    assert stats["corpus/written"] == stats["news/pages/generic:" + GENERIC_HOST] - 1 >= 10
    for line in (run.out / "corpus" / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("seed") or "update" in entry:
            continue
        n = int(entry["url"].rsplit("-post", 1)[1].split(".")[0]) - 100000
        expected = render_seed_text(extract_article(site.render(n), entry["url"], profile_for(entry["url"]).extraction))
        assert (run.out / "corpus" / entry["file"]).read_text("utf-8") == expected


def test_measure_all_measures_each_text_as_measure_does(topic):
    """The worker measures a page's anchors as one batch: each result is what `measure` gives the
    text alone, the same terms in the same order and the same floats (anchors of every fixture
    page, and texts where normalising or lower-casing them together could go wrong)."""
    from lxml import html as lxml_html

    from archive.extract.links import anchor_text

    texts = [anchor_text(a) for path in PAGES for a in lxml_html.fromstring(path.read_bytes()).iter("a")]
    texts += ["", "Lào", "ΟΔΟΣ Σ", "e\u0301 Lào", "\u0301Lào", "Việt\x00Nam", "Việt Nam - Lào, bài số 1"]
    assert len(texts) > 500
    batch = topic.measure_all(texts)
    assert len(batch) == len(texts)
    for text, measured in zip(texts, batch):
        alone = topic.measure(text)
        assert (str(measured), list(measured.vector.items()), measured.score, measured.enough) == \
            (str(alone), list(alone.vector.items()), alone.score, alone.enough), text
    assert topic.measure_all([]) == []


def test_measure_all_sends_each_vector_packed_until_it_is_read(topic):
    """A batch's vectors are packed (their terms in one string, their weights in one bytes object):
    pickled as they come back from a worker, they hold no dict, and each is made the dict path's
    vector (the same terms in the same order, the same floats) only when read; pickled again,
    read or not, it is the same."""
    import pickletools

    texts = ["Hợp tác Việt Nam - Lào", "Việt Nam và Lào hợp tác, Lào", "Lào, Việt Nam", "", "2024 Việt-Lào"]
    sent = pickle.dumps(topic.measure_all(texts), protocol=pickle.HIGHEST_PROTOCOL)
    opcodes = {op.name for op, _, _ in pickletools.genops(sent)}
    assert "SETITEMS" not in opcodes and "SETITEM" not in opcodes  # (the empty text's vector: {})
    received = pickle.loads(sent)
    assert all("vector" not in measured.__dict__ for measured in received[:3])
    again = pickle.loads(pickle.dumps(received, protocol=pickle.HIGHEST_PROTOCOL))
    for text, measured, resent in zip(texts, received, again):
        want = topic_mod._vector(topic_mod.terms(text))
        assert [(t, repr(w)) for t, w in measured.vector.items()] == [(t, repr(w)) for t, w in want.items()]
        assert topic.vector(measured) is measured.vector  # made once, then kept
        assert list(pickle.loads(pickle.dumps(measured)).vector.items()) == list(want.items())
        assert list(topic.vector(resent).items()) == list(want.items())
    with pytest.raises(AttributeError):
        received[0].not_carried


def _as_dict_path(topic, text, heaviest):
    """`measure`'s answer computed through the term dict (`_vector`, `_cosine`, `_heaviest`)."""
    from archive.extract.topic import _heaviest, _term_counts, _vector, tokens

    vec = _vector(_term_counts(tokens(text)))
    return repr(topic._cosine(vec)), tuple(_heaviest(vec, heaviest))


def _texts_to_measure():
    from lxml import html as lxml_html

    pages = [lxml_html.fromstring(path.read_bytes()).text_content() for path in PAGES]
    seeds = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))[:20]]
    return pages + seeds + ["", "   ", "Lào", "Lào Lào Lào lào", "và của là", "2024 - 15", "Việt\x00Nam",
                            "Lào Lào hợp tác, giáo dục, y tế, đào tạo, cán bộ, biên giới, thủy điện"]


def test_a_page_text_is_measured_as_its_vector_says(topic):
    """A page text measured with `heaviest` (arrays, no term dict) has the score, its float
    type included (an empty text scores int 0, as `sum([])`), and the heaviest terms, ties in
    their order, that the text's vector gives."""
    for text in _texts_to_measure():
        for heaviest in (1, 3, 80):
            light = topic.measure(text, heaviest=heaviest)
            assert (repr(light.score), light.heaviest[0]) == _as_dict_path(topic, text, heaviest), text
            assert light.heaviest[1] == heaviest and light.enough == enough_text(text)


def test_measure_all_gives_measure_s_floats_and_types(topic):
    """The batch's vectors and scores are `measure`'s to the bit (repr of every float, int 0 for
    a text without terms), on the array path and on the per-text path it takes when one long
    text would make the padded grid too large."""
    from lxml import html as lxml_html

    from archive.extract import topic as topic_mod
    from archive.extract.links import anchor_text

    texts = [anchor_text(a) for path in PAGES for a in lxml_html.fromstring(path.read_bytes()).iter("a")]
    texts += ["", "Lào", "Lào Lào hợp tác hợp tác", "và của", "2024"]
    long_one = " ".join(_texts_to_measure()[:8])
    for batch_texts in (texts, texts + [long_one]):
        topic_mod._ANCHOR_MEMOS.clear()  # (each batch measured whole, on its own path)
        shown = [(repr(m.score), [(t, repr(w)) for t, w in m.vector.items()], m.enough)
                 for m in topic.measure_all(batch_texts)]
        alone = [(repr(m.score), [(t, repr(w)) for t, w in m.vector.items()], m.enough)
                 for m in map(topic.measure, batch_texts)]
        assert shown == alone
    counts = [topic_mod._term_counts(topic_mod.tokens(t)) for t in texts + [long_one]]
    assert topic_mod._batch_vectors(*topic_mod._counted_rows(counts), topic._profile_weights) is None  # (the fallback ran)


def test_the_array_sums_add_as_python_sum_does():
    """The array paths are taken only where `sum` adds floats left to right (CPython < 3.12);
    there, a row's cumulative sum is `sum`'s float on lists like a vector's squares."""
    import random

    import numpy as np

    from archive.extract.topic import _SUM_IS_SEQUENTIAL

    if not _SUM_IS_SEQUENTIAL:
        pytest.skip("sum compensates here: the array paths are not used")
    rng = random.Random(3)
    for _ in range(2000):
        values = [rng.uniform(0.0, 1.0) ** rng.randint(1, 9) for _ in range(rng.randint(1, 60))]
        assert repr(sum(values)) == repr(float(np.cumsum(np.array(values))[-1]))
