"""A harder labelled topic web, built without looking at the crawler's thresholds (issue #19).

`HardTopicWeb()` serves nhandan.vn, thoidai.com.vn and www.vietnamplus.vn in
their own markup (article, section, tag and home pages; see testbed/topic_site.py
and docs/site-notes.md) over plain http through the fixture proxy. Its parameters were
fixed from how these sites look, before the crawler was measured on it:

- a quarter of the articles are about Vietnam–Laos relations, spread over five
  sub-topics with their own vocabulary (economy, education, defence, culture,
  border provinces); the rest are domestic news of the same sections, other
  news, Vietnam's diplomacy with *other* countries, and off-topic articles that
  mention Laos in passing (a weather forecast for Upper Laos, coffee exports);
- three in ten headlines are teasers that name no country ("Những người lính
  tình nguyện năm ấy"), and related boxes show an article's short title (a
  quote, a place, a number) for three links in ten;
- related boxes are picked the way a CMS picks them: same site, most shared
  tags, then same section, so on-topic boxes mix in same-section news;
- one series per sub-topic (3–5 parts) links part k to k+1; parts after the
  first have no tags and appear in no other related box, so only the chain
  (or a section listing) leads to them;
- some on-topic articles ("orphans") appear in no related box: only tag and
  section listings lead to them; tagging is inconsistent (half the on-topic
  articles carry "Việt Nam - Lào"), listings are paginated;
- articles carry a breadcrumb (home, section) and 2–4 tags, as on the sites.

The crawl starts from five on-topic articles (`start_urls()`, one per
sub-topic), as a seed corpus would. `labels()` gives the on-topic URLs.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qs, urlsplit

from testbed.topic_site import _html, _not_found
from testbed.fixtureserver import FixtureSite, Reply

SITES = ("nhandan.vn", "thoidai.com.vn", "www.vietnamplus.vn")
ARTICLES_PER_SITE = 90
ON_TOPIC_SHARE = 0.24
OTHER_DIPLOMACY_SHARE = 0.08
PASSING_SHARE = 0.08
TEASER_TITLE_SHARE = 0.3
SHORT_TITLE_LINK_SHARE = 0.3  # related-box links showing the short title
RELATED_LINKS = 5
ORPHAN_SHARE = 0.15
HOME_ITEMS, SECTION_PAGE, TAG_PAGE = 20, 15, 10

SLOTS = {
    "vn": ("Nghệ An", "Hà Tĩnh", "Quảng Trị", "Quảng Bình", "Điện Biên", "Sơn La", "Thanh Hóa",
           "Kon Tum", "Thừa Thiên Huế", "Hà Nội", "Đà Nẵng"),
    "lao": ("Savannakhet", "Xiêng Khoảng", "Hủa Phăn", "Luang Prabang", "Champasak", "Bolikhamxay",
            "Khammouane", "Attapeu", "Sekong", "Phongsaly"),
    "laoname": ("Sounthone", "Khamla", "Bounmy", "Phonesavanh", "Souksavanh", "Vilayvong", "Thongsavanh"),
    "vnname": ("Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn", "Phạm Quốc Bảo", "Hoàng Thu Hà"),
    "uni": ("Vinh", "Hồng Đức", "Huế", "Đà Nẵng", "Tây Bắc", "Quốc gia Hà Nội"),
    "n": ("12", "25", "46", "120", "350", "460", "1.200", "2.000", "15.000"),
    "mo": ("3", "6", "9", "10"),
    "c": ("Campuchia", "Thái Lan", "Nhật Bản", "Hàn Quốc", "Singapore", "Indonesia", "Ấn Độ"),
    "club": ("Hà Nội FC", "Thể Công", "Nam Định", "Bình Dương", "Hải Phòng"),
    "m": ("tăng mạnh", "giảm nhẹ", "đi ngang", "đảo chiều"),
}

# Sentences every on-topic article may carry, whatever its sub-topic.
RELATIONS = (
    "Quan hệ hữu nghị vĩ đại, đoàn kết đặc biệt và hợp tác toàn diện Việt Nam - Lào là tài sản vô giá của hai dân tộc.",
    "Hai bên nhất trí tiếp tục triển khai hiệu quả các thỏa thuận đã ký giữa lãnh đạo cấp cao hai Đảng, hai nước.",
    "Phía bạn Lào cảm ơn sự giúp đỡ chân thành và hiệu quả mà nhân dân Việt Nam dành cho nhân dân Lào.",
    "Lãnh đạo hai nước khẳng định quyết tâm gìn giữ mối quan hệ đặc biệt cho các thế hệ mai sau.",
)


@dataclass(frozen=True)
class Kind:
    """One kind of article: its section, sentences, headlines, short titles and tags."""

    name: str
    on_topic: bool
    section: str
    sentences: tuple[str, ...]
    titles: tuple[str, ...]  # descriptive headlines
    teasers: tuple[str, ...]  # headlines that name no country
    short_titles: tuple[str, ...]  # what a related box may show instead of the headline
    tags: tuple[str, ...]  # the kind's own tags
    shared_tag: str  # a tag it shares with the other kinds of its section
    counterpart: str = ""  # the kind whose sentences pad its text (on-topic: the domestic news of its section)


ON_TOPIC = (
    Kind("economy", True, "Kinh tế", (
        "Kim ngạch thương mại giữa Việt Nam và Lào trong {mo} tháng đầu năm đạt hơn {n} triệu USD.",
        "Nhiều doanh nghiệp Việt Nam đang đầu tư vào các dự án nông nghiệp, thủy điện và khai khoáng tại Lào.",
        "Tuyến đường sắt Viêng Chăn - Vũng Áng được kỳ vọng mở hành lang vận tải ra biển cho hàng hóa của Lào.",
        "Hai bên thống nhất tháo gỡ khó khăn cho các dự án đầu tư của Việt Nam tại nước bạn.",
        "Cảng Vũng Áng dành riêng một bến cho hàng hóa quá cảnh của Lào.",
        "Điện từ các nhà máy thủy điện của Lào được nhập khẩu về Việt Nam qua đường dây 500 kV.",
        "Hội chợ thương mại Việt - Lào thu hút hơn {n} gian hàng của doanh nghiệp hai nước.",
        "Phía Lào đề nghị Việt Nam tiếp tục hỗ trợ xây dựng hạ tầng giao thông và logistics.",
        "Các ngân hàng Việt Nam mở chi nhánh tại Viêng Chăn để phục vụ doanh nghiệp đầu tư sang Lào.",
    ), ("Thương mại Việt Nam - Lào tăng trưởng mạnh trong {mo} tháng", "Doanh nghiệp Việt Nam mở rộng đầu tư tại tỉnh {lao} của Lào",
        "Thúc đẩy kết nối hạ tầng giữa Việt Nam và Lào", "Lào xuất khẩu điện sang Việt Nam tăng {n}%"),
        ("{n} triệu USD và những con số biết nói", "Con đường ra biển của hàng hóa nước bạn",
         "Dòng điện từ bên kia dãy Trường Sơn"),
        ("{n} triệu USD vốn đăng ký mới", "Cảng Vũng Áng: bến số {n}", "Ông {laoname}: 'Cánh cửa ra biển đã mở'"),
        ("Đầu tư sang Lào", "Thương mại biên giới", "Đường sắt Viêng Chăn - Vũng Áng"), "Xuất nhập khẩu", "economy_dom"),
    Kind("education", True, "Giáo dục", (
        "Hiện có khoảng {n} lưu học sinh Lào đang theo học tại các cơ sở giáo dục của Việt Nam.",
        "Trường Đại học {uni} đã đào tạo hàng nghìn cán bộ cho các tỉnh của Lào.",
        "Các lưu học sinh Lào học tiếng Việt một năm trước khi vào chuyên ngành.",
        "Chính phủ Việt Nam dành hàng trăm suất học bổng mỗi năm cho sinh viên Lào.",
        "Nhiều cựu lưu học sinh Lào nay giữ các cương vị quan trọng trong bộ máy nhà nước của nước bạn.",
        "Dự án dạy tiếng Việt tại các trường phổ thông của Lào do bộ giáo dục hai nước phối hợp triển khai.",
        "Các thầy cô giáo Việt Nam sang Viêng Chăn giảng dạy và biên soạn giáo trình song ngữ Việt - Lào.",
        "Sinh viên Lào tại {vn} được nhà trường bố trí ký túc xá và người hướng dẫn riêng.",
    ), ("Trường Đại học {uni} đón {n} lưu học sinh Lào nhập học", "Học bổng của Chính phủ Việt Nam cho sinh viên Lào",
        "Dạy tiếng Việt cho học sinh tỉnh {lao} của Lào", "Lưu học sinh Lào tại {vn} tổng kết năm học"),
        ("Người 'truyền lửa' tiếng Việt ở {lao}", "Những học trò đến từ bên kia biên giới",
         "Cô giáo {laoname} và giấc mơ giảng đường"),
        ("{n} tân sinh viên nhập học", "Cô {laoname}: 'Tôi muốn làm cô giáo'", "Lớp học ở {lao}"),
        ("Lưu học sinh Lào", "Tiếng Việt", "Đào tạo cán bộ"), "Học bổng", "education_dom"),
    Kind("defence", True, "Quốc phòng", (
        "Lực lượng vũ trang hai nước phối hợp tìm kiếm, quy tập hài cốt liệt sĩ quân tình nguyện Việt Nam hy sinh tại Lào.",
        "Đội quy tập của tỉnh {vn} đã hoàn thành mùa khô thứ {n} trên đất bạn Lào.",
        "Bộ Quốc phòng hai nước ký kế hoạch hợp tác, tập trung vào đào tạo cán bộ và an ninh biên giới.",
        "Bệnh viện quân y của Việt Nam khám, chữa bệnh miễn phí cho hàng nghìn người dân Lào.",
        "Quân đội nhân dân Lào đánh giá cao sự giúp đỡ của Quân đội nhân dân Việt Nam trong xây dựng lực lượng.",
        "Các cựu chiến binh quân tình nguyện Việt Nam ở Lào xúc động trở lại chiến trường xưa.",
        "Tình đoàn kết chiến đấu giữa quân đội hai nước được hun đúc qua các cuộc kháng chiến.",
        "Học viện Quốc phòng đã đào tạo hàng trăm sĩ quan cao cấp cho Quân đội nhân dân Lào.",
    ), ("Hợp tác quốc phòng Việt Nam - Lào ngày càng đi vào chiều sâu", "Hồi hương {n} hài cốt liệt sĩ hy sinh tại Lào",
        "Quân y Việt Nam khám bệnh miễn phí cho người dân tỉnh {lao}", "Bộ trưởng Quốc phòng Lào thăm Việt Nam"),
        ("Những người lính tình nguyện năm ấy", "Đưa các anh về với đất mẹ", "Mùa khô thứ {n} trên đất bạn"),
        ("Đội K{n} lên đường", "Ông {laoname}: 'Chúng tôi không bao giờ quên'", "{n} hài cốt được hồi hương"),
        ("Quân tình nguyện", "Quy tập hài cốt liệt sĩ", "Hợp tác quốc phòng"), "Biên phòng", "defence_dom"),
    Kind("culture", True, "Văn hóa", (
        "Tết Bunpimay được cộng đồng người Lào tại {vn} tổ chức với nghi lễ té nước truyền thống.",
        "Đoàn nghệ thuật tỉnh {lao} của Lào biểu diễn múa lăm vông cùng các nghệ sĩ Việt Nam.",
        "Tuần văn hóa Lào tại Việt Nam giới thiệu ẩm thực, trang phục và nghề thủ công của các bộ tộc Lào.",
        "Các bài hát về tình hữu nghị Việt - Lào được trình diễn trong đêm giao lưu.",
        "Triển lãm ảnh tái hiện những trang sử của mối quan hệ đặc biệt Việt Nam - Lào.",
        "Bộ sách song ngữ Việt - Lào về lịch sử quan hệ hai nước được ra mắt bạn đọc.",
        "Người Lào và người Việt ở {vn} cùng nhau đón Tết, giữ gìn phong tục từ bao đời.",
        "Liên hoan phim Lào tại Hà Nội giới thiệu những tác phẩm mới của điện ảnh nước bạn.",
    ), ("Tuần Văn hóa Lào tại {vn}", "Lưu học sinh Lào đón Tết Bunpimay tại {vn}",
        "Giao lưu văn hóa Việt Nam - Lào tại tỉnh {lao}", "Ra mắt sách song ngữ về quan hệ Việt - Lào"),
        ("Té nước mừng năm mới ở {vn}", "Điệu lăm vông bên dòng Mê Kông", "Sắc màu Bunpimay giữa lòng thủ đô"),
        ("Đêm lăm vông ở {vn}", "Nghệ sĩ {laoname}: 'Hát cho tình hữu nghị'", "{n} tác phẩm, một câu chuyện"),
        ("Bunpimay", "Giao lưu văn hóa", "Năm Đoàn kết hữu nghị"), "Lễ hội", "culture_dom"),
    Kind("border", True, "Địa phương", (
        "Tỉnh {vn} có hơn {n} km đường biên giới với tỉnh {lao} của Lào.",
        "Hai tỉnh kết nghĩa cùng xây dựng bản văn hóa, trạm y tế và trường học dọc biên giới Việt - Lào.",
        "Lượng hàng hóa và người qua cửa khẩu quốc tế với Lào tăng mạnh sau khi thủ tục được đơn giản hóa.",
        "Việc tăng dày và tôn tạo hệ thống mốc quốc giới Việt Nam - Lào đã hoàn thành.",
        "Đồn biên phòng phối hợp với lực lượng bảo vệ biên giới Lào tuần tra, trấn áp tội phạm ma túy.",
        "Chính quyền các huyện giáp biên của hai nước thường xuyên trao đổi thông tin về an ninh trật tự.",
        "Người dân các bản của tỉnh {lao} sang chợ biên giới phía Việt Nam mua bán hằng ngày.",
        "Mô hình kết nghĩa bản - bản hai bên biên giới góp phần xây dựng đường biên hòa bình, hữu nghị.",
    ), ("{vn} và {lao} (Lào) ký kết hợp tác giai đoạn mới", "Tuần tra song phương trên biên giới Việt Nam - Lào",
        "Cửa khẩu với Lào thông quan hơn {n} lượt phương tiện", "Kết nghĩa bản - bản hai bên biên giới Việt - Lào"),
        ("Cột mốc {n} và những người giữ biên", "Chợ phiên nơi hai đất nước gặp nhau", "Bản kết nghĩa bên dãy Trường Sơn"),
        ("Mốc {n} giữa đại ngàn", "{lao} - {vn}: {n} năm kết nghĩa", "Ông {laoname}: 'Bản tôi, bản anh'"),
        ("Cột mốc biên giới", "Cửa khẩu", "Tỉnh kết nghĩa"), "Biên giới", "local_dom"),
)

OFF_TOPIC = (
    Kind("economy_dom", False, "Kinh tế", (
        "Kim ngạch xuất khẩu cả nước trong {mo} tháng đầu năm đạt hơn {n} tỷ USD.",
        "Nhiều doanh nghiệp trong nước đang mở rộng sản xuất để đón đơn hàng cuối năm.",
        "Ngân hàng Nhà nước giữ ổn định lãi suất điều hành nhằm hỗ trợ tăng trưởng.",
        "Các khu công nghiệp phía Bắc thu hút thêm nhiều dự án đầu tư trực tiếp nước ngoài.",
        "Giá xăng dầu trong kỳ điều hành mới được giữ ổn định theo quyết định của liên bộ.",
    ), ("Xuất khẩu {mo} tháng đạt hơn {n} tỷ USD", "Giá vàng hôm nay {m}", "Thị trường chứng khoán phiên sáng {m}"),
        ("Cuộc đua của những con số", "Mùa cao điểm của nhà máy"),
        ("Tăng {n} đồng mỗi lượng", "Bà {vnname}: 'Đơn hàng đã trở lại'"),
        ("Giá vàng", "Chứng khoán", "Doanh nghiệp"), "Xuất nhập khẩu"),
    Kind("education_dom", False, "Giáo dục", (
        "Bộ Giáo dục và Đào tạo công bố phương án tuyển sinh đại học năm nay.",
        "Hơn một triệu thí sinh đăng ký dự thi tốt nghiệp trung học phổ thông.",
        "Nhiều trường đại học tăng chỉ tiêu cho các ngành kỹ thuật và công nghệ.",
        "Giáo viên vùng cao được hỗ trợ thêm phụ cấp thu hút và nhà công vụ.",
        "Chương trình giáo dục phổ thông mới được triển khai ở tất cả các khối lớp.",
    ), ("Tuyển sinh đại học: {n} trường công bố điểm chuẩn", "Thi tốt nghiệp THPT tại {vn} diễn ra an toàn",
        "Trường Đại học {uni} trao học bổng cho {n} tân sinh viên"),
        ("Những người thầy gieo chữ trên núi", "Điểm 10 và câu chuyện phía sau"),
        ("{n} thủ khoa", "Thầy {vnname}: 'Mỗi học trò là một hạt giống'"),
        ("Tuyển sinh", "Thi tốt nghiệp"), "Học bổng"),
    Kind("defence_dom", False, "Quốc phòng", (
        "Các đơn vị quân đội tổ chức huấn luyện chiến sĩ mới theo đúng kế hoạch.",
        "Lễ giao nhận quân năm nay được tổ chức gọn nhẹ, trang trọng tại các địa phương.",
        "Bộ đội biên phòng tỉnh phối hợp với ngư dân bảo vệ chủ quyền biển, đảo.",
        "Hội thao quốc phòng thu hút hàng trăm vận động viên từ các đơn vị trong quân khu.",
    ), ("{vn}: {n} thanh niên lên đường nhập ngũ", "Hội thao quốc phòng quân khu năm nay"),
        ("Những người lính trẻ năm ấy", "Tuổi mười tám trong quân ngũ"),
        ("{n} tân binh", "Đại tá {vnname}: 'Rèn từ những điều nhỏ nhất'"),
        ("Tuyển quân", "Huấn luyện"), "Biên phòng"),
    Kind("culture_dom", False, "Văn hóa", (
        "Lễ hội được tổ chức với các nghi thức truyền thống như rước kiệu, tế lễ và trò chơi dân gian.",
        "Triển lãm giới thiệu hơn một trăm tác phẩm hội họa, điêu khắc của các nghệ sĩ trẻ.",
        "Công tác bảo tồn di sản văn hóa phi vật thể được địa phương đặc biệt quan tâm.",
        "Chương trình nghệ thuật tái hiện nét đẹp văn hóa của các dân tộc vùng cao.",
    ), ("Lễ hội truyền thống {vn} thu hút đông đảo người dân", "Triển lãm mỹ thuật đương đại tại {vn}"),
        ("Sắc màu lễ hội đầu xuân", "Giữ hồn cho làn điệu cổ"),
        ("Đêm hội ở {vn}", "Nghệ nhân {vnname}: 'Giữ nghề là giữ mình'"),
        ("Di sản", "Mỹ thuật"), "Lễ hội"),
    Kind("local_dom", False, "Địa phương", (
        "Tỉnh đầu tư hàng trăm tỷ đồng xây dựng đường giao thông nông thôn.",
        "Nhiều huyện miền núi đạt chuẩn nông thôn mới trước thời hạn.",
        "Chính quyền địa phương hỗ trợ người dân chuyển đổi cây trồng, vật nuôi.",
        "Dự án cấp nước sạch mang lại niềm vui cho hàng nghìn hộ dân vùng cao.",
    ), ("{vn} khởi công đường giao thông liên huyện", "{vn}: {n} xã đạt chuẩn nông thôn mới"),
        ("Con đường mới về bản", "Nước sạch về với vùng cao"),
        ("{n} hộ có nước sạch", "Ông {vnname}: 'Đường mở, bản đổi thay'"),
        ("Nông thôn mới", "Giao thông"), "Biên giới"),
    Kind("weather", False, "Xã hội", (
        "Trung tâm Dự báo khí tượng thủy văn quốc gia cho biết không khí lạnh tiếp tục tăng cường xuống các tỉnh phía Bắc.",
        "Nhiệt độ thấp nhất ở vùng núi có nơi xuống dưới 5 độ C, người dân cần giữ ấm cho trẻ nhỏ và người già.",
        "Khu vực Nam Bộ ngày nắng, chiều tối có mưa rào và dông vài nơi.",
        "Mưa lớn kéo dài có thể gây ngập úng cục bộ tại vùng trũng thấp và khu đô thị.",
    ), ("Thời tiết hôm nay: {vn} rét đậm", "Dự báo thời tiết cuối tuần: mưa dông diện rộng"),
        ("Mưa đến bao giờ?", "Một mùa đông khác thường"),
        ("{vn}: rét {n} độ", "Mưa {n} mm"), ("Thời tiết", "Không khí lạnh"), "Thiên tai"),
    Kind("sport", False, "Thể thao", (
        "Ngay từ những phút đầu trận, đội chủ nhà chủ động dâng cao đội hình và tạo ra nhiều cơ hội.",
        "Huấn luyện viên trưởng cho biết toàn đội đã chuẩn bị kỹ về thể lực và chiến thuật.",
        "Với kết quả này, câu lạc bộ vươn lên vị trí thứ hai trên bảng xếp hạng.",
        "Hàng nghìn cổ động viên có mặt trên sân để cổ vũ cho đội bóng của thành phố.",
    ), ("V-League: {club} thắng kịch tính", "{club} chia điểm trên sân nhà"),
        ("Đêm của những người hùng", "Bàn thắng phút bù giờ"),
        ("HLV {vnname}: 'Toàn đội đã nỗ lực'", "{n} phút định mệnh"), ("V-League", "Bóng đá"), "Thể thao"),
    Kind("health", False, "Y tế", (
        "Các bác sĩ khuyến cáo người dân ăn uống điều độ, tăng cường rau xanh và vận động thường xuyên.",
        "Bệnh nhân nhập viện trong tình trạng nguy kịch và được cấp cứu kịp thời.",
        "Sở Y tế đề nghị các cơ sở khám chữa bệnh chuẩn bị đủ thuốc và nhân lực.",
        "Tiêm chủng đầy đủ là biện pháp hiệu quả nhất để phòng bệnh truyền nhiễm ở trẻ em.",
    ), ("Bệnh viện {vn} cứu sống bệnh nhân đột quỵ", "Bác sĩ khuyến cáo cách phòng sốt xuất huyết"),
        ("Cuộc chạy đua với thời gian", "Giành giật sự sống"),
        ("{n} ca mắc mới", "Bác sĩ {vnname}: 'Đừng chủ quan'"), ("Sức khỏe", "Bệnh viện"), "Y tế"),
    Kind("tourism", False, "Du lịch", (
        "Trong dịp nghỉ lễ, các điểm tham quan đón hàng chục nghìn lượt khách trong và ngoài nước.",
        "Doanh nghiệp lữ hành tung ra nhiều gói tour kết hợp nghỉ dưỡng và trải nghiệm văn hóa địa phương.",
        "Ngành du lịch đặt mục tiêu đón hơn hai mươi triệu lượt khách quốc tế trong năm nay.",
        "Các món ăn truyền thống như phở, bún chả và bánh mì luôn hấp dẫn du khách.",
    ), ("{vn} đón lượng khách du lịch kỷ lục", "Khám phá ẩm thực đường phố {vn}"),
        ("Mùa hoa trên cao nguyên", "Một ngày ở phố cổ"),
        ("Về {vn} mùa hoa", "{n} lượt khách"), ("Du lịch", "Ẩm thực"), "Du lịch"),
    Kind("tech", False, "Khoa học - Công nghệ", (
        "Nhiều doanh nghiệp nhỏ và vừa ứng dụng phần mềm quản lý và thương mại điện tử để mở rộng thị trường.",
        "Nền tảng trí tuệ nhân tạo mới hỗ trợ xử lý tiếng Việt với độ chính xác cao.",
        "Các chuyên gia cho rằng an toàn thông tin là yêu cầu bắt buộc trong chuyển đổi số.",
        "Mạng di động thế hệ mới được thử nghiệm tại các thành phố lớn.",
    ), ("Chuyển đổi số trong doanh nghiệp nhỏ tại {vn}", "Ra mắt nền tảng trí tuệ nhân tạo tiếng Việt"),
        ("Khi máy biết nói tiếng Việt", "Cuộc đua 5G"),
        ("{n} doanh nghiệp lên sàn", "Kỹ sư {vnname}: 'Dữ liệu là chìa khóa'"),
        ("Chuyển đổi số", "Trí tuệ nhân tạo"), "Công nghệ"),
)

# Vietnam's relations with another country, in the same diplomatic vocabulary.
OTHER_DIPLOMACY = Kind("diplomacy_other", False, "Thế giới", (
    "Hai bên nhất trí tiếp tục phối hợp chặt chẽ tại các diễn đàn khu vực và quốc tế.",
    "Lãnh đạo hai nước đánh giá cao kết quả hợp tác trong các lĩnh vực kinh tế, thương mại và đầu tư.",
    "Phía {c} mong muốn mở rộng hợp tác với Việt Nam trong lĩnh vực năng lượng tái tạo và chuyển đổi số.",
    "Kim ngạch thương mại song phương giữa Việt Nam và {c} tiếp tục tăng trưởng ổn định.",
    "Đại sứ {c} tại Việt Nam cam kết thúc đẩy giao lưu nhân dân và hợp tác giáo dục giữa hai nước.",
), ("Việt Nam - {c} tăng cường hợp tác toàn diện", "Đoàn đại biểu {c} thăm và làm việc tại {vn}"),
    ("Những nhịp cầu hữu nghị", "Một chặng đường hợp tác"),
    ("Đại sứ {c}: 'Một đối tác tin cậy'", "{n} năm quan hệ ngoại giao"),
    ("Ngoại giao", "Hợp tác quốc tế"), "Hợp tác quốc tế")

# One sentence each that mentions Laos in passing, for off-topic kinds.
PASSING = {
    "weather": "Không khí lạnh ảnh hưởng đến Bắc Bộ, Bắc Trung Bộ và khu vực Thượng Lào.",
    "economy_dom": "Cà phê xuất khẩu sang Lào, Campuchia và Thái Lan tăng nhẹ so với cùng kỳ.",
    "sport": "Ở trận đấu khác cùng bảng, Malaysia thắng Lào với tỷ số 3-0.",
    "tourism": "Nhiều công ty lữ hành mở tour đường bộ qua Lào sang Thái Lan dịp nghỉ lễ.",
    "health": "Bệnh viện cũng tiếp nhận một số bệnh nhân từ Lào và Campuchia sang điều trị.",
    "local_dom": "Mực nước sông Mê Kông đoạn chảy qua Lào và Thái Lan xuống thấp kỷ lục, ảnh hưởng đến Đồng bằng sông Cửu Long.",
}
GENERIC = (
    "Theo báo cáo của cơ quan chức năng, kết quả đạt được trong năm qua là khá toàn diện.",
    "Các đại biểu đã thảo luận sôi nổi và đóng góp nhiều ý kiến tâm huyết.",
    "Chương trình nhận được sự quan tâm của đông đảo người dân.",
    "Lãnh đạo địa phương yêu cầu các sở, ngành liên quan tiếp tục theo dõi và báo cáo kết quả.",
)
KINDS = {k.name: k for k in (*ON_TOPIC, *OFF_TOPIC, OTHER_DIPLOMACY)}
TOPIC_TAGS = (("Việt Nam - Lào", 0.5), ("Quan hệ Việt - Lào", 0.15))


@dataclass
class Story:
    n: int
    site: str
    kind: str
    title: str
    short_title: str
    lead: str
    paragraphs: list[str]
    tags: list[str]
    on_topic: bool
    hidden: bool = False  # in no other article's related box (series parts after the first, orphans)
    series: list[int] = field(default_factory=list)  # the whole series, in order, when part of one
    related: list[int] = field(default_factory=list)
    short_links: set[int] = field(default_factory=set)  # related links shown with the short title
    most_read: list[int] = field(default_factory=list)

    @property
    def section(self) -> str:
        return KINDS[self.kind].section


def slugify(text: str) -> str:
    """A CMS slug: diacritics folded, đ → d, words joined by hyphens."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def _fill(template: str, rng: random.Random) -> str:
    return template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


class HardTopicWeb(FixtureSite):
    """The generated web; deterministic for a given size and seed."""

    def __init__(self, articles_per_site: int = ARTICLES_PER_SITE, seed: int = 19):
        super().__init__()
        self.routes = {}
        rng = random.Random(seed)
        total = articles_per_site * len(SITES)
        n_on, n_dip, n_pass = (round(total * s) for s in (ON_TOPIC_SHARE, OTHER_DIPLOMACY_SHARE, PASSING_SHARE))
        kinds = [ON_TOPIC[i % len(ON_TOPIC)].name for i in range(n_on)] + ["diplomacy_other"] * n_dip
        kinds += [rng.choice(sorted(PASSING)) + "+passing" for _ in range(n_pass)]
        kinds += [rng.choice(OFF_TOPIC).name for _ in range(total - len(kinds))]
        rng.shuffle(kinds)
        self.stories = [self._story(n, SITES[n % len(SITES)], kind, rng) for n, kind in enumerate(kinds)]
        self._make_series(rng)
        for story in self.stories:
            if story.on_topic and not story.series and rng.random() < ORPHAN_SHARE:
                story.hidden = True
        self._pick_related(rng)
        self.seeds = self._pick_seeds()
        self._by_path = {urlsplit(self.url(s.n)).path: s for s in self.stories}
        self._listings = self._make_listings()

    # ------------------------------------------------------------ content
    def _story(self, n: int, site: str, kind_name: str, rng: random.Random) -> Story:
        passing = kind_name.endswith("+passing")
        kind = KINDS[kind_name.removesuffix("+passing")]
        teaser = rng.random() < TEASER_TITLE_SHARE
        title = _fill(rng.choice(kind.teasers if teaser else kind.titles), rng)
        if kind.on_topic:
            bank, others = kind.sentences + RELATIONS, KINDS[kind.counterpart].sentences + GENERIC
            share = rng.uniform(0.5, 0.8)
        else:
            bank, others, share = kind.sentences, GENERIC, rng.uniform(0.7, 0.9)
        sentences = [_fill(rng.choice(bank) if rng.random() < share else rng.choice(others), rng)
                     for _ in range(rng.randint(12, 22))]
        if passing:
            sentences.insert(rng.randrange(len(sentences)), PASSING[kind.name])
        tags = list(rng.sample(kind.tags, rng.randint(1, 2)))
        if kind.on_topic:
            tags += [tag for tag, p in TOPIC_TAGS if rng.random() < p]
        if rng.random() < (0.5 if kind.on_topic else 0.3):
            tags.append(kind.shared_tag)
        return Story(n, site, kind.name, title, _fill(rng.choice(kind.short_titles), rng), sentences[0],
                     [" ".join(sentences[i:i + 3]) for i in range(1, len(sentences), 3)], tags, kind.on_topic,
                     most_read=[rng.randrange(len(SITES) * ARTICLES_PER_SITE) for _ in range(4)])

    def _make_series(self, rng: random.Random) -> None:
        """One series per on-topic sub-topic, on one site: 'Kỳ k: ...' parts linked in order."""
        for kind in ON_TOPIC:
            site = rng.choice(SITES)
            pools = {name: [s for s in self.stories if s.kind == kind.name and s.site == name and not s.series]
                     for name in SITES}
            pool = pools[site] if len(pools[site]) >= 3 else max(pools.values(), key=len)  # a small web
            parts = sorted(rng.sample(pool, min(len(pool), rng.randint(3, 5))), key=lambda s: s.n)
            order = [s.n for s in parts]
            for k, story in enumerate(parts, 1):
                story.series = order
                story.title = f"Kỳ {k}: {_fill(rng.choice(kind.teasers), rng)}"
                if k > 1:
                    story.tags, story.hidden = [], True

    def _pick_related(self, rng: random.Random) -> None:
        """The CMS's pick: same site, most shared tags, then same section; a series links its neighbours."""
        for story in self.stories:
            chosen: list[int] = []
            if story.series:
                k = story.series.index(story.n)
                chosen = [m for m in (story.series[k + 1:k + 2] + story.series[max(0, k - 1):k])]
            candidates = [o for o in self.stories if o.site == story.site and o.n != story.n
                          and not o.hidden and o.n not in chosen]
            ranked = sorted(candidates, key=lambda o: -(2 * len(set(o.tags) & set(story.tags))
                                                         + (o.section == story.section) + 1.5 * rng.random()))
            chosen += [o.n for o in ranked[:RELATED_LINKS - len(chosen)]]
            story.related = chosen
            story.short_links = {m for m in chosen if rng.random() < SHORT_TITLE_LINK_SHARE}

    def _pick_seeds(self) -> list[int]:
        """One on-topic start article per sub-topic, with a descriptive headline, on rotating sites
        (a small web may have none such: then the best it has)."""
        seeds = []
        for i, kind in enumerate(ON_TOPIC):
            own = [s for s in self.stories if s.kind == kind.name and not s.hidden]
            seeds.append(min(own, key=lambda s: (bool(s.series), "Lào" not in s.title,
                                                 s.site != SITES[i % len(SITES)], s.n)).n)
        return seeds

    # ------------------------------------------------------------ URLs
    def url(self, n: int) -> str:
        story = self.stories[n]
        slug = slugify(story.title)
        if story.site == "nhandan.vn":
            return f"http://nhandan.vn/{slug}-post{700000 + n}.html"
        if story.site == "thoidai.com.vn":
            return f"http://thoidai.com.vn/{slug}-{180000 + n}.html"
        return f"http://www.vietnamplus.vn/{slug}-post{900000 + n}.vnp"

    @staticmethod
    def section_url(site: str, section: str, page: int = 1) -> str:
        slug = slugify(section).replace("-", "") if site != "thoidai.com.vn" else slugify(section)
        if site == "thoidai.com.vn":
            return f"http://{site}/{slug}" + (f"/p{page}" if page > 1 else "")
        return f"http://{site}/{slug}" + (f"?page={page}" if page > 1 else "")

    @staticmethod
    def tag_url(site: str, tag: str, page: int = 1) -> str:
        slug = slugify(tag)
        base = {"nhandan.vn": f"http://nhandan.vn/tag/{slug}.html",
                "thoidai.com.vn": f"http://thoidai.com.vn/tags/{slug}.html",
                "www.vietnamplus.vn": f"http://www.vietnamplus.vn/tag/{slug}.vnp"}[site]
        return base + (f"?page={page}" if page > 1 else "")

    def start_urls(self) -> list[str]:
        return [self.url(n) for n in self.seeds]

    def labels(self) -> set[str]:
        """URLs of the on-topic articles."""
        return {self.url(s.n) for s in self.stories if s.on_topic}

    def page_count(self) -> int:
        """Articles and every listing page (home, section and tag pages, each page of them)."""
        return len(self.stories) + len(self._listings)

    # ------------------------------------------------------------ listings
    def _make_listings(self) -> dict[str, tuple[str, list[int], str | None]]:
        """URL → (heading, article numbers newest first, next-page URL)."""
        listings: dict[str, tuple[str, list[int], str | None]] = {}

        def paginate(heading, items, url_of, per_page):
            pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
            for p, chunk in enumerate(pages, 1):
                listings[url_of(p)] = (heading, chunk, url_of(p + 1) if p < len(pages) else None)

        for site in SITES:
            own = [s for s in reversed(self.stories) if s.site == site]
            listings[f"http://{site}/"] = ("Trang chủ", [s.n for s in own[:HOME_ITEMS]], None)
            for section in sorted({s.section for s in own}):
                paginate(section, [s.n for s in own if s.section == section],
                         lambda p, site=site, section=section: self.section_url(site, section, p), SECTION_PAGE)
            for tag in sorted({t for s in own for t in s.tags}):
                paginate(tag, [s.n for s in own if tag in s.tags],
                         lambda p, site=site, tag=tag: self.tag_url(site, tag, p), TAG_PAGE)
        return listings

    # ------------------------------------------------------------ serving
    def resolve(self, host: str, path_qs: str) -> Reply:
        parts = urlsplit(path_qs)
        if parts.path == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        if host not in SITES:
            return _not_found()
        page = parse_qs(parts.query).get("page", [""])[0]
        listing = self._listings.get(f"http://{host}{parts.path}" + (f"?page={page}" if page else ""))
        if listing is not None:
            return _html(self._listing(host, *listing))
        story = self._by_path.get(parts.path)
        if story is None or story.site != host:
            return _not_found()
        return _html(self._article(story))

    def _a(self, n: int, cls: str = "", short: bool = False) -> str:
        story = self.stories[n]
        return f'<a {cls}href="{self.url(n)}">{escape(story.short_title if short else story.title)}</a>'

    def _listing(self, site: str, heading: str, items: list[int], next_url: str | None) -> str:
        if site == "thoidai.com.vn":
            body = "".join(f'<div class="article">{self._a(n)}</div>' for n in items)
            body = f'<div class="bx-listing fw lt mb clearfix">{body}</div>'
            if next_url:
                body += (f'<div class="__MB_ARTICLE_PAGING fw lt mb clearfix"><div class="rt">'
                         f'<a href="{next_url}">Trang sau</a></div></div>')
        else:
            body = "".join(f'<article class="story"><h3 class="story__heading">{self._a(n, CMS)}</h3>'
                           f'</article>' for n in items)
            body = f'<div class="box-stream">{body}</div>'
            if next_url:
                body += f'<a class="pagination__next" rel="next" href="{next_url}">Xem thêm</a>'
        return f"<html><head><title>{escape(heading)}</title></head><body><h1>{escape(heading)}</h1>{body}</body></html>"

    def _article(self, story: Story) -> str:
        title, lead = escape(story.title), escape(story.lead)
        body = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
        most_read = "".join(self._a(n % len(self.stories)) for n in story.most_read)
        site = story.site
        tags = "".join(f'<a href="{self.tag_url(site, t)}">{escape(t)}</a>' for t in story.tags)
        section = f'<a {CMS}href="{self.section_url(site, story.section)}">{escape(story.section)}</a>'
        if site == "thoidai.com.vn":
            related = "".join(f'<div class="article">{self._a(n, TITLE, n in story.short_links)}</div>'
                              for n in story.related)
            return f"""<html><head><title>{title}</title><meta property="og:type" content="article"></head><body>
<ul class="main-menu"><li><a href="/">Trang chủ</a></li></ul>
<ul class="breadcrumb"><li class="menu-alias"><a href="{self.section_url(site, story.section)}">{escape(story.section)}</a></li></ul>
<div class="article-detail fw clearfix"><span class="article-detail-date rt">09:00 | 10/01/2025 GMT+7</span>
<h1 class="article-detail-title f0">{title}</h1>
<div class="article-detail-desc fw lt f0 mb clearfix">{lead}</div>
<div class="__MASTERCMS_CONTENT fw f1 mb20 clearfix">{body}</div>
<div class="article-detail-author">PV</div>
<div class="article-detail-tags">{tags}</div>
<div class="article-detail-related"><h3>Tin bài liên quan</h3>{related}</div></div>
<div class="box-most-read"><h3>Đọc nhiều</h3>{most_read}</div></body></html>"""
        related = "".join(f'<article class="story"><h3 class="story__heading">'
                          f'{self._a(n, CMS, n in story.short_links)}</h3></article>' for n in story.related)
        crumbs = "breadcrumbs" if site == "nhandan.vn" else "breadcrumb"
        return f"""<html><head><title>{title}</title><meta property="og:type" content="article"></head><body>
<nav class="menu"><a href="/">Trang chủ</a></nav>
<div class="{crumbs}"><a {CMS}href="http://{site}/">Trang chủ</a>{section}</div>
<article class="article"><h1 class="article__title cms-title">{title}</h1>
<div class="article__meta"><time class="time" datetime="2025-01-10T09:00:00+0700">10/01/2025</time></div>
<div class="article__sapo cms-desc">{lead}</div>
<div class="article__body zce-content-body cms-body">{body}</div>
<div class="article__author">PV</div>
<div class="article__tag">{tags}</div></article>
<div class="box-related"><h3>Tin liên quan</h3>{related}</div>
<aside class="box-most-viewed"><h3>Đọc nhiều</h3>{most_read}</aside></body></html>"""


CMS, TITLE = 'class="cms-link" ', 'class="article-title" '
