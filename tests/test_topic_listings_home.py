"""Finding the whole topic, seventh pass (issue #19): a site's home page is a listing of every article
judged on it, whether or not the article's page links to it (crawler/topic_listings.py)."""
from crawler.topic_listings import MIN_EXPECTED_YIELD, HeldListings, site_home

TD = "http://thoidai.com.vn"


def test_site_home_is_the_root_of_the_articles_site():
    assert site_home(f"{TD}/luu-hoc-sinh-lao-tai-dien-bien-180052.html") == f"{TD}/"
    assert site_home("https://www.vietnamplus.vn/tag/viet-nam-lao.vnp?page=2") == "https://www.vietnamplus.vn/"


def test_a_kept_article_holds_its_sites_home_page_even_when_it_shows_no_link_to_it():
    listings = HeldListings()
    kept = f"{TD}/luu-hoc-sinh-lao-tai-dien-bien-180052.html"  # thoidai's articles link no home page
    listings.judged_article(kept, [f"{TD}/giao-duc", f"{TD}/tags/luu-hoc-sinh-lao.html"], on_topic=True)
    assert len(listings) == 1  # only the home page is held here; the section and tag are held by their link rule
    assert listings.expected_yield(f"{TD}/") == MIN_EXPECTED_YIELD  # all members on topic, an untried kind
    assert listings.expected_yield(f"{TD}/giao-duc") == MIN_EXPECTED_YIELD  # a member of the listings it names
    assert listings.pop() == (f"{TD}/", kept, 0)


def test_an_off_topic_article_counts_against_its_home_page_and_holds_nothing():
    listings = HeldListings()
    listings.judged_article(f"{TD}/gia-vang-hom-nay-180001.html", [], on_topic=False)
    assert len(listings) == 0
    listings.judged_article(f"{TD}/hop-tac-viet-lao-180002.html", [f"{TD}/"], on_topic=True)  # its link and
    assert listings.expected_yield(f"{TD}/") == MIN_EXPECTED_YIELD / 2  # the root count once: 1 on, 1 off
    assert listings.pop() is None


def test_a_listing_popped_is_not_held_again_when_more_kept_articles_name_it():
    listings = HeldListings()
    listings.judged_article(f"{TD}/hop-tac-viet-lao-180002.html", [], on_topic=True)
    assert listings.pop()[0] == f"{TD}/"
    listings.judged_article(f"{TD}/hop-tac-viet-lao-180003.html", [f"{TD}/"], on_topic=True)
    assert len(listings) == 0 and listings.pop(0.0) is None


def test_an_article_whose_links_the_crawl_does_not_follow_holds_no_home_page():
    listings = HeldListings()  # `-a depth=0`: the start pages only
    listings.judged_article(f"{TD}/hop-tac-viet-lao-180002.html", [], on_topic=True, follows_links=False)
    assert len(listings) == 0 and listings.expected_yield(f"{TD}/") == MIN_EXPECTED_YIELD  # a member all the same
