"""Reading pages in tests as a browser would: with a real HTML parser (html.parser), never by splitting text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HIDDEN = {"script", "style", "head", "template"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The visible text inside, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text for c in self.children
                 if isinstance(c, str) or c.tag not in HIDDEN]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag (any when None) whose attributes equal `attrs` (class_ for class; a
        class matches when it is one of the element's classes)."""
        found = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            if all(_matches(element, name.rstrip("_").replace("_", "-"), value) for name, value in attrs.items()):
                found.append(element)
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}> in the page"
        return found[0]

    def under(self, heading: str) -> Element:
        """The element whose own <h2> (or <h3>) reads `heading`: a panel of the page."""
        for element in self.iter():
            if any(isinstance(c, Element) and c.tag in ("h2", "h3") and c.text == heading for c in element.children):
                return element
        raise AssertionError(f"no section headed {heading!r} in the page")

    def links(self) -> list[str]:
        return [a.attrs["href"] for a in self.find_all("a") if "href" in a.attrs]

    def rows(self) -> list[list[str]]:
        """A table's rows as the texts of their cells."""
        return [[cell.text for cell in row.children if isinstance(cell, Element) and cell.tag in ("td", "th")]
                for row in self.find_all("tr")]


def _matches(element: Element, name: str, value: str) -> bool:
    if name == "class":
        return value in element.attrs.get("class", "").split()
    return element.attrs.get(name) == value


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):  # close up to the matching open tag (lenient, like a browser)
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str | bytes) -> Element:
    builder = _Builder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root
