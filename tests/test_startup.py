"""A crawl's start-up and its workers' memory. What a crawl imports before its first request: each module kept
off that path is time every crawl (and every scheduled run of the daemon) no longer spends before it starts
fetching. What its extraction workers hold: shared with the crawl where they can, given back when a page is done."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO, clean_env

# Everything a crawl loads before its first request: the command, the spiders, and each component Scrapy
# builds from the settings (extensions, middlewares, the item pipeline's stages, download handlers).
PROBE = """
import json, sys
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
import chipwatch.cli, chipwatch.crawl.in_process
from chipwatch.config import load_options
from chipwatch.crawl.settings import scrapy_settings
settings = Settings(scrapy_settings(load_options(None)))
for name in ("EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "ITEM_PIPELINES"):
    for path in build_component_list(settings.getwithbase(name)):
        load_object(path)
for scheme, path in settings.getwithbase("DOWNLOAD_HANDLERS").items():
    if path:
        load_object(path)
print(json.dumps(sorted(sys.modules)))
"""
LATER = ("trafilatura", "bs4", "pipeline.process", "pipeline.extract", "htmldate", "justext")
NEVER = ("aiohttp", "tldextract", "twisted.conch", "botocore", "twisted.protocols.ftp")


def test_a_crawl_starts_fetching_before_loading_extraction_and_never_loads_what_it_does_not_use():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    loaded = set(json.loads(result.stdout))
    assert "spiders.handlers" in loaded and "pipeline.stages" in loaded  # the probe works
    early = [name for name in LATER if name in loaded]
    assert not early, f"imported before the first request (the warm-up thread's job): {early}"
    unused = [name for name in NEVER if any(m == name or m.startswith(name + ".") for m in loaded)]
    assert not unused, f"imported though a crawl never uses them: {unused}"


# What the probes below measure a forked child by: the memory it holds of its own (not shared with its parent)
# after a job, in kB.
FORKED_GROWTH = """
import os
def private_kb():
    with open("/proc/self/smaps_rollup") as rollup:
        return sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Dirty", "Private_Clean")))
def grown(job):
    reader, writer = os.pipe()
    if os.fork() == 0:
        before = private_kb()
        job()
        os.write(writer, str(private_kb() - before).encode())
        os._exit(0)
    os.wait()
    return int(os.read(reader, 64))
"""

WARMED = (
    """
import json
from pipeline.stages import Warmup
Warmup.start()
Warmup.process()
import trafilatura.external as external
from pipeline.extract import extract_page
"""
    + FORKED_GROWTH
    + """
# What a forked extraction worker adds of its own on its first page that needs the fallback extractors.
page = b"<html><body><div><p>Too short for the precise pass.</p></div></body></html>"
child_kb = grown(lambda: extract_page(page, "https://a.test/"))
print(json.dumps({"stoplists": external.JT_STOPLIST is not None, "child_kb": child_kb}))
"""
)


def test_extraction_workers_share_what_extraction_loads_on_first_use():
    """The warm-up thread extracts a built-in page, so jusText's stoplists (~30 MB) are loaded before the
    extraction workers are forked: a worker's first fallback page then loads nothing of its own."""
    result = subprocess.run(
        [sys.executable, "-c", WARMED], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    found = json.loads(result.stdout)
    assert found["stoplists"]
    assert found["child_kb"] < 15_000, found  # loading the stoplists itself costs a child ~30,000 kB


MONTH_NAMES = (
    """
import json, sys
import htmldate.extractors
from pipeline.extract import warm_up
if sys.argv[1] == "warmed":
    warm_up()
"""
    + FORKED_GROWTH
    + """
# What a forked extraction worker adds of its own when its extensive date search first needs the month names.
print(json.dumps({"child_kb": grown(htmldate.extractors.month_words)}))
"""
)


def test_extraction_workers_share_htmldates_month_names():
    """htmldate's extensive search reads month names from every language dateparser knows, the first time a
    page needs them (9 MB): the warm-up loads them before the workers are forked, so none loads its own."""
    grown = {}
    for state in ("cold", "warmed"):
        result = subprocess.run(
            [sys.executable, "-c", MONTH_NAMES, state],
            capture_output=True,
            cwd=REPO,
            env=clean_env(),
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        grown[state] = json.loads(result.stdout)["child_kb"]
    assert grown["cold"] > 4_000, grown  # the probe works: loading them costs a child memory of its own
    assert grown["warmed"] < 1_000, grown


TRIMMED = (
    """
import json
from pipeline.extract import extract_page, warm_up
from pipeline.stages import _extract_in_worker
warm_up()
paragraphs = "".join(
    f"<div class='c{n}'><p>Paragraph {n} of a long fictional report on chip export licences, with enough words "
    f"to count as text.</p><span>{n}</span></div>" for n in range(20000)
)
page = f"<html><head><title>Long page</title></head><body><article>{paragraphs}</article></body></html>".encode()
"""
    + FORKED_GROWTH
    + """
plain = grown(lambda: extract_page(page, "https://a.test/"))
worker = grown(lambda: _extract_in_worker(page, "https://a.test/", None, None))
print(json.dumps({"plain": plain, "worker": worker}))
"""
)


def test_an_extraction_worker_gives_back_what_a_large_page_took():
    """A worker's memory after a 3 MB page: what the page's trees took is returned to the system, not kept
    for the rest of the crawl (about 26 MB kept without, 2 MB with)."""
    result = subprocess.run(
        [sys.executable, "-c", TRIMMED], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    grown = json.loads(result.stdout)
    assert grown["plain"] > 10_000, grown  # the probe works: a plain extraction keeps what the page took
    assert grown["worker"] < grown["plain"] / 4, grown


PRELOADED = """
import json, sys
from chipwatch.crawl.launcher import preload
from chipwatch.config import load_options
from pipeline.entities import _patterns
from pipeline.stages import preload_classifier
preload(None)
options = load_options(None)
rules = preload_classifier(options.classify.topics, options.classify.model).rules
phrases = [phrase for placed in rules.placements.values() for _, phrase in placed]
print(json.dumps({
    "phrases": len(phrases),
    "compiled": sum("pattern" in vars(phrase) for phrase in phrases),
    "entities": _patterns.cache_info().currsize,
    "imported": [name for name in ("pipeline.process", "spiders.handlers", "trafilatura") if name in sys.modules],
}))
"""


def test_the_launcher_imports_and_compiles_what_a_crawl_needs_before_it_forks_one():
    """What the launcher imports and compiles, no crawl it forks does again: the pipeline's heavy half, the
    rules' phrases (compiled as they first occur in a crawl of its own) and the entities' gazetteer."""
    result = subprocess.run(
        [sys.executable, "-c", PRELOADED], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    found = json.loads(result.stdout)
    assert found["phrases"] > 100 and found["compiled"] == found["phrases"], found
    assert found["entities"] == 1, found
    assert found["imported"] == ["pipeline.process", "spiders.handlers", "trafilatura"], found


FROZEN = """
import gc, json
from pipeline.stages import ExtractStage, Warmup
Warmup.start()
Warmup.process()
warmed = gc.get_freeze_count()
stage = ExtractStage(workers=2)
stage._start_pool().shutdown()
first = gc.get_freeze_count()
junk = [[] for _ in range(50_000)]
for item in junk:
    item.append(item)  # garbage the collector has not reached yet when the next pool starts
del junk
stage._start_pool().shutdown()
print(json.dumps({"warmed": warmed, "first": first, "second": gc.get_freeze_count()}))
"""


def test_a_crawl_freezes_what_its_loaded_pipeline_holds_once():
    """Once the warm-up has loaded the pipeline, its objects are frozen: the crawl's collections skip them,
    and the workers forked later keep sharing their pages. Freezing again at each pool (a cluster worker
    starts one per crawl) would keep for good the garbage of that moment."""
    result = subprocess.run(
        [sys.executable, "-c", FROZEN], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    counts = json.loads(result.stdout)
    assert counts["warmed"] > 50_000, counts  # the modules and what they loaded: trafilatura, Scrapy, lxml
    assert counts["second"] == counts["first"] == counts["warmed"], counts


TLS_ALIASES = """
import inspect, json, linecache
stack = inspect.stack
import chipwatch.crawl.in_process
import scrapy.core.downloader.contextfactory as factory, scrapy.core.downloader.tls as tls
print(json.dumps({
    "restored": inspect.stack is stack,
    "read": sorted(name for name in linecache.cache if not name.startswith("<")),
    "modules": [factory.ScrapyClientContextFactory.__module__, factory.AcceptableProtocolsContextFactory.__module__,
                tls.ScrapyClientTLSOptions.__module__],
}))
"""


def test_a_crawl_imports_scrapys_tls_aliases_without_reading_source_files():
    """Scrapy's deprecated TLS aliases call inspect.stack() to name their module: a crawl imports them first,
    with the stack's source lines left unread (chipwatch/crawl/scrapy_tls.py). They are named as Scrapy names
    them, no source file was read to do it, and inspect.stack is Python's own again afterwards."""
    result = subprocess.run(
        [sys.executable, "-c", TLS_ALIASES], capture_output=True, cwd=REPO, env=clean_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    found = json.loads(result.stdout)
    assert found["restored"]
    assert found["read"] == [], found["read"]  # inspect.stack() with source lines reads Scrapy's modules
    assert found["modules"] == ["scrapy.core.downloader.contextfactory"] * 2 + ["scrapy.core.downloader.tls"]
