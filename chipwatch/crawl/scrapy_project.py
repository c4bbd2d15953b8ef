"""Scrapy's settings module (see scrapy.cfg), so `scrapy list` and `scrapy crawl feed -a source=NAME` work
from the repository root with the same configuration as `chipwatch crawl`."""

from chipwatch.config import load_options
from chipwatch.crawl.settings import scrapy_settings

globals().update(scrapy_settings(load_options(), log_level="INFO"))
