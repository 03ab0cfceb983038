"""A link's URL slug as evidence about its target (crawler/url_slug.py, crawler/relevance.py):
slug extraction on the real URL shapes, folding, and the choice a teaser anchor with a topical
slug now gets."""
import pytest

from archive.extract.topic import TopicProfile
from archive.sites import profile_for
from crawler.relevance import TopicGate
from crawler.url_slug import SlugScorer, fold, slug_text
from testbed.topic_site import OFF_TOPICS, ON_TOPIC_SENTENCES
from tests.conftest import REPO

TEASER = "Những người lính tình nguyện năm ấy"
TOPICAL = "https://nhandan.vn/nhung-nguoi-linh-tinh-nguyen-viet-nam-tai-lao-post830202.html"  # its headline
PLAIN = "https://nhandan.vn/nhung-nguoi-linh-tinh-nguyen-nam-ay-post830203.html"  # the teaser is the headline
SLOTS = {"vn": "Hà Tĩnh", "lao": "Savannakhet", "x": "y tế", "w": "mưa rào và dông", "m": "tăng mạnh"}
WEATHER_TEXT = " ".join(s.format(**SLOTS) for s in OFF_TOPICS["weather"][1] * 3)
ON_TEXT = " ".join(s.format(**SLOTS) for s in ON_TOPIC_SENTENCES)


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def _is_listing(url):
    return profile_for(url).is_listing_url(url)


@pytest.mark.parametrize("url, words", [
    # the three sites' article URLs (docs/site-notes.md): slug, numeric id, extension
    ("https://nhandan.vn/ung-dung-khoa-hoc-ky-thuat-cao-trong-kham-chua-benh-post422086.html",
     "ung dung khoa hoc ky thuat cao trong kham chua benh"),
    ("https://thoidai.com.vn/mo-rong-hop-tac-khoa-hoc-giao-duc-vi-phat-trien-viet-nga-756909.html",
     "mo rong hop tac khoa hoc giao duc vi phat trien viet nga"),
    ("https://www.vietnamplus.vn/viet-nam-lao-tang-cuong-hop-tac-post918255.vnp", "viet nam lao tang cuong hop tac"),
    ("https://www.vietnamplus.vn/viet-nam-lao-tang-cuong-hop-tac-post918255.vnp?utm_source=x&page=2#top",
     "viet nam lao tang cuong hop tac"),  # the query and fragment are ignored
    ("https://www.qdnd.vn/quoc-phong/doi-ngoai/quan-doi-hai-nuoc-hop-tac-123456", "quan doi hai nuoc hop tac"),
    ("https://nhandan.vn/ky-2-cot-moc-460-va-nhung-nguoi-giu-bien-post700020.html",
     "ky 2 cot moc 460 va nhung nguoi giu bien"),
    # no slug: ids only, too few words, listings without one, a slug in the query, upper case
    ("https://cn.nhandan.vn/article-post156813.html", ""),
    ("https://nhandan.vn/post830202.html", ""),
    ("https://thoidai.com.vn/180000.html", ""),
    ("http://nhandan.vn/tin-so-12-post200012.html", ""),  # the older bench web's URLs
    ("https://nhandan.vn/", ""),
    ("https://nhandan.vn/vanhoa?page=2", ""),
    ("https://nhandan.vn/search?q=viet-nam-lao-hop-tac", ""),
    ("https://example.com/Viet-Nam-Lao-Hop-Tac.html", ""),
    ("https://viet-nam-lao.example.com/", ""),  # a host's hyphens are no slug
])
def test_slug_words_are_the_last_segments_hyphen_joined_words(url, words):
    assert slug_text(url) == words


def test_folding_drops_diacritics_and_d_stroke():
    assert fold("Việt Nam - Lào") == "viet nam - lao"
    assert fold("Đảng, Nhà nước") == "dang, nha nuoc"


def test_a_slug_scores_as_its_headline_does_with_the_profile_folded(topic):
    slugs = SlugScorer(topic)
    headline = "Việt Nam và Lào tăng cường hợp tác quốc phòng"
    url = "https://www.vietnamplus.vn/viet-nam-va-lao-tang-cuong-hop-tac-quoc-phong-post900001.vnp"
    assert slugs.score(url) >= topic.anchor_threshold * 2
    assert abs(slugs.score(url) - topic.score(headline)) < 0.1
    assert "viet nam" in slugs.weights and "nam lao" in slugs.weights  # multi-word terms folded too
    assert slugs.score("https://nhandan.vn/gia-vang-hom-nay-tang-manh-post700001.html") < 0.06
    assert slugs.score("https://nhandan.vn/post830202.html") == 0.0
    # "năm" folds to "nam" (of "Việt Nam"): in a slug it is a function word, so another section's
    # headline does not lean to the topic by it.
    year = "https://nhandan.vn/hoi-thao-quoc-phong-quan-khu-nam-nay-post700261.html"
    assert slugs.score(year) < topic.anchor_threshold / 2


def test_a_teaser_with_a_topical_slug_is_held_from_a_kept_article_and_never_dropped(topic):
    gate = TopicGate(topic)
    links = {link.url: link for link in gate.choose_links(
        [(TOPICAL, TEASER, False), (PLAIN, TEASER, False)], "related", 0.3, _is_listing)}
    assert links[TOPICAL].held and links[PLAIN].held  # fetched when the crawl is idle, as teasers are
    assert links[TOPICAL].score > topic.anchor_threshold > links[PLAIN].score  # ... ranked by its slug
    assert gate.judge_page(ON_TEXT, "related").on_topic  # the crawl learns that this teaser
    gate.judge_page(WEATHER_TEXT, "related", anchors=[TEASER])  # led to an off-topic page
    vector = topic.vector(TEASER)
    assert gate.held_rank([vector], 1, PLAIN) is None  # dropped: its anchor leans off topic
    assert gate.held_rank([vector], 1, TOPICAL) is not None  # kept: its slug names the topic
    again = gate.choose_links([(TOPICAL, TEASER, False), (PLAIN, TEASER, False)], "related", 0.3, _is_listing)
    assert [(link.url, link.held) for link in again] == [(TOPICAL, True)]  # the same when found now


def test_listings_and_off_topic_articles_pass_on_a_teaser_whose_slug_names_the_topic(topic):
    gate = TopicGate(topic)
    strong = "https://thoidai.com.vn/viet-nam-va-lao-tang-cuong-hop-tac-quoc-phong-180001.html"
    plain = [(PLAIN, TEASER, False), (PLAIN.replace("830203", "830204"), "Giá vàng hôm nay", False)]
    for mode, rule in (("listing", "anchor"), ("probe", "anchor"), ("tunnel", "tunnel")):
        chosen = gate.choose_links([(strong, TEASER, False)] + plain, mode, 0.0, _is_listing)
        # not rechecked by its anchor when fetched: the anchor is not what chose it
        assert [(link.url, link.rule, link.recheck) for link in chosen] == [(strong, rule, False)]
    # Siblings whose slugs name the topic vouch for the listing's other links (rule topic-listing).
    topical = [(strong, TEASER, False), (TOPICAL, TEASER, False)]
    chosen = gate.choose_links(topical + plain[:1], "listing", 0.0, _is_listing)
    assert {link.rule for link in chosen} == {"topic-listing"} and len(chosen) == 3


def test_a_tag_links_slug_is_its_name_and_adds_nothing(topic):
    gate = TopicGate(topic)
    assert gate.slug_score("https://nhandan.vn/tag/viet-nam-lao.html", _is_listing) == 0.0
