"""Crawl state for incremental crawls: the SQLite store and the merge of several."""
