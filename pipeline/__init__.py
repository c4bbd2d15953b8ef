"""Turning fetched pages into tagged articles: one Scrapy item-pipeline class per stage (stages.py), with
pure functions underneath (encoding, metadata, extract, dates, language, urls, classify) that the CLI's
`extract` and `classify` commands call too."""
