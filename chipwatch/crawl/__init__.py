"""Running crawls: in this process or a time-limited child, the run recorder, progress, locks, Scrapy settings."""
