"""Federal Register API responses (api/v1/documents.json) to entries.

A page is {"count", "total_pages", "next_page_url", "results": [...]}; each result has title,
document_number, publication_date, html_url, type, abstract and agencies. Errors come back as
{"errors": ...} (or {"status": 4xx, "message": ...}).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from chipwatch.errors import FeedError
from pipeline.encoding import decode_bytes
from spiders.entries import Entry

SHORT_LINK = "https://www.federalregister.gov/d/"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class DocumentsPage:
    entries: list[Entry] = field(default_factory=list)
    next_page_url: str | None = None
    count: int | None = None


def parse_documents(body: bytes, content_type: str | None = None) -> DocumentsPage:
    """One page of the documents API (or a bare results list); FeedError for an error object or non-JSON."""
    text, _ = decode_bytes(body, content_type or "application/json; charset=utf-8")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FeedError(f"not JSON: {error}") from None
    if isinstance(data, list):
        return DocumentsPage(entries=_entries(data))
    if not isinstance(data, dict):
        raise FeedError("not a documents response: expected a JSON object")
    if "errors" in data or ("status" in data and "results" not in data):
        raise FeedError(f"the API returned an error: {_error_text(data)}")
    results = data.get("results", [])
    if not isinstance(results, list):
        raise FeedError("not a documents response: 'results' is not a list")
    next_url = data.get("next_page_url")
    count = data.get("count")
    return DocumentsPage(
        entries=_entries(results),
        next_page_url=next_url if isinstance(next_url, str) and next_url else None,
        count=count if isinstance(count, int) else None,
    )


def parse_document(body: bytes) -> Entry:
    """A single document (api/v1/documents/NUMBER.json)."""
    try:
        data = json.loads(decode_bytes(body, "application/json; charset=utf-8")[0])
    except ValueError as error:
        raise FeedError(f"not JSON: {error}") from None
    entries = _entries([data]) if isinstance(data, dict) else []
    if not entries:
        raise FeedError("not a Federal Register document")
    return entries[0]


def _entries(results: list[Any]) -> list[Entry]:
    entries = []
    for result in results:
        if not isinstance(result, dict):
            continue
        link = result.get("html_url")
        number = _string(result.get("document_number"))
        if (not isinstance(link, str) or not link) and number:
            # Responses asked for a few fields only lack html_url; the site's short link redirects to it.
            link = f"{SHORT_LINK}{number}"
        if not isinstance(link, str) or not link:
            continue
        agencies = [a.get("name") for a in result.get("agencies") or [] if isinstance(a, dict) and a.get("name")]
        doc_type = result.get("type")
        abstract = result.get("abstract")
        entries.append(
            Entry(
                link=link,
                title=_string(result.get("title")),
                published=_string(result.get("publication_date")),
                summary=_string(abstract),
                guid=number,
                publisher="Federal Register",
                keywords=[k for k in [_string(doc_type), *agencies] if k],
                document=document_fields(result, agencies) if number else None,
            )
        )
    return entries


def document_fields(result: dict[str, Any], agencies: list[Any]) -> dict[str, Any]:
    """The structured fields of one document, as the API names them (fields a response was not asked for
    are None: ask for them with fields[]=effective_on, comments_close_on, regulation_id_numbers,
    cfr_references, citation)."""
    rins = result.get("regulation_id_numbers")
    rin = _string(result.get("rin")) or next((_string(r) for r in rins or [] if _string(r)), None)
    parts = []
    for reference in result.get("cfr_references") or []:
        if isinstance(reference, dict) and reference.get("title") and reference.get("part"):
            parts.append(f"{reference['title']} CFR {reference['part']}")
    return {
        "document_number": _string(result.get("document_number")),
        "doc_type": _string(result.get("type")),
        "rin": rin,
        "cfr_parts": parts,
        "citation": _string(result.get("citation")),
        "publication_date": _date(result.get("publication_date")),
        "effective_on": _date(result.get("effective_on")),
        "comments_close_on": _date(result.get("comments_close_on")),
        "agencies": agencies,
    }


def _date(value: Any) -> str | None:
    text = _string(value)
    return text if text and DATE.match(text) else None


def _string(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _error_text(data: dict[str, Any]) -> str:
    errors = data.get("errors") or data.get("message") or data.get("status")
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {value}" for key, value in errors.items())[:300]
    if isinstance(errors, list):
        return "; ".join(str(error) for error in errors)[:300]
    return str(errors)[:300]
