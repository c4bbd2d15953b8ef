"""Crawling on several machines: workers anywhere fetch, extract and classify; one writer stores.

    writer: queue each source's crawl (jobs.py) ──► Redis ◄── workers (worker.py): take a crawl, fetch its
            pages through scrapy-redis's scheduler (queue.py), run the page half of the pipeline, add each
            result to the stream (stream.py)
    writer: read the stream, run the storage half, commit, then acknowledge (writer.py)

Everything a crawl needs from the database travels with it as a snapshot (spiders/view.py); "is this page
stored?" is asked of an index of stored pages that the writer keeps in Redis (stored.py). Politeness —
the per-site limit, Retry-After pauses, robots.txt — is shared through Redis too (politeness.py).
"""
