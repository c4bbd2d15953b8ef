"""Scrapy's TLS modules, imported first and without reading source files.

Each of them makes a deprecated class alias (scrapy.utils.deprecate.create_deprecated_class), and making one
calls inspect.stack() only to learn which module the alias is defined in. inspect.stack() also reads the
source lines around every frame of the stack, looking up the file of every loaded module to find them: it
costs more the deeper the stack and the more modules are loaded. Imported where Scrapy loads its HTTP
handler, deep in its engine with a thousand modules loaded, that was 65-120 ms of every crawl's start;
imported first, 25 ms; imported here, with inspect.stack asked for no source lines (context 0), the aliases
are named as before and the import costs about 15 ms less again.
"""

from __future__ import annotations

import inspect
from functools import partial


def _import_tls_modules() -> None:
    stack = inspect.stack
    # No other thread runs yet when a crawl process imports this (it is chipwatch.crawl.in_process's first
    # import); the original is put back whatever happens.
    inspect.stack = partial(stack, 0)
    try:
        import scrapy.core.downloader.contextfactory  # noqa: F401  (and, through it, scrapy.core.downloader.tls)
    finally:
        inspect.stack = stack


_import_tls_modules()
