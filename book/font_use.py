"""font_use: which characters each of the book's faces sets in the EPUB, found by cascading the
book's own stylesheet over its own markup.

A reader sets a character in the first family of the element's `font-family` that has a glyph
for it. So each text node's family list is found as a browser finds it (the rules that match the
element, by specificity and order, an inline style, inheritance), and each character goes to the
first of the book's faces in that list whose character map has it. Each face is then subset to
exactly the characters it sets (fonts.subset_font): a face subset to what one rule was thought to
use left `strong`, `em` and the copyright page's labels as boxes in a reader without CJK fonts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

import cssselect2
import tinycss2

from .fonts import FontFace, has_glyph


@dataclass(frozen=True)
class _Declaration:
    families: tuple[str, ...]
    important: bool


def characters_by_face(documents: Iterable[str], stylesheet: str, faces: tuple[FontFace, ...]) -> dict[FontFace, str]:
    """For each face, the characters (each once, in code point order) that it sets in `documents`
    (XHTML) under `stylesheet`. A character none of the faces in its family list has is in none."""
    matcher, structural = _matcher(stylesheet)
    by_family = {face.family.casefold(): face for face in faces}
    by_list: dict[tuple[str, ...], set[str]] = {}
    for document in documents:
        root = ElementTree.fromstring(document.encode("utf-8"))
        known: dict[tuple[object, ...], tuple[str, ...]] | None = None if structural else {}
        walk = _styled_text(cssselect2.ElementWrapper.from_xml_root(root), matcher, (), (), known)
        for families, text in walk:
            by_list.setdefault(families, set()).update(text)
    found: dict[FontFace, set[str]] = {face: set() for face in faces}
    for families, characters in by_list.items():
        ours = [by_family[name] for name in families if name in by_family]
        for character in characters:
            if character in _NOT_DRAWN:
                continue
            for face in ours:
                if has_glyph(face, character):
                    found[face].add(character)
                    break
    return {face: "".join(sorted(characters)) for face, characters in found.items()}


def _matcher(stylesheet: str) -> tuple[cssselect2.Matcher, bool]:
    """The stylesheet's font-family declarations, by selector (media rules included: a reader may
    match them), and whether a selector looks at more than an element's and its ancestors' names,
    classes, ids and styles (siblings, attributes, pseudo-classes)."""
    matcher = cssselect2.Matcher()
    structural = False
    for rule in _style_rules(tinycss2.parse_stylesheet(stylesheet, skip_whitespace=True, skip_comments=True)):
        declaration = None
        for item in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True):
            if item.type == "declaration" and item.lower_name == "font-family":
                declaration = _Declaration(_families(item.value), item.important)
        if declaration is None:
            continue
        try:
            selectors = cssselect2.compile_selector_list(rule.prelude)
        except cssselect2.SelectorError:
            continue
        structural |= any(token.type == "[] block" or token in ("+", "~", ":") for token in rule.prelude)
        for selector in selectors:
            if selector.pseudo_element is None:
                matcher.add_selector(selector, declaration)
    return matcher, structural


def _style_rules(rules: list[object]) -> Iterator[tinycss2.ast.QualifiedRule]:
    for rule in rules:
        if isinstance(rule, tinycss2.ast.QualifiedRule):
            yield rule
        elif isinstance(rule, tinycss2.ast.AtRule) and rule.lower_at_keyword in ("media", "supports") and rule.content:
            yield from _style_rules(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True))


def _families(tokens: list[object]) -> tuple[str, ...]:
    """A font-family value's names, case-folded: "Book Serif", serif -> ("book serif", "serif")."""
    names: list[str] = []
    current: list[str] = []
    for token in tokens:
        if isinstance(token, tinycss2.ast.LiteralToken) and token.value == ",":
            names.append(" ".join(current))
            current = []
        elif isinstance(token, tinycss2.ast.StringToken | tinycss2.ast.IdentToken):
            current.append(token.value)
    names.append(" ".join(current))
    return tuple(name.casefold() for name in names if name)


def _styled_text(
    element: cssselect2.ElementWrapper,
    matcher: cssselect2.Matcher,
    inherited: tuple[str, ...],
    parent_key: tuple[object, ...],
    known: dict[tuple[object, ...], tuple[str, ...]] | None,
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(family list, text) for the element's own text and for each child's subtree, in document
    order; a child's tail is the element's text. `known`: the family lists found, by the element's
    name, class, id and style and those of its ancestors (None where selectors look further)."""
    etree = element.etree_element
    key = (etree.tag, etree.get("class"), etree.get("id"), etree.get("style"), parent_key)
    if known is None:
        families = _own_families(element, matcher) or inherited
    elif (families := known.get(key)) is None:  # type: ignore[assignment]
        families = known[key] = _own_families(element, matcher) or inherited
    if etree.text:
        yield families, etree.text
    if (marker := _marker(element)) is not None:
        yield families, marker
    for child in element.iter_children():
        yield from _styled_text(child, matcher, families, key, known)
        if child.etree_element.tail:
            yield families, child.etree_element.tail


_NOT_DRAWN = "\n\r\t\f"  # white space a reader collapses; a space, a no-break and an ideographic space are drawn
_BULLETS = "•◦▪"  # the disc, circle and square markers of lists nested one, two and three deep


def _marker(element: cssselect2.ElementWrapper) -> str | None:
    """The text of a list item's marker, which the reader draws in the item's font: its number and
    stop in an ordered list, a bullet in another."""
    if element.local_name != "li" or element.parent is None:
        return None
    if element.parent.local_name == "ol":
        return f"{element.index + 1}."
    depth = sum(1 for ancestor in element.iter_ancestors() if ancestor.local_name in ("ul", "ol"))
    return _BULLETS[min(depth, len(_BULLETS)) - 1]


def _own_families(element: cssselect2.ElementWrapper, matcher: cssselect2.Matcher) -> tuple[str, ...]:
    """The family list the element's own rules and style attribute give it (empty: inherited)."""
    best: tuple[tuple[int, ...], _Declaration] | None = None
    for specificity, order, _, declaration in matcher.match(element):
        rank = (int(declaration.important), 0, *specificity, order)
        if best is None or rank >= best[0]:
            best = (rank, declaration)
    inline = element.etree_element.get("style")
    if inline:
        for item in tinycss2.parse_declaration_list(inline, skip_whitespace=True, skip_comments=True):
            is_family = item.type == "declaration" and item.lower_name == "font-family"
            if is_family and (best is None or not best[1].important or item.important):
                best = ((int(item.important), 1), _Declaration(_families(item.value), item.important))
    return best[1].families if best else ()
