"""Spider arguments: defaults, parsing and the clear errors for bad input."""
from pathlib import Path

import pytest

from crawler.arguments import ArgumentError, parse_crawl_arguments

REPO = Path(__file__).resolve().parent.parent


def test_default_is_the_shipped_seeds_and_reports_seeds_without_url():
    args = parse_crawl_arguments()
    assert args.start_urls == [
        "https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-lien-tuc-phat-trien-post830183.html",
        "https://thoidai.com.vn/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html",
    ]
    assert sorted(Path(p).name[:3] for p in args.seeds_without_url) == ["001", "003", "004"]
    assert args.depth == 2 and args.max_pages is None


def test_urls_list_and_limits():
    args = parse_crawl_arguments(urls="https://nhandan.vn/a-post1.html, https://thoidai.com.vn/b-12345.html",
                                 depth="0", max_pages="5")
    assert args.start_urls == ["https://nhandan.vn/a-post1.html", "https://thoidai.com.vn/b-12345.html"]
    assert (args.depth, args.max_pages) == (0, 5)


def test_url_file(tmp_path):
    f = tmp_path / "urls.txt"
    f.write_text("# comment\n\nhttps://nhandan.vn/a-post1.html\nhttps://nhandan.vn/b-post2.html  \n", "utf-8")
    assert parse_crawl_arguments(seeds=str(f)).start_urls == [
        "https://nhandan.vn/a-post1.html", "https://nhandan.vn/b-post2.html"]


@pytest.mark.parametrize("kwargs,needle", [
    ({"seeds": "/no/such/path"}, "/no/such/path"),
    ({"urls": "nhandan.vn/x"}, "not a valid"),
    ({"urls": "ftp://nhandan.vn/x"}, "not a valid"),
    ({"urls": "https://nhandan.vn/a-post1.html", "depth": "two"}, "depth"),
    ({"urls": "https://nhandan.vn/a-post1.html", "max_pages": "0"}, "max_pages"),
    ({"urls": "https://nhandan.vn/a-post1.html", "topic": "/no/such/topic.txt"}, "topic"),
])
def test_bad_arguments_name_the_problem(kwargs, needle):
    with pytest.raises(ArgumentError, match=needle):
        parse_crawl_arguments(**kwargs)


def test_a_url_file_with_no_url_is_an_error(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("# nothing here\n", "utf-8")
    with pytest.raises(ArgumentError, match="no start URL"):
        parse_crawl_arguments(seeds=str(f))
