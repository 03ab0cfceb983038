"""Distributed mode through scrapy-redis."""
