"""A generated three-site news web with a labelled topic, for the topic-crawl benchmark and tests.

`TopicWeb(articles_per_site=80)` serves nhandan.vn, thoidai.com.vn and
www.vietnamplus.vn (each in its own real markup, so the real site profiles
decide what to follow) over plain http through the fixture proxy. About a
fifth of the articles (exactly) are on topic (Vietnam–Laos relations); the rest are
weather, sport, markets, health, tourism, traffic, technology and culture
news, plus "hard negatives": Vietnam's relations with *other* countries, in
the same diplomatic vocabulary. Texts are assembled from sentence banks, so
on-topic articles also carry off-topic sentences and vice versa.

Links, as on the real sites:
- each home page lists the site's 20 latest articles (mixed topics);
- each article has a related box: on-topic articles link three on-topic
  articles (any site) and two off-topic ones; off-topic articles link five
  articles of their own topic or random ones, one in four of them with an
  on-topic link among them; every article carries its topic's tag ("Việt Nam
  - Lào", "Thời tiết", ...) linking the site's tag page, which lists the ten
  latest articles of that topic on the site;
- a "most read" sidebar (not followed by any profile) links random articles.

`labels()` gives the on-topic article URLs; `start_urls()` the home pages.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape

from testbed.fixtureserver import FixtureSite, Reply

SITES = ("nhandan.vn", "thoidai.com.vn", "www.vietnamplus.vn")
ON_TOPIC_SHARE = 0.2
HARD_NEGATIVE_SHARE = 0.1
CMS_LINK, TITLE_LINK = 'class="cms-link" ', 'class="article-title" '

ON_TOPIC_TITLES = (
    "Việt Nam - Lào tăng cường hợp tác {x}", "Đoàn đại biểu tỉnh {lao} thăm và làm việc tại {vn}",
    "Thúc đẩy quan hệ hữu nghị đặc biệt Việt Nam - Lào trong lĩnh vực {x}",
    "Lào và Việt Nam ký kết thỏa thuận về {x}", "Tỉnh {vn} hỗ trợ tỉnh {lao} của Lào phát triển {x}",
    "Kỷ niệm ngày thiết lập quan hệ ngoại giao Việt Nam - Lào tại {vn}",
    "Lưu học sinh Lào tại {vn} đón Tết cổ truyền Bunpimay", "Hợp tác {x} giữa hai nước Việt Nam và Lào đạt kết quả tích cực",
)
ON_TOPIC_SENTENCES = (
    "Quan hệ hữu nghị vĩ đại, đoàn kết đặc biệt và hợp tác toàn diện Việt Nam - Lào là tài sản chung vô giá của hai dân tộc.",
    "Hai bên nhất trí tiếp tục phối hợp chặt chẽ để triển khai hiệu quả các thỏa thuận giữa lãnh đạo cấp cao hai Đảng, hai nước.",
    "Phía Lào cảm ơn sự giúp đỡ chân thành, to lớn và hiệu quả mà Đảng, Nhà nước và nhân dân Việt Nam dành cho Lào.",
    "Đoàn công tác của tỉnh {lao} đã trao đổi kinh nghiệm với lãnh đạo tỉnh {vn} về phát triển kinh tế vùng biên giới.",
    "Thủ đô Viêng Chăn và Thủ đô Hà Nội thường xuyên trao đổi đoàn các cấp, góp phần vun đắp tình đoàn kết giữa hai nước.",
    "Hiện có hàng nghìn lưu học sinh Lào đang học tập tại các trường đại học và cao đẳng của Việt Nam.",
    "Kim ngạch thương mại song phương Việt Nam - Lào tiếp tục tăng trưởng, nhiều dự án đầu tư của Việt Nam tại Lào phát huy hiệu quả.",
    "Lực lượng bảo vệ biên giới hai nước tổ chức tuần tra song phương, giữ vững an ninh trên tuyến biên giới Việt Nam - Lào.",
    "Đại sứ quán Việt Nam tại Lào tổ chức gặp mặt cộng đồng người Việt đang sinh sống và làm việc tại Lào.",
    "Hội Hữu nghị Việt Nam - Lào các tỉnh đã tổ chức nhiều hoạt động giao lưu văn hóa, thể thao ý nghĩa.",
    "Tuyến đường cao tốc Viêng Chăn - Hà Nội được kỳ vọng sẽ thúc đẩy kết nối giao thông giữa hai nước.",
    "Đảng Nhân dân Cách mạng Lào và Đảng Cộng sản Việt Nam thường xuyên trao đổi lý luận và kinh nghiệm xây dựng Đảng.",
    "Lãnh đạo hai nước khẳng định quyết tâm gìn giữ và phát huy mối quan hệ đặc biệt Việt Nam - Lào cho các thế hệ mai sau.",
    "Tỉnh {vn} và tỉnh {lao} của Lào đã ký kết biên bản ghi nhớ hợp tác giai đoạn mới.",
)
OFF_TOPICS = {
    "weather": (("Thời tiết hôm nay: {vn} {w}", "Dự báo thời tiết cuối tuần ở {vn}: {w}"), (
        "Trung tâm Dự báo khí tượng thủy văn quốc gia cho biết không khí lạnh tiếp tục tăng cường xuống các tỉnh phía Bắc.",
        "Nhiệt độ thấp nhất ở vùng núi có nơi xuống dưới 5 độ C, người dân cần giữ ấm cho trẻ nhỏ và người cao tuổi.",
        "Khu vực Nam Bộ ngày nắng, chiều tối có mưa rào và dông vài nơi, trong cơn dông có khả năng xảy ra lốc sét.",
        "Cơ quan khí tượng khuyến cáo các tàu thuyền hoạt động trên biển cần chú ý gió mạnh và sóng lớn.",
        "Mưa lớn kéo dài có thể gây ngập úng cục bộ tại các vùng trũng thấp và khu đô thị.",
    )),
    "sport": (("Đội tuyển bóng đá {vn} giành chiến thắng thuyết phục", "Giải vô địch quốc gia: {vn} {s}"), (
        "Ngay từ những phút đầu trận, đội chủ nhà đã chủ động dâng cao đội hình và tạo ra nhiều cơ hội nguy hiểm.",
        "Huấn luyện viên trưởng cho biết toàn đội đã chuẩn bị kỹ lưỡng về thể lực và chiến thuật cho trận đấu.",
        "Tiền đạo đội khách ghi bàn thắng đẹp mắt từ pha đá phạt trực tiếp ở phút 78.",
        "Với kết quả này, câu lạc bộ vươn lên vị trí thứ hai trên bảng xếp hạng sau vòng đấu thứ mười.",
        "Hàng nghìn cổ động viên đã có mặt trên sân để cổ vũ cho đội bóng con cưng của thành phố.",
    )),
    "market": (("Giá vàng hôm nay {m}", "Thị trường chứng khoán phiên sáng: {m}"), (
        "Giá vàng miếng trong nước điều chỉnh tăng theo xu hướng của thị trường thế giới.",
        "Chỉ số VN-Index đóng cửa tăng nhẹ, thanh khoản toàn thị trường đạt hơn hai mươi nghìn tỷ đồng.",
        "Nhóm cổ phiếu ngân hàng và bất động sản là động lực chính kéo thị trường đi lên trong phiên.",
        "Các chuyên gia khuyến nghị nhà đầu tư thận trọng và quản trị rủi ro danh mục trong giai đoạn hiện nay.",
        "Giá xăng dầu trong kỳ điều hành mới được giữ ổn định theo quyết định của liên Bộ Công Thương - Tài chính.",
    )),
    "health": (("Bác sĩ khuyến cáo cách phòng bệnh {h}", "Bệnh viện {vn} cứu sống bệnh nhân {h}"), (
        "Các bác sĩ khuyến cáo người dân cần ăn uống điều độ, tăng cường rau xanh và vận động thể dục thường xuyên.",
        "Bệnh nhân nhập viện trong tình trạng nguy kịch và đã được các bác sĩ cấp cứu kịp thời.",
        "Sở Y tế đề nghị các cơ sở khám chữa bệnh chuẩn bị đủ thuốc, vật tư và nhân lực trong mùa cao điểm.",
        "Người có bệnh lý nền cần tuân thủ phác đồ điều trị và không tự ý ngừng thuốc.",
        "Tiêm chủng đầy đủ là biện pháp hiệu quả nhất để phòng ngừa các bệnh truyền nhiễm ở trẻ em.",
    )),
    "tourism": (("{vn} đón lượng khách du lịch kỷ lục", "Khám phá ẩm thực đường phố {vn}"), (
        "Trong dịp nghỉ lễ, các điểm tham quan nổi tiếng đón hàng chục nghìn lượt khách trong và ngoài nước.",
        "Doanh nghiệp lữ hành tung ra nhiều gói tour hấp dẫn, kết hợp nghỉ dưỡng và trải nghiệm văn hóa địa phương.",
        "Tàu biển quốc tế cập cảng đưa hơn một nghìn du khách đến tham quan thành phố biển.",
        "Ngành du lịch đặt mục tiêu đón hơn hai mươi triệu lượt khách quốc tế trong năm nay.",
        "Các món ăn truyền thống như phở, bún chả và bánh mì luôn hấp dẫn du khách nước ngoài.",
    )),
    "traffic": (("Ùn tắc giao thông kéo dài tại cửa ngõ {vn}", "{vn} khởi công dự án đường vành đai"), (
        "Lực lượng cảnh sát giao thông được tăng cường tại các nút giao trọng điểm trong giờ cao điểm.",
        "Dự án có tổng mức đầu tư hơn mười nghìn tỷ đồng, dự kiến hoàn thành sau ba năm thi công.",
        "Người dân được khuyến cáo lựa chọn lộ trình hợp lý và chấp hành nghiêm luật giao thông.",
        "Tai nạn giao thông trong tháng giảm cả về số vụ, số người chết và số người bị thương.",
    )),
    "tech": (("Chuyển đổi số trong doanh nghiệp nhỏ tại {vn}", "Ra mắt nền tảng trí tuệ nhân tạo tiếng Việt"), (
        "Nhiều doanh nghiệp nhỏ và vừa đã ứng dụng phần mềm quản lý, thương mại điện tử để mở rộng thị trường.",
        "Nền tảng trí tuệ nhân tạo mới hỗ trợ xử lý tiếng Việt với độ chính xác cao.",
        "Các chuyên gia cho rằng an toàn thông tin là yêu cầu bắt buộc trong quá trình chuyển đổi số.",
        "Mạng di động thế hệ mới được triển khai thử nghiệm tại các thành phố lớn.",
    )),
    "culture": (("Lễ hội truyền thống {vn} thu hút đông đảo người dân", "Triển lãm mỹ thuật đương đại tại {vn}"), (
        "Lễ hội được tổ chức với nhiều nghi thức truyền thống như rước kiệu, tế lễ và các trò chơi dân gian.",
        "Triển lãm giới thiệu hơn một trăm tác phẩm hội họa, điêu khắc của các nghệ sĩ trẻ.",
        "Chương trình nghệ thuật đặc sắc tái hiện những nét đẹp văn hóa của các dân tộc vùng cao.",
        "Công tác bảo tồn di sản văn hóa phi vật thể được địa phương đặc biệt quan tâm.",
    )),
}
HARD_NEGATIVE = (("Việt Nam - {c} tăng cường hợp tác {x}", "Đoàn đại biểu {c} thăm và làm việc tại {vn}"), (
    "Hai bên nhất trí tiếp tục phối hợp chặt chẽ tại các diễn đàn khu vực và quốc tế.",
    "Lãnh đạo hai nước đánh giá cao kết quả hợp tác trong các lĩnh vực kinh tế, thương mại và đầu tư.",
    "Phía {c} mong muốn mở rộng hợp tác với Việt Nam trong lĩnh vực năng lượng tái tạo và chuyển đổi số.",
    "Kim ngạch thương mại song phương giữa Việt Nam và {c} tiếp tục tăng trưởng ổn định.",
    "Đại sứ {c} tại Việt Nam cam kết thúc đẩy giao lưu nhân dân và hợp tác giáo dục giữa hai nước.",
))
GENERIC = (
    "Theo báo cáo của cơ quan chức năng, kết quả đạt được trong năm qua là khá toàn diện.",
    "Các đại biểu đã thảo luận sôi nổi và đóng góp nhiều ý kiến tâm huyết.",
    "Chương trình nhận được sự quan tâm của đông đảo người dân và du khách.",
    "Lãnh đạo địa phương yêu cầu các sở, ngành liên quan tiếp tục theo dõi và báo cáo kết quả.",
)
SLOTS = {
    "x": ("giáo dục", "nông nghiệp", "năng lượng", "giao thông", "y tế", "văn hóa", "quốc phòng", "thương mại"),
    "vn": ("Nghệ An", "Hà Tĩnh", "Quảng Trị", "Điện Biên", "Thanh Hóa", "Hà Nội", "Đà Nẵng", "Cần Thơ"),
    "lao": ("Savannakhet", "Xiêng Khoảng", "Hủa Phăn", "Luang Prabang", "Champasak", "Bolikhamxay"),
    "c": ("Nhật Bản", "Hàn Quốc", "Campuchia", "Thái Lan", "Singapore", "Ấn Độ"),
    "w": ("rét đậm, vùng núi có nơi rét hại", "mưa rào và dông", "nắng nóng gay gắt"),
    "s": ("thắng kịch tính", "chia điểm trên sân nhà"), "m": ("tăng mạnh", "giảm nhẹ", "đi ngang"),
    "h": ("tiêu hóa ngày Tết", "sốt xuất huyết", "đột quỵ"),
}


TAG_NAMES = {"on": "Việt Nam - Lào", "hard": "Ngoại giao", "weather": "Thời tiết", "sport": "Bóng đá",
             "market": "Thị trường", "health": "Sức khỏe", "tourism": "Du lịch", "traffic": "Giao thông",
             "tech": "Công nghệ", "culture": "Văn hóa"}
TAG_SLUGS = {"on": "viet-nam-lao", "hard": "ngoai-giao", "weather": "thoi-tiet", "sport": "bong-da",
             "market": "thi-truong", "health": "suc-khoe", "tourism": "du-lich", "traffic": "giao-thong",
             "tech": "cong-nghe", "culture": "van-hoa"}


@dataclass
class Page:
    site: str
    n: int
    title: str
    paragraphs: list[str]
    on_topic: bool
    topic: str
    related: list[int]  # global article numbers
    most_read: list[int]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


class TopicWeb(FixtureSite):
    """The generated web; deterministic for a given size and seed."""

    def __init__(self, articles_per_site: int = 80, seed: int = 7):
        super().__init__()
        self.routes = {}
        rng = random.Random(seed)
        total = articles_per_site * len(SITES)
        self.articles: list[Page] = []
        n_on, n_hard = round(total * ON_TOPIC_SHARE), round(total * HARD_NEGATIVE_SHARE)
        kinds = ["on"] * n_on + ["hard"] * n_hard + [rng.choice(list(OFF_TOPICS)) for _ in range(total - n_on - n_hard)]
        rng.shuffle(kinds)
        on = [n for n, k in enumerate(kinds) if k == "on"]
        for n, kind in enumerate(kinds):
            site = SITES[n % len(SITES)]
            if kind == "on":
                title = _fill(rng.choice(ON_TOPIC_TITLES), rng)
                bank, share = ON_TOPIC_SENTENCES, rng.uniform(0.5, 0.8)
                others = OFF_TOPICS[rng.choice(list(OFF_TOPICS))][1] + GENERIC
                same = [m for m in on if m != n]
                related = rng.sample(same, 3) + rng.sample([m for m in range(total) if kinds[m] != "on"], 2)
            else:
                titles, bank = HARD_NEGATIVE if kind == "hard" else OFF_TOPICS[kind]
                title = _fill(rng.choice(titles), rng)
                share, others = rng.uniform(0.6, 0.9), GENERIC
                same = [m for m in range(total) if kinds[m] == kind and m != n] or list(range(total))
                related = rng.sample(same, min(4, len(same))) + [rng.randrange(total)]
                if rng.random() < 0.25:
                    related[-1] = rng.choice(on)
            sentences = [_fill(rng.choice(bank) if rng.random() < share else rng.choice(others), rng)
                         for _ in range(rng.randint(14, 24))]
            paragraphs = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
            self.articles.append(Page(site, n, title, paragraphs, kind == "on", kind, related,
                                      [rng.randrange(total) for _ in range(4)]))

    # ------------------------------------------------------------ URLs
    def url(self, n: int) -> str:
        site = self.articles[n].site
        if site == "nhandan.vn":
            return f"http://nhandan.vn/tin-so-{n}-post{200000 + n}.html"
        if site == "thoidai.com.vn":
            return f"http://thoidai.com.vn/tin-so-{n}-{300000 + n}.html"
        return f"http://www.vietnamplus.vn/tin-so-{n}-post{400000 + n}.vnp"

    @staticmethod
    def tag_url(site: str, topic: str = "on") -> str:
        slug = TAG_SLUGS[topic]
        return {"nhandan.vn": f"http://nhandan.vn/tag/{slug}-1.html",
                "thoidai.com.vn": f"http://thoidai.com.vn/tags/{slug}.html",
                "www.vietnamplus.vn": f"http://www.vietnamplus.vn/tag/{slug}.vnp"}[site]

    def start_urls(self) -> list[str]:
        return [f"http://{site}/" for site in SITES]

    def labels(self) -> set[str]:
        """URLs of the on-topic articles."""
        return {self.url(p.n) for p in self.articles if p.on_topic}

    def page_count(self) -> int:
        """Articles, home pages and tag pages (one per site and topic)."""
        return len(self.articles) + len(SITES) * (1 + len(TAG_SLUGS))

    # ------------------------------------------------------------ serving
    def resolve(self, host: str, path_qs: str) -> Reply:
        path = path_qs.split("?", 1)[0]
        if path == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        if host not in SITES:
            return _not_found()
        if path == "/":
            site_articles = [p.n for p in self.articles if p.site == host][-20:]
            return _html(self._listing(host, "Trang chủ", site_articles))
        for topic in TAG_SLUGS:
            if f"http://{host}{path}" == self.tag_url(host, topic):
                tagged = [p.n for p in self.articles if p.site == host and p.topic == topic][-10:]
                return _html(self._listing(host, TAG_NAMES[topic], tagged))
        for n, page in enumerate(self.articles):
            if page.site == host and self.url(n).endswith(path):
                return _html(self._article(page))
        return _not_found()

    def _a(self, n: int, cls: str = "") -> str:
        return f'<a {cls}href="{self.url(n)}">{escape(self.articles[n].title)}</a>'

    def _listing(self, site: str, heading: str, items: list[int]) -> str:
        if site == "thoidai.com.vn":
            body = "".join(f'<div class="article">{self._a(n)}</div>' for n in items)
            body = f'<div class="bx-listing fw lt mb clearfix">{body}</div>'
        else:
            body = "".join(f'<article class="story"><h3 class="story__heading">{self._a(n, CMS_LINK)}'
                           f'</h3></article>' for n in items)
            body = f'<div class="box-stream">{body}</div>'
        return f"<html><head><title>{heading}</title></head><body><h1>{heading}</h1>{body}</body></html>"

    def _article(self, page: Page) -> str:
        title, body = escape(page.title), "".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
        most_read = "".join(self._a(n) for n in page.most_read)
        tag_href, tag_text = self.tag_url(page.site, page.topic), TAG_NAMES[page.topic]
        if page.site == "thoidai.com.vn":
            related = "".join(f'<div class="article">{self._a(n, TITLE_LINK)}</div>'
                              for n in page.related)
            return f"""<html><head><title>{title}</title><meta property="og:type" content="article"></head><body>
<ul class="main-menu"><li><a href="/">Trang chủ</a></li></ul>
<div class="article-detail fw clearfix"><span class="article-detail-date rt">09:00 | 10/01/2025 GMT+7</span>
<h1 class="article-detail-title f0">{title}</h1>
<div class="__MASTERCMS_CONTENT fw f1 mb20 clearfix">{body}</div>
<div class="article-detail-author">PV</div>
<div class="article-detail-tags"><a href="{tag_href}">{tag_text}</a></div>
<div class="article-detail-related"><h3>Tin bài liên quan</h3>{related}</div></div>
<div class="box-most-read"><h3>Đọc nhiều</h3>{most_read}</div></body></html>"""
        related = "".join(f'<article class="story"><h3 class="story__heading">{self._a(n, CMS_LINK)}'
                          f'</h3></article>' for n in page.related)
        return f"""<html><head><title>{title}</title><meta property="og:type" content="article"></head><body>
<nav class="menu"><a href="/">Trang chủ</a></nav>
<article class="article"><h1 class="article__title cms-title">{title}</h1>
<div class="article__meta"><time class="time" datetime="2025-01-10T09:00:00+0700">10/01/2025</time></div>
<div class="article__body zce-content-body cms-body">{body}</div>
<div class="article__author">PV</div>
<div class="article__tag"><a href="{tag_href}">{tag_text}</a></div></article>
<div class="box-related"><h3>Tin liên quan</h3>{related}</div>
<aside class="box-most-viewed"><h3>Đọc nhiều</h3>{most_read}</aside></body></html>"""


def _html(text: str) -> Reply:
    return Reply(headers=[("Content-Type", "text/html; charset=utf-8")], body=text.encode("utf-8"))


def _not_found() -> Reply:
    return Reply(status=404, headers=[("Content-Type", "text/html")], body=b"<h1>404</h1>")
