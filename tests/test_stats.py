"""crawler/stats.py: the project's stats collector keeps Scrapy's stats, without the shim."""
from scrapy.statscollectors import MemoryStatsCollector
from testbed.crawlers import project_crawler

from crawler.stats import DirectStatsCollector


def test_the_project_crawler_counts_with_the_direct_collector_as_scrapy_does(tmp_path):
    crawler = project_crawler(WARC_DIR=str(tmp_path / "warc"))  # (not the checkout's data/state.sqlite)
    assert type(crawler.stats) is DirectStatsCollector
    direct, stock = DirectStatsCollector(crawler), MemoryStatsCollector(crawler)
    for stats in (direct, stock):
        stats.open_spider()
        stats.inc_value("a")
        stats.inc_value("a", 2)
        stats.inc_value("b", start=5)
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 3)
        stats.min_value("n", 1)
        stats.set_value("s", "x")
    assert direct.get_stats() == stock.get_stats() == {"a": 3, "b": 6, "m": 3, "n": 1, "s": "x"}
    assert direct.get_value("a") == 3 and direct.get_value("missing", 0) == 0
    # The deprecation shim's cached wrappers are not made: attribute access is plain.
    assert not any(name.startswith("_cached_") for name in vars(direct))
