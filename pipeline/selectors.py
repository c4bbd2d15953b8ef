"""trafilatura's selectors, evaluated by Python functions instead of libxml2's XPath engine.

trafilatura finds what it prunes (comment threads, share bars, cookie notices, teasers, hidden blocks)
and the article's container with about twenty XPath expressions, most of them EXSLT regular expressions
over @id and @class (`re:test`). libxml2 evaluates every re:test by calling back into Python, once per
element it visits: on the 181 real benchmark pages those expressions took 4.9 ms of extraction's 14 ms a
page. This module reads each expression once, writes it as one Python function over lxml's element
iterator (tag filters in C, one regular expression search per attribute), and puts it in place of
trafilatura's (`speed_up_trafilatura`): the same elements come back in the same order, several times
faster.

Only the subset of XPath 1.0 those expressions use is understood (the grammar is in `_Parser`); any other
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
from dataclasses import dataclass
from typing import Any

from lxml import etree

# An element's descendants matching a node test, in document order.
Select = Callable[[Any], list[Any]]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'[^']*'|"[^"]*")
    | (?P<number>\d+)
    | (?P<op>\.//|::|[()\[\]|,=@*])
    | (?P<name>[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)
    )""",
    re.X,
)
_FUNCTIONS = {"contains", "starts-with", "re:test"}


# The trafilatura releases whose selectors tests/test_selectors.py checked, call by call on real pages.
VERIFIED = ("2.3.",)


class Unsupported(ValueError):
    """The expression uses XPath this module does not compile; libxml2 keeps it."""


@dataclass(eq=False)
class _Path:
    """`.//TEST[predicate]...[1]`: descendants passing every predicate (the first matching child of each
    element when `first_child`), with what its predicates' Python source refers to."""

    tags: tuple[str, ...]  # lxml's tag filter: the node test's name, or the names a first [self::a or
    # self::b] predicate allows; empty for every element
    predicates: tuple[str, ...]  # Python boolean expressions over the element (see _Parser)
    first_child: bool
    constants: dict[str, object]  # regular expressions, translation tables, attribute unions
    attributes: dict[str, str]  # attribute name -> the variable its value is read into


@dataclass(frozen=True)
class _First:
    """`(EXPR)[1]`: the first of EXPR's elements in document order."""

    inner: tuple[_Path | _First, ...]  # a union


@dataclass(frozen=True)
class _Test:
    """A predicate as Python source; `tags` when all it tests is the element's name (self::a or self::b)."""

    source: str
    tags: frozenset[str] | None = None


def _tokens(path: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(path):
        if not path[position:].strip():
            break
        match = _TOKEN.match(path, position)
        if match is None or match.end() == position:
            raise Unsupported(f"cannot read {path[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """A recursive-descent reader for the subset, writing each predicate as a Python expression.

        union      := part ('|' part)*
        part       := '(' union ')' '[' '1' ']'  |  './/' (NAME | '*') ('[' (predicate | '1') ']')*
        predicate  := and ('or' and)*
        and        := unary ('and' unary)*
        unary      := 'not' '(' predicate ')'  |  '(' predicate ')'  |  primary
        primary    := 'self' '::' NAME  |  './/' NAME  |  attributes ['=' STRING]
                    | ('contains' | 'starts-with') '(' value ',' STRING ')'
                    | 're:test' '(' value ',' STRING [',' STRING] ')'
        value      := attributes  |  'translate' '(' attributes ',' STRING ',' STRING ')'
        attributes := '@' NAME ('|' '@' NAME)*

    The Python it writes reads the element as `el`, its tag as `tag`, and each attribute named on its own
    from a variable set once per element; the constants it needs are kept with each path.
    """

    def __init__(self, path: str) -> None:
        self.tokens = _tokens(path)
        self.index = 0
        self.constants: dict[str, object] = {}
        self.attributes: dict[str, str] = {}

    # -- tokens --
    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None or (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise Unsupported(f"expected {value or kind}, found {token}")
        self.index += 1
        return token[1]

    def at(self, value: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token[1] == value and token[0] != "string"

    def literal(self) -> str:
        return self.take(kind="string")[1:-1]

    def constant(self, value: object) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def attribute(self, name: str) -> str:
        return self.attributes.setdefault(name, f"a{len(self.attributes)}")

    # -- location paths --
    def union(self) -> tuple[_Path | _First, ...]:
        parts = [self.part()]
        while self.at("|"):
            self.take("|")
            parts.append(self.part())
        return tuple(parts)

    def part(self) -> _Path | _First:
        if self.at("("):
            self.take("(")
            inner = self.union()
            self.take(")")
            self.position()
            return _First(inner)
        self.take(".//")
        test = self.take("*") if self.at("*") else self.take(kind="name")
        self.constants, self.attributes = {}, {}
        tests: list[_Test] = []
        first_child = False
        while self.at("["):
            if first_child:
                raise Unsupported("a predicate after a position")
            if self.peek(1) is not None and self.peek(1)[0] == "number":  # type: ignore[index]
                self.position()
                first_child = True
            else:
                self.take("[")
                tests.append(self.predicate())
                self.take("]")
        tags: tuple[str, ...] = () if test == "*" else (test,)
        if not tags and tests and tests[0].tags is not None:
            # [self::div or self::p] first: lxml's tag filter does it, in C.
            tags, tests = tuple(sorted(tests[0].tags)), tests[1:]
        predicates = tuple(each.source for each in tests)
        return _Path(tags, predicates, first_child, self.constants, self.attributes)

    def position(self) -> None:
        self.take("[")
        if self.take(kind="number") != "1":
            raise Unsupported("only the position [1] is compiled")
        self.take("]")

    # -- predicates --
    def predicate(self) -> _Test:
        terms = [self.conjunction()]
        while self.at("or"):
            self.take("or")
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        names = [term.tags for term in terms]
        tags = frozenset().union(*names) if all(each is not None for each in names) else None  # type: ignore[arg-type]
        return _Test("(" + " or ".join(term.source for term in terms) + ")", tags)

    def conjunction(self) -> _Test:
        terms = [self.unary()]
        while self.at("and"):
            self.take("and")
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else _Test("(" + " and ".join(term.source for term in terms) + ")")

    def unary(self) -> _Test:
        if self.at("not") and self.at("(", 1):
            self.take("not")
            self.take("(")
            inner = self.predicate()
            self.take(")")
            return _Test(f"(not {inner.source})")
        if self.at("("):
            self.take("(")
            inner = self.predicate()
            self.take(")")
            return inner
        return self.primary()

    def primary(self) -> _Test:
        if self.at("self") and self.at("::", 1):
            self.take("self")
            self.take("::")
            name = self.take(kind="name")
            return _Test(f"(tag == {name!r})", frozenset([name]))
        if self.at(".//"):
            self.take(".//")
            return _Test(f"(next(el.iterdescendants({self.take(kind='name')!r}), None) is not None)")
        if self.at("@"):
            variables = [self.attribute(name) for name in self.attribute_names()]
            if self.at("="):
                self.take("=")
                value = self.literal()
                return _Test("(" + " or ".join(f"{variable} == {value!r}" for variable in variables) + ")")
            return _Test("(" + " or ".join(f"{variable} is not None" for variable in variables) + ")")
        token = self.peek()
        if token is None or token[0] != "name" or token[1] not in _FUNCTIONS:
            raise Unsupported(f"unexpected {token}")
        function = self.take(kind="name")
        self.take("(")
        value = self.value()
        self.take(",")
        argument = self.literal()
        flags = ""
        if function == "re:test" and self.at(","):
            self.take(",")
            flags = self.literal()
        self.take(")")
        if function == "contains":
            return _Test(f"({argument!r} in {value})")
        if function == "starts-with":
            return _Test(f"{value}.startswith({argument!r})")
        # As lxml's EXSLT re:test compiles it: Python's re, case-insensitive with the "i" flag.
        pattern = re.compile(argument, re.IGNORECASE if "i" in flags else 0)
        return _Test(f"{self.constant(_Searched(pattern))}[{value}]")

    def attribute_names(self) -> list[str]:
        names = []
        while True:
            self.take("@")
            names.append(self.take(kind="name"))
            if not (self.at("|") and self.at("@", 1)):
                return names
            self.take("|")

    def value(self) -> str:
        """A string expression: an attribute's value, or the first written of several; '' when absent."""
        if self.at("translate"):
            self.take("translate")
            self.take("(")
            inner = self.value()
            self.take(",")
            source = self.literal()
            self.take(",")
            target = self.literal()
            self.take(")")
            return f"{inner}.translate({self.constant(_translation(source, target))})"
        names = self.attribute_names()
        variables = [self.attribute(name) for name in names]
        if len(names) == 1:
            return f"({variables[0]} or '')"
        if len(names) == 2:
            first, second = variables
            # Which is written first matters only when both are there.
            return (
                f"(_first_written(el, {self.constant(tuple(names))}) if {first} is not None and {second} is not None"
                f" else {first} if {first} is not None else ({second} or ''))"
            )
        return f"_first_written(el, {self.constant(tuple(names))})"


def _translation(source: str, target: str) -> dict[int, int | None]:
    """XPath's translate(): each character of source becomes the one at its place in target, or goes
    when target is shorter; a character repeated in source keeps its first place."""
    table: dict[int, int | None] = {}
    for index, character in enumerate(source):
        table.setdefault(ord(character), ord(target[index]) if index < len(target) else None)
    return table


class _Searched(dict[str, bool]):
    """Whether the pattern occurs in a value, remembered: a page repeats its class names (a hundred
    <div class="item">) and a site its templates, so most values were searched before."""

    LIMIT = 20_000  # values remembered before starting over (memory stays under a few MB)

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def __missing__(self, value: str) -> bool:
        found = self.pattern.search(value) is not None
        if len(self) >= self.LIMIT:
            self.clear()
        self[value] = found
        return found


def _first_written(element: Any, names: tuple[str, ...]) -> str:
    """The value of whichever of the attributes the element writes first; '' when it has none of them."""
    for name, value in element.items():
        if name in names:
            return str(value)
    return ""


def _path_function(path: _Path) -> Callable[[Any], Iterator[Any]]:
    """A generator of the path's elements in document order, written as Python source and compiled."""
    lines = [f"def select(context, {', '.join(f'{name}={name}' for name in path.constants)}):"]
    if path.first_child:
        lines.append("    parents = set()")
    lines.append(f"    for el in context.iterdescendants({', '.join(map(repr, path.tags)) or '_ELEMENT'}):")
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
    namespace: dict[str, Any] = {"_first_written": _first_written, "_ELEMENT": etree.Element, **path.constants}
    exec("\n".join(lines), namespace)  # the source written above from the parsed expression
    return namespace["select"]


def _part_function(part: _Path | _First) -> Callable[[Any], Iterator[Any]]:
    if isinstance(part, _Path):
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


def _union_function(parts: tuple[_Path | _First, ...]) -> Select:
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
        parser = _Parser(path)
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
