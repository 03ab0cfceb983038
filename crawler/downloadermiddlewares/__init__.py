"""Downloader middlewares: WARC capture, incremental fetching."""
