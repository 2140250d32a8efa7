"""The CBOR a card may hold, read strictly (docs/card-format.md, section 2, "Canonical CBOR").

cbor2 writes the cards; it does not read them. Its decoder understands all of CBOR, semantic
tags included: tags that build regular expressions, MIME messages, shared (cyclic) references
and big numbers of any size. A card needs none of them, and every feature a reader accepts is
one a hostile card can aim at. A card's CBOR is a small deterministic subset, and a reader takes
exactly that subset, so an accepted item re-encodes to the very bytes it was read from:

- unsigned integers, byte strings, UTF-8 text strings, arrays, maps and ``null``; nothing else
  (no negative integers, floats, booleans, undefined, tags or indefinite lengths);
- every integer and length in its shortest form (RFC 8949, section 4.2.1);
- map keys are unsigned integers in strictly ascending order (so never twice);
- at most ``MAX_DEPTH`` nested arrays and maps; nothing after the item unless the caller reads
  a prefix.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 6
NULL = 0xF6
# The smallest value each argument size may carry (anything smaller has a shorter form).
_SIZES = {24: (1, 24), 25: (2, 1 << 8), 26: (4, 1 << 16), 27: (8, 1 << 32)}


class StrictCBORError(ValueError):
    """The bytes are not CBOR of the subset a card may hold."""


def loads(data: bytes) -> Any:
    """The one item ``data`` holds; trailing bytes are refused."""
    value, end = load_prefix(data)
    if end != len(data):
        raise StrictCBORError("bytes after the item")
    return value


def load_prefix(data: bytes) -> tuple[Any, int]:
    """The item at the start of ``data`` and where it ends."""
    return _item(data, 0, 0)


def _argument(data: bytes, pos: int, info: int) -> tuple[int, int]:
    if info < 24:
        return info, pos
    if info not in _SIZES:
        raise StrictCBORError("indefinite length or reserved argument")
    size, smallest = _SIZES[info]
    if pos + size > len(data):
        raise StrictCBORError("truncated")
    value = int.from_bytes(data[pos : pos + size], "big")
    if value < smallest:
        raise StrictCBORError("not the shortest form")
    return value, pos + size


def _item(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if pos >= len(data):
        raise StrictCBORError("truncated")
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if initial == NULL:
        return None, pos
    if major not in (0, 2, 3, 4, 5):
        raise StrictCBORError("only unsigned integers, strings, arrays, maps and null")
    value, pos = _argument(data, pos, info)
    if major == 0:
        return value, pos
    if major in (2, 3):
        end = pos + value
        if end > len(data):
            raise StrictCBORError("truncated")
        if major == 2:
            return bytes(data[pos:end]), end
        try:
            return data[pos:end].decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise StrictCBORError("text is not UTF-8") from exc
    if depth >= MAX_DEPTH:
        raise StrictCBORError("nested too deep")
    # Each element takes at least one byte: a count larger than what is left cannot be true.
    if value * (2 if major == 5 else 1) > len(data) - pos:
        raise StrictCBORError("truncated")
    if major == 4:
        items = []
        for _ in range(value):
            element, pos = _item(data, pos, depth + 1)
            items.append(element)
        return items, pos
    entries: dict[int, Any] = {}
    previous = -1
    for _ in range(value):
        if pos >= len(data) or data[pos] >> 5 != 0:
            raise StrictCBORError("map keys are unsigned integers")
        entry_key, pos = _item(data, pos, depth + 1)
        if entry_key <= previous:
            raise StrictCBORError("map keys in ascending order, each once")
        previous = entry_key
        entries[entry_key], pos = _item(data, pos, depth + 1)
    return entries, pos
