"""trafilatura's XPath subset read into Python source (pipeline/selectors.py compiles and runs it).

The expressions trafilatura prunes pages with are parsed here (`Parser`, with the grammar) into `Path` and
`First` parts whose predicates are Python boolean expressions over an element `el`; the helpers those
expressions call (`first_written`, `Searched`) live here too, since they are what the expressions mean.
What the written expressions keep of XPath 1.0 is listed in pipeline/selectors.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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


class Unsupported(ValueError):
    """The expression uses XPath this module does not compile; libxml2 keeps it."""


@dataclass(eq=False)
class Path:
    """`.//TEST[predicate]...[1]`: descendants passing every predicate (the first matching child of each
    element when `first_child`), with what its predicates' Python source refers to."""

    tags: tuple[str, ...]  # lxml's tag filter: the node test's name, or the names a first [self::a or
    # self::b] predicate allows; empty for every element
    predicates: tuple[str, ...]  # Python boolean expressions over the element (see Parser)
    first_child: bool
    constants: dict[str, object]  # regular expressions, translation tables, attribute unions
    attributes: dict[str, str]  # attribute name -> the variable its value is read into


@dataclass(frozen=True)
class First:
    """`(EXPR)[1]`: the first of EXPR's elements in document order."""

    inner: tuple[Path | First, ...]  # a union


@dataclass(frozen=True)
class Test:
    """A predicate as Python source; `tags` when all it tests is the element's name (self::a or self::b)."""

    source: str
    tags: frozenset[str] | None = None


def tokens(path: str) -> list[tuple[str, str]]:
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


class Parser:
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
        self.tokens = tokens(path)
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
    def union(self) -> tuple[Path | First, ...]:
        parts = [self.part()]
        while self.at("|"):
            self.take("|")
            parts.append(self.part())
        return tuple(parts)

    def part(self) -> Path | First:
        if self.at("("):
            self.take("(")
            inner = self.union()
            self.take(")")
            self.position()
            return First(inner)
        self.take(".//")
        test = self.take("*") if self.at("*") else self.take(kind="name")
        self.constants, self.attributes = {}, {}
        tests: list[Test] = []
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
        return Path(tags, predicates, first_child, self.constants, self.attributes)

    def position(self) -> None:
        self.take("[")
        if self.take(kind="number") != "1":
            raise Unsupported("only the position [1] is compiled")
        self.take("]")

    # -- predicates --
    def predicate(self) -> Test:
        terms = [self.conjunction()]
        while self.at("or"):
            self.take("or")
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        names = [term.tags for term in terms]
        tags = frozenset().union(*names) if all(each is not None for each in names) else None  # type: ignore[arg-type]
        return Test("(" + " or ".join(term.source for term in terms) + ")", tags)

    def conjunction(self) -> Test:
        terms = [self.unary()]
        while self.at("and"):
            self.take("and")
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else Test("(" + " and ".join(term.source for term in terms) + ")")

    def unary(self) -> Test:
        if self.at("not") and self.at("(", 1):
            self.take("not")
            self.take("(")
            inner = self.predicate()
            self.take(")")
            return Test(f"(not {inner.source})")
        if self.at("("):
            self.take("(")
            inner = self.predicate()
            self.take(")")
            return inner
        return self.primary()

    def primary(self) -> Test:
        if self.at("self") and self.at("::", 1):
            self.take("self")
            self.take("::")
            name = self.take(kind="name")
            return Test(f"(tag == {name!r})", frozenset([name]))
        if self.at(".//"):
            self.take(".//")
            return Test(f"(next(el.iterdescendants({self.take(kind='name')!r}), None) is not None)")
        if self.at("@"):
            variables = [self.attribute(name) for name in self.attribute_names()]
            if self.at("="):
                self.take("=")
                value = self.literal()
                return Test("(" + " or ".join(f"{variable} == {value!r}" for variable in variables) + ")")
            return Test("(" + " or ".join(f"{variable} is not None" for variable in variables) + ")")
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
            return Test(f"({argument!r} in {value})")
        if function == "starts-with":
            return Test(f"{value}.startswith({argument!r})")
        # As lxml's EXSLT re:test compiles it: Python's re, case-insensitive with the "i" flag.
        pattern = re.compile(argument, re.IGNORECASE if "i" in flags else 0)
        return Test(f"{self.constant(Searched(pattern))}[{value}]")

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
            return f"{inner}.translate({self.constant(translation(source, target))})"
        names = self.attribute_names()
        variables = [self.attribute(name) for name in names]
        if len(names) == 1:
            return f"({variables[0]} or '')"
        if len(names) == 2:
            first, second = variables
            # Which is written first matters only when both are there.
            return (
                f"(first_written(el, {self.constant(tuple(names))}) if {first} is not None and {second} is not None"
                f" else {first} if {first} is not None else ({second} or ''))"
            )
        return f"first_written(el, {self.constant(tuple(names))})"


def translation(source: str, target: str) -> dict[int, int | None]:
    """XPath's translate(): each character of source becomes the one at its place in target, or goes
    when target is shorter; a character repeated in source keeps its first place."""
    table: dict[int, int | None] = {}
    for index, character in enumerate(source):
        table.setdefault(ord(character), ord(target[index]) if index < len(target) else None)
    return table


class Searched(dict[str, bool]):
    """Whether the pattern occurs in a value, remembered: a page repeats its class names (a hundred
    <div class="item">) and a site its templates, so most values were searched before."""

    # Values remembered before starting over. The repeats that pay are within a page and a site's template;
    # the 181 benchmark pages (as many sites) extract as fast remembering 500 as 20,000. A crawl's worker
    # holds one per compiled pattern (34): at 20,000 that was up to 90 MB each over a long, varied crawl;
    # at 2,000, under 10 MB.
    LIMIT = 2_000

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def __missing__(self, value: str) -> bool:
        found = self.pattern.search(value) is not None
        if len(self) >= self.LIMIT:
            self.clear()
        self[value] = found
        return found


def first_written(element: Any, names: tuple[str, ...]) -> str:
    """The value of whichever of the attributes the element writes first; '' when it has none of them."""
    for name, value in element.items():
        if name in names:
            return str(value)
    return ""
