"""One configuration flow: defaults, then one TOML file, then CHIPWATCH_* environment variables.

The TOML sections mirror the commands ([storage], [crawl], [classify], [daemon], [digest], [watches], [serve],
[mirror], [cluster]), and [[watch]] tables define watches; the result is one frozen Options object that the CLI passes
down. Nothing else reads files or the environment for settings.

options.py holds the sections as dataclasses, loading.py the flow from file and environment to Options,
checks.py what each section's values must be.
"""

from chipwatch.config.loading import ENV_ALIASES, ENV_ONLY, SECTIONS, load_options
from chipwatch.config.options import (
    ADDRESS,
    DEFAULT_CONFIG_FILE,
    ClassifyOptions,
    ClusterOptions,
    CrawlOptions,
    DaemonOptions,
    DigestOptions,
    MirrorOptions,
    Options,
    Reader,
    ServeOptions,
    StorageOptions,
    WatchOptions,
)
from pipeline.rules import TOPIC_IDS

__all__ = [
    "ADDRESS",
    "DEFAULT_CONFIG_FILE",
    "ENV_ALIASES",
    "ENV_ONLY",
    "SECTIONS",
    "TOPIC_IDS",
    "ClassifyOptions",
    "ClusterOptions",
    "CrawlOptions",
    "DaemonOptions",
    "DigestOptions",
    "MirrorOptions",
    "Options",
    "Reader",
    "ServeOptions",
    "StorageOptions",
    "WatchOptions",
    "load_options",
]
