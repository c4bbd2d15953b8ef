"""The table `chipwatch sources check` prints: one block per source, its verdict and what to try."""

from __future__ import annotations

from spiders.check import SourceCheck


def format_checks(results: list[SourceCheck]) -> str:
    lines = []
    for r in results:
        status = r.status if r.status is not None else "-"
        robots = {True: "allowed", False: "DISALLOWED", None: "unread"}[r.robots_allowed]
        lines.append(f"{r.name:<28} {r.verdict.upper():<15} HTTP {status}  {r.seconds:.2f}s  robots {robots}")
        if r.redirects:
            lines.append("    redirects: " + " → ".join(f"{code} {where}" for code, where in r.redirects))
        found = f"    {r.kind}: {r.entries} entries"
        if r.next_page:
            found += f", next page {r.next_page}"
        if r.newest_date:
            found += f", newest {r.newest_date}"
        lines.append(found)
        if r.article is not None:
            a = r.article
            detail = a.problem or f"{a.title!r}, {a.published_date or 'no date'}, {a.text_chars} characters"
            lines.append(f"    article {a.url}: {detail}")
        if r.message:
            lines.append(f"    why: {r.message}")
        if r.fix:
            lines.append(f"    fix: {r.fix}")
    ok = sum(1 for r in results if r.verdict == "ok")
    lines.append(f"{ok} of {len(results)} sources ok")
    return "\n".join(lines) + "\n"
