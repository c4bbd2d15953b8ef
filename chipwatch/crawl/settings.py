"""Scrapy settings built from chipwatch's Options: politeness, limits, the pipeline stages, the run recorder."""

from __future__ import annotations

from typing import Any

from scrapy.settings import default_settings

from chipwatch.config import Options

# The page half (what a page says: any machine can do it) ...
PAGE_STAGES = {
    "pipeline.stages.ExtractStage": 100,
    "pipeline.stages.NormaliseStage": 200,
    "pipeline.stages.SiteNameStage": 250,
    "pipeline.stages.ClassifyStage": 300,
    "pipeline.stages.EntitiesStage": 350,
}
# ... and the storage half (what it is beside what is stored: only the database's one writer can do it).
STORAGE_STAGES = {
    "pipeline.stages.DedupeStage": 450,
    "pipeline.stages.StoreStage": 500,
    "pipeline.stages.LearnSiteNameStage": 550,
    "pipeline.stages.TitleOnlyStage": 560,
    "pipeline.stages.StoryStage": 600,
}
ITEM_PIPELINES = {**PAGE_STAGES, **STORAGE_STAGES}
# Scrapy parts a chipwatch crawl never uses, left out so that their modules are not imported at start-up
# (aiohttp for remote control, tldextract for cookies, Twisted's conch for telnet: about 0.4 s a crawl).
# Sources are http(s) only (spiders/sources.py), so neither are the S3 and FTP handlers needed.
UNUSED_EXTENSIONS = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.spiderstate.SpiderState",
)
UNUSED_DOWNLOADER_MIDDLEWARES = (
    "scrapy.downloadermiddlewares.retry.RetryMiddleware",  # replaced by PoliteRetryMiddleware
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",  # cookies are off
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
)


# Scrapy parts chipwatch replaces with its own, in the same place of the chain.
REPLACED_DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": "spiders.middlewares.HeadMetaRefreshMiddleware",
}


def _without(base: dict[str, int], unused: tuple[str, ...]) -> dict[str, int]:
    return {name: order for name, order in base.items() if name not in unused}


def _replaced(base: dict[str, int], replacements: dict[str, str]) -> dict[str, int]:
    return {replacements.get(name, name): order for name, order in base.items()}


def scrapy_settings(options: Options, *, log_level: str = "WARNING") -> dict[str, Any]:
    crawl = options.crawl
    user_agent = crawl.user_agent + (f" contact: {crawl.contact}" if crawl.contact else "")
    return {
        "BOT_NAME": "chipwatch",
        "SPIDER_MODULES": ["spiders"],
        "NEWSPIDER_MODULE": "spiders",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        # Left out of the base lists, not set to None: Scrapy imports every class a setting names, even one
        # that is switched off.
        "DOWNLOADER_MIDDLEWARES_BASE": _replaced(
            _without(default_settings.DOWNLOADER_MIDDLEWARES_BASE, UNUSED_DOWNLOADER_MIDDLEWARES),
            REPLACED_DOWNLOADER_MIDDLEWARES,
        ),
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, UNUSED_EXTENSIONS),
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.middlewares.PoliteRetryMiddleware": 550,
            "spiders.middlewares.OffsiteRedirectMiddleware": 560,
            "spiders.middlewares.SiteConcurrencyMiddleware": 990,
        },
        "CHIPWATCH_RETRY_BACKOFF": crawl.retry_backoff,
        "CHIPWATCH_MAX_RETRY_AFTER": crawl.max_retry_after,
        "REDIRECT_MAX_TIMES": 5,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrent_per_domain),
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "EXTENSIONS": {"chipwatch.crawl.recorder.CrawlRunRecorder": 500},
        "DOWNLOAD_HANDLERS": {
            "s3": None,
            "ftp": None,
            "http": "spiders.handlers.ChipwatchHTTPDownloadHandler",
            "https": "spiders.handlers.ChipwatchHTTPDownloadHandler",
        },
        "CHIPWATCH_DB": str(options.storage.db),
        "CHIPWATCH_EXTRACT_WORKERS": crawl.extract_workers,
        "CHIPWATCH_ENTRY_RETRY_AFTER": crawl.entry_retry_after,
        "CHIPWATCH_ENTRY_ATTEMPTS": crawl.entry_attempts,
        "CHIPWATCH_TOPICS": str(options.classify.topics),
        "CHIPWATCH_MODEL": str(options.classify.model),
        "CHIPWATCH_SOURCES_FILE": str(options.crawl.sources),
    }
