"""Near-duplicates in a corpus full of shared boilerplate (issue #25).

One TTXVN wire story runs on two sites, each with its own headline, sapo,
byline and house footer; dozens of other articles carry the same stock lines
("Theo TTXVN", a photo credit, the agency's reprint notice), so those lines'
hashes are stop hashes of the containment index. The copy must still be found,
and articles that share only the boilerplate must still be written.
"""
import random
from datetime import datetime, timezone

import pytest

from archive.corpus.neardup.fingerprint import containment_sample, fingerprint_article, shingles
from archive.corpus.store import Corpus
from archive.extract.article import Article
from archive.corpus.syndication import credit_of
from archive.corpus.neardup.shingle_index import STOP_DF, _key

WIRE = [
    "Chiều 9/1, tại Thủ đô Viêng Chăn, Thủ tướng Chính phủ Việt Nam và Thủ tướng Chính phủ Lào đã đồng chủ trì "
    "Kỳ họp lần thứ 46 Ủy ban liên Chính phủ về hợp tác song phương giữa hai nước.",
    "Phát biểu khai mạc, Thủ tướng Lào nhấn mạnh trong năm qua, quan hệ hữu nghị vĩ đại, đoàn kết đặc biệt và hợp "
    "tác toàn diện giữa hai Đảng, hai Nhà nước và nhân dân hai nước tiếp tục được củng cố và phát triển sâu rộng.",
    "Kim ngạch thương mại song phương năm 2023 đạt hơn 1,6 tỷ USD, tăng 14% so với năm trước; Việt Nam hiện có "
    "hơn 250 dự án đầu tư tại Lào với tổng vốn đăng ký khoảng 5,5 tỷ USD, đứng thứ ba trong số các nước đầu tư.",
    "Hai bên đánh giá cao kết quả hợp tác trong lĩnh vực giáo dục và đào tạo nguồn nhân lực; hiện có khoảng 16 "
    "nghìn lưu học sinh Lào đang học tập tại Việt Nam và hơn 1.000 cán bộ, sinh viên Việt Nam học tập tại Lào.",
    "Về kết nối giao thông, hai Thủ tướng thống nhất chỉ đạo các bộ, ngành đẩy nhanh tiến độ dự án đường cao tốc "
    "Viêng Chăn - Hà Nội và cảng Vũng Áng, sớm đưa các công trình vào khai thác.",
    "Hai bên cũng nhất trí tăng cường phối hợp quản lý biên giới, đấu tranh phòng, chống tội phạm ma túy và buôn "
    "bán người, xây dựng đường biên giới Việt Nam - Lào hòa bình, hữu nghị, hợp tác và phát triển.",
    "Sau kỳ họp, hai Thủ tướng đã chứng kiến lễ ký kết 12 văn kiện hợp tác giữa các bộ, ngành, địa phương hai nước "
    "trong các lĩnh vực kinh tế, năng lượng, nông nghiệp, y tế và giáo dục.",
]
THEO_TTXVN = "Theo TTXVN"
PHOTO_CREDIT = "Ảnh: TTXVN"
REPRINT_NOTICE = ("Thông tấn xã Việt Nam giữ bản quyền nội dung; mọi hình thức sao chép, trích dẫn hoặc phát hành lại "
                  "tin, bài, ảnh của Thông tấn xã Việt Nam đều phải ghi rõ nguồn và được sự đồng ý bằng văn bản.")
SYLLABLES = ("anh bạn cao chính chuyển dân dịch đầu đất đô giá hàng hội khẩu kinh lao lượng mới mùa năm ngành người "
             "nhà nước phát phố quốc sản sở tăng tế thị thông tiêu tỉnh trình trường vốn vùng xây xuất ý").split()


def article(url, title, lead, paragraphs, author):
    return Article(url=url, canonical_url=url, title=title, lead=lead, paragraphs=list(paragraphs), author=author,
                   published=datetime(2024, 1, 9, 18, 0, tzinfo=timezone.utc), language="vi",
                   words=sum(len(p.split()) for p in paragraphs), is_article=True)


def background(n):
    """Another TTXVN story on the same site: its own text, the same stock lines."""
    rng = random.Random(n)
    own = [" ".join(rng.choice(SYLLABLES) for _ in range(rng.randint(35, 60))).capitalize() + "."
           for _ in range(6)]
    return article(f"https://nhandan.vn/tin-ttxvn-{n}-post{900000 + n}.html", f"Tin TTXVN số {n} trong ngày",
                   own[0], [*own[1:3], f"Quang cảnh buổi làm việc. {PHOTO_CREDIT}", *own[3:], REPRINT_NOTICE],
                   THEO_TTXVN)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    corpus = Corpus(tmp_path_factory.mktemp("corpus"), None, deferred_sync=True)
    yield corpus
    corpus.close()


def test_boilerplate_is_made_of_stop_hashes(corpus):
    results = [corpus.add(background(n), site="nhandan") for n in range(STOP_DF + 16)]
    assert {r.status for r in results} == {"written"}  # shared stock lines make nobody a near-duplicate
    stock = containment_sample(shingles([REPRINT_NOTICE, THEO_TTXVN, f"Quang cảnh buổi làm việc. {PHOTO_CREDIT}"]))
    assert len(stock) >= 2  # the test is only meaningful if the stock lines are in the sample
    db = corpus._near.containment._db
    for h in stock:
        assert db.execute("SELECT count(*) FROM postings WHERE h = ?", (_key(h),)).fetchone()[0] > STOP_DF


def test_the_same_wire_story_on_two_sites_is_one_article_with_an_alias(corpus):
    nhandan = article(
        "https://nhandan.vn/viet-nam-lao-ky-ket-12-van-kien-hop-tac-post790412.html",
        "Việt Nam - Lào ký kết 12 văn kiện hợp tác tại Kỳ họp lần thứ 46 Ủy ban liên Chính phủ",
        "NDĐT - Kỳ họp lần thứ 46 Ủy ban liên Chính phủ Việt Nam - Lào diễn ra tại Viêng Chăn, khẳng định quyết "
        "tâm đưa quan hệ hợp tác hai nước đi vào chiều sâu, thiết thực và hiệu quả.",
        [*WIRE[:4], f"Các đại biểu tại kỳ họp. {PHOTO_CREDIT}", *WIRE[4:], REPRINT_NOTICE], THEO_TTXVN)
    thoidai = article(
        "https://thoidai.com.vn/hai-thu-tuong-viet-nam-lao-dong-chu-tri-ky-hop-uy-ban-lien-chinh-phu-204117.html",
        "Hai Thủ tướng Việt Nam - Lào đồng chủ trì kỳ họp Ủy ban liên Chính phủ",
        "Thời Đại - Hai bên thống nhất đẩy nhanh các dự án kết nối giao thông, tăng cường hợp tác giáo dục và "
        "chứng kiến lễ ký kết 12 văn kiện hợp tác.",
        ["(TTXVN) " + WIRE[0], *WIRE[1:6], WIRE[6].replace("12 văn kiện", "mười hai văn kiện"),
         f"Toàn cảnh kỳ họp. {PHOTO_CREDIT}", THEO_TTXVN, REPRINT_NOTICE,
         "Mời bạn đọc theo dõi các tin, bài liên quan trên Thời Đại."],
        "Minh Thái (tổng hợp)")
    stock = containment_sample(shingles([REPRINT_NOTICE]))
    assert stock <= fingerprint_article(thoidai).sample  # the copy's look-up goes through stop hashes
    written = corpus.add(nhandan, site="nhandan")
    copy = corpus.add(thoidai, site="thoidai")
    assert written.status == "written"
    assert copy.status == "near-duplicate" and copy.file == written.file
    assert copy.reason.startswith("containment")
    alias = corpus.entries()[written.file.name]["aliases"][0]
    assert alias["url"] == thoidai.url and alias["similarity"] >= 0.8


def test_a_different_story_with_the_same_stock_lines_is_written(corpus):
    other = background(10_000)
    other.paragraphs[:2] = [WIRE[0], WIRE[1]]  # two sentences of the wire story, stock lines, own text
    assert corpus.add(other, site="nhandan").status == "written"


def test_an_article_from_a_worker_decodes_only_the_paragraphs_the_crawl_reads():
    """A worker's `Article` travels with its paragraphs as one UTF-8 bytes object (docs/performance.md,
    session 22): unpickled, it equals the one sent; `last_paragraphs(n)` is `paragraphs[-n:]` for
    every n, before and after the whole list is read; the credit line is read without decoding the
    rest; paragraphs that could not be cut apart again (a NUL in one, an empty list, not all str)
    travel as they are."""
    import copy
    import pickle

    rng = random.Random(22)
    alphabet = ["a", "ê", "ố", " ", "\ud800", "\n", "Báo Nhân Dân", "😀", "\u0301"]
    lists = [["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 9))]
             for _ in range(300)]
    lists += [["a\0b", "c"], [], ["only"], [""], ["", ""], ["x", b"bytes"]]
    for paragraphs in lists:
        article = Article("http://a.vn/1.html", "http://a.vn/1.html", title="T", author="Theo TTXVN",
                          paragraphs=list(paragraphs), is_article=True)
        back = pickle.loads(pickle.dumps(article, protocol=5))
        cut = "paragraphs" not in back.__dict__
        assert cut == (bool(paragraphs) and all(type(p) is str and "\0" not in p for p in paragraphs))
        for n in range(1, len(paragraphs) + 3):
            assert back.last_paragraphs(n) == paragraphs[-n:]
        assert credit_of(back) == credit_of(article)
        assert ("paragraphs" not in back.__dict__) == cut  # (the credit read no more than the tail)
        assert back.last_paragraphs(0) == paragraphs  # (`[-0:]`: all of them)
        again = pickle.loads(pickle.dumps(back, protocol=5))  # sent on undecoded
        assert back == article and back.paragraphs == paragraphs
        assert again == article and copy.deepcopy(again) == article
        assert [again.last_paragraphs(n) for n in range(4)] == [paragraphs[-n:] for n in range(4)]
    with pytest.raises(AttributeError):
        back.no_such_field  # noqa: B018
