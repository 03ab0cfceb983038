"""Issue #19, session 17: a page just under the threshold is kept when the topic's core terms are
among its heaviest terms (crawler/topic_core.py, rule `core` in crawler/relevance.py)."""
import pytest

from archive.extract.topic import TopicProfile
from crawler.relevance import SERIES_MARGIN, TopicGate
from crawler.topic_core import core_terms, names_core
from tests.conftest import REPO

# A border-province story whose lead is mostly the province's own news: 0.157, under the 0.18
# threshold; "lào" is among its heaviest terms.
BORDER = ("Cột mốc biên giới và những người giữ bản\nĐoàn công tác tỉnh Attapeu của Lào sang thăm các bản "
          "kết nghĩa của tỉnh. Hàng nghìn hộ dân hai bên biên giới có nước sạch, đường giao thông nông thôn "
          "và trường học mới, mang lại niềm vui cho đồng bào. Hai nước thúc đẩy hợp tác.")
# Vietnam's relations with another country: 0.160 on the relation words alone.
OTHER_COUNTRY = ("Việt Nam - Campuchia tăng cường hợp tác toàn diện\nHai bên nhất trí thúc đẩy hợp tác trong các "
                 "lĩnh vực thương mại, đầu tư và giao lưu nhân dân. Kim ngạch thương mại song phương tăng trưởng "
                 "ổn định. Lãnh đạo hai nước cam kết tiếp tục phối hợp chặt chẽ.")
# A weather report naming Upper Laos in passing: 0.118, under the margin.
IN_PASSING = ("Dự báo thời tiết\nMiền Bắc có mưa rào, vùng Thượng Lào có mưa dông. Nhiệt độ cao nhất 33 độ. "
              "Người dân chú ý phòng tránh lốc sét, mưa đá và gió giật mạnh trên diện rộng.")


@pytest.fixture(scope="module")
def topic():
    return TopicProfile.from_seed_dir(REPO / "seeds")


def test_the_core_is_the_fewest_heaviest_terms_carrying_half_the_profile(topic):
    assert core_terms(topic) == {"lào"}  # 0.77² of the shipped seeds' unit profile
    flat = TopicProfile.from_texts(["biên giới", "cửa khẩu", "hải quan", "thông quan"])
    heaviest = sorted(flat.weights.values(), reverse=True)
    core = core_terms(flat)
    carried = sum(flat.weights[t] ** 2 for t in core)
    assert carried >= 0.5 > carried - min(flat.weights[t] for t in core) ** 2  # the fewest that carry half
    assert {flat.weights[t] for t in core} <= set(heaviest[:len(core)])
    assert names_core(["nước sạch", "lào"], frozenset({"lào"}))
    assert not names_core(["hợp tác", "việt nam"], frozenset({"lào"}))


def test_a_page_in_the_margin_is_kept_when_it_names_the_core(topic):
    gate = TopicGate(topic)
    for text in (BORDER, OTHER_COUNTRY):
        assert topic.threshold * SERIES_MARGIN <= topic.score(text) < topic.threshold
    kept = gate.judge_page(BORDER, "related")
    assert kept.keep and kept.on_topic and kept.rule == "core"
    other = gate.judge_page(OTHER_COUNTRY, "related")
    assert not other.keep and not other.on_topic and other.rule == "related"


def test_a_page_under_the_margin_is_not_kept_for_naming_the_core(topic):
    assert topic.score(IN_PASSING) < topic.threshold * SERIES_MARGIN
    assert "lào" in topic.heaviest_terms(IN_PASSING)
    verdict = TopicGate(topic).judge_page(IN_PASSING, "related")
    assert not verdict.keep and not verdict.on_topic
