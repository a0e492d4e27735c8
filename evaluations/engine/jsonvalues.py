"""Walks over JSON values (trace inputs, outputs, metadata) without recursion.

Accepted payloads may nest thousands of levels deep (as deep as the JSON decoder allows); a recursive walk
would stop at Python's recursion limit, so every walk over client data goes through these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def strings(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, text) of every string in a value, in document order."""
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            stack.extend((item, f"{path}.{key}") for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((value[n], f"{path}[{n}]") for n in range(len(value) - 1, -1, -1))


def map_strings(value: Any, text: Callable[[str], Any], key: Callable[[str], str] = str) -> Any:
    """A copy of a value with `text` applied to every string and `key` to every object key."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]  # (source, the copy's container, slot in it)
    while stack:
        source, container, slot = stack.pop()
        if isinstance(source, dict):
            copy: dict[Any, Any] = {}
            for name, item in source.items():
                copy[key(name)] = None  # the slot now, so the copy keeps the source's key order
                stack.append((item, copy, key(name)))
            container[slot] = copy
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            stack.extend((item, items, n) for n, item in enumerate(source))
            container[slot] = items
        else:
            container[slot] = text(source) if isinstance(source, str) else source
    return root[0]
