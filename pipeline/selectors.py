"""trafilatura's selectors, evaluated by Python functions instead of libxml2's XPath engine.

trafilatura finds what it prunes (comment threads, share bars, cookie notices, teasers, hidden blocks)
and the article's container with about twenty XPath expressions, most of them EXSLT regular expressions
over @id and @class (`re:test`). libxml2 evaluates every re:test by calling back into Python, once per
element it visits: on the 181 real benchmark pages those expressions took 4.9 ms of extraction's 14 ms a
page. This module reads each expression once, writes it as one Python function over lxml's element
iterator (tag filters in C, one regular expression search per attribute), and puts it in place of
trafilatura's (`speed_up_trafilatura`): the same elements come back in the same order, several times
faster.

Only the subset of XPath 1.0 those expressions use is understood (its grammar: pipeline/xpath_source.py); any other
expression keeps libxml2 (`compile_selector` returns None). What the compiled functions keep of XPath:
- a node-set read as a string is its first node in document order: for `@id|@class`, whichever of the
  two the tag writes first (re:test and starts-with see only that one);
- a missing attribute reads as the empty string (so `re:test(@x, '^$')` holds where there is no @x);
- `.//*[p][1]` is, under every element, its first child matching p; `(.//*[p])[1]` the first in the page.
tests/test_selectors.py compares every compiled expression with libxml2 on real pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from pipeline.xpath_source import First, Parser, Path, Unsupported, first_written

# An element's descendants matching a node test, in document order.
Select = Callable[[Any], list[Any]]
# The trafilatura releases whose selectors tests/test_selectors.py checked, call by call on real pages.
VERIFIED = ("2.3.",)


def _path_function(path: Path) -> Callable[[Any], Iterator[Any]]:
    """A generator of the path's elements in document order, written as Python source and compiled."""
    lines = [f"def select(context, {', '.join(f'{name}={name}' for name in path.constants)}):"]
    if path.first_child:
        lines.append("    parents = set()")
    lines.append(f"    for el in context.iterdescendants({', '.join(map(repr, path.tags)) or '_ELEMENT'}):")
    if any("tag ==" in predicate for predicate in path.predicates):  # a tag test the tag filter did not take
        lines.append("        tag = el.tag")
    if path.attributes:
        lines.append("        get = el.get")
        lines.extend(f"        {variable} = get({name!r})" for name, variable in path.attributes.items())
    lines.extend(f"        if not {predicate}:\n            continue" for predicate in path.predicates)
    if path.first_child:
        lines.append("        parent = el.getparent()")
        lines.append("        if parent in parents:\n            continue")
        lines.append("        parents.add(parent)")
    lines.append("        yield el")
    namespace: dict[str, Any] = {"first_written": first_written, "_ELEMENT": etree.Element, **path.constants}
    exec("\n".join(lines), namespace)  # the source written above from the parsed expression
    return namespace["select"]


def _part_function(part: Path | First) -> Callable[[Any], Iterator[Any]]:
    if isinstance(part, Path):
        return _path_function(part)
    if len(part.inner) == 1:
        elements = _part_function(part.inner[0])

        def first(context: Any) -> Iterator[Any]:
            for element in elements(context):  # the paths run in document order: stop at the first
                yield element
                return

        return first
    union = _union_function(part.inner)
    return lambda context: iter(union(context)[:1])


def _union_function(parts: tuple[Path | First, ...]) -> Select:
    functions = [_part_function(part) for part in parts]
    if len(functions) == 1:
        only = functions[0]
        return lambda context: list(only(context))

    def union(context: Any) -> list[Any]:
        found = [result for result in (list(function(context)) for function in functions) if result]
        if len(found) <= 1:
            return found[0] if found else []
        # Several parts matched: their elements, once each, in document order.
        chosen = {element for result in found for element in result}
        return [element for element in context.iterdescendants(etree.Element) if element in chosen]

    return union


def compile_selector(path: str) -> Select | None:
    """The expression as a Python function of a context element returning the elements libxml2 would, in
    the same order; None when it uses XPath outside the subset (see the module's docstring)."""
    try:
        parser = Parser(path)
        parts = parser.union()
        if parser.peek() is not None:
            raise Unsupported(f"unexpected {parser.peek()}")
        return _union_function(parts)
    except (Unsupported, re.error):
        return None


class CompiledSelector:
    """Stands in for an lxml XPath object: called with an element, returns the same list, compiled."""

    def __init__(self, original: etree.XPath, select: Select) -> None:
        self.original = original
        self.path = original.path
        self.select = select

    def __call__(self, context: Any, **variables: Any) -> Any:
        if variables or not isinstance(context, etree._Element):
            return self.original(context, **variables)
        return self.select(context)

    def __repr__(self) -> str:
        return f"CompiledSelector({self.path!r})"


def speed_up_trafilatura() -> int:
    """Put a compiled function in place of each of trafilatura's selectors that can have one, in its
    selector lists (changed in place: trafilatura's modules share those list objects). Returns how many
    are compiled now; calling it again changes nothing.

    Only for the trafilatura releases the tests compared the compiled selectors with libxml2 on (VERIFIED):
    another release keeps its own, which is slower and certainly right, until they are compared on it too.
    """
    import trafilatura
    from trafilatura import xpaths

    if not str(getattr(trafilatura, "__version__", "")).startswith(VERIFIED):
        return 0
    compiled = 0
    for value in vars(xpaths).values():
        if not isinstance(value, list):
            continue
        for index, expression in enumerate(value):
            if isinstance(expression, CompiledSelector):
                compiled += 1
            elif isinstance(expression, etree.XPath):
                select = compile_selector(expression.path)
                if select is not None:
                    value[index] = CompiledSelector(expression, select)
                    compiled += 1
    return compiled
