"""Form controls without an accessible name (axe's "label" and "select-name" rules, the
critical ones): a control needs a <label for>, an enclosing <label>, aria-label or
aria-labelledby naming an element of the page, or a title."""

from __future__ import annotations

from html.parser import HTMLParser

UNNAMED_INPUT_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.open_labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "label":
            self.open_labels += 1
            if found.get("for"):
                self.label_for.add(str(found["for"]))
        elif tag in ("select", "textarea") or (
            tag == "input" and (found.get("type") or "text") not in UNNAMED_INPUT_TYPES
        ):
            self.controls.append({**found, "tag": tag, "in_label": str(self.open_labels > 0)})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.open_labels:
            self.open_labels -= 1


def unnamed_controls(html: str) -> list[dict[str, str | None]]:
    page = _Controls()
    page.feed(html)

    def named(control: dict[str, str | None]) -> bool:
        labelledby = (control.get("aria-labelledby") or "").split()
        return bool(
            control["in_label"] == "True"
            or (control.get("id") and control["id"] in page.label_for)
            or (control.get("aria-label") or "").strip()
            or (labelledby and all(name in page.ids for name in labelledby))
            or (control.get("title") or "").strip()
        )

    return [control for control in page.controls if not named(control)]
