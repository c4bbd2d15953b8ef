"""Timing the digest for a busy day: 500 relevant items in 60 stories, composed and rendered as the daemon
does it (HTML and text, the MIME message), without sending."""

from __future__ import annotations

import random
import time

from chipwatch.config import Options, Reader
from chipwatch.digest.compose import Context, compose
from chipwatch.digest.render import message, render
from pipeline.classify import TOPIC_IDS

DAY = "2025-12-09"


def synthetic_day(count: int, seed: int = 3) -> tuple[list[dict], dict[int, dict]]:
    rng = random.Random(seed)
    rows: list[dict] = []
    firsts: dict[int, dict] = {}
    for number in range(1, count + 1):
        story = rng.randint(1, 60)
        chinese = rng.random() < 0.4
        title = (
            f"英伟达H200芯片出口许可最新进展之{number}：海关加强查验"
            if chinese
            else f"Item {number}: Commerce weighs more H200 export licences as lawmakers object"
        )
        text = (title + "。" if chinese else title + ". ") * 12
        rows.append(
            {
                "id": number,
                "title": title,
                "url": f"https://news.example/{number}",
                "source": f"outlet-{number % 25}",
                "lang": "zh-Hans" if chinese else "en",
                "published_at": f"{DAY}T{number % 24:02d}:{number % 60:02d}:00Z",
                "first_seen_at": f"{DAY}T{number % 24:02d}:{number % 60:02d}:30Z",
                "summary": None,
                "text": text,
                "relevance": 0.6 + rng.random() * 0.4,
                "story_id": story,
                "is_follow_up": int(rng.random() < 0.5),
                "story_title": f"Story {story}",
                "story_size": rng.randint(2, 20),
                "copies": rng.randint(0, 5),
                "topics": rng.sample(TOPIC_IDS, k=rng.choice((1, 2))),
            }
        )
        firsts.setdefault(story, {"id": number, "title": title, "source": rows[-1]["source"], "moment": "2025-12-01"})
    return rows, firsts


def time_render(options: Options, count: int = 500, repeats: int = 5) -> tuple[float, int]:
    """(median seconds to compose and render the day's digest, size of the message in bytes)."""
    rows, firsts = synthetic_day(count)
    reader = Reader("analyst@example.org", "Analyst")
    covers = (f"{DAY}T00:00:00Z", f"{DAY}T23:59:59Z")
    times, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        titles = {story: first["title"] for story, first in firsts.items()}
        context = Context(firsts, titles, "UTC", options.digest.max_items_per_topic, covers)
        digest = compose(reader, DAY, rows, context)
        html, text = render(digest, options.digest)
        mail = message(digest, html, text, options.digest)
        times.append(time.perf_counter() - started)
        size = len(mail.as_bytes())
    times.sort()
    return times[len(times) // 2], size
