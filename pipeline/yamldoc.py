"""Reading YAML as data *with positions*: every value keeps the node it came from.

PyYAML's compose() gives nodes with marks; we build plain values from them ourselves, so that
duplicate keys, aliases, unknown tags and bad scalars become findings at file:line:col instead of
silent surprises (PyYAML keeps the last duplicate and raises a bare ValueError for 2026-02-30).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pipeline.errors import FindingList, Location

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTOR = SafeConstructor()
# Timestamps stay as their source text: date validation parses them with exact messages.
_SCALARS = {
    _TAG + "str": lambda node: node.value,
    _TAG + "timestamp": lambda node: node.value,
    _TAG + "null": lambda node: None,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
}
MAX_DEPTH = 32   # lists and maps inside each other; no setting or front matter field needs more
INVALID = type("Invalid", (), {"__repr__": lambda self: "<invalid>"})()  # a value already reported
Path = tuple  # a key path into the document: ("organization", "name"), ("tags", 0)


@dataclass(frozen=True, eq=False)
class YamlDoc:
    """Values of one YAML document, the node behind each key path, and the file's lines."""

    path: str
    data: Any
    nodes: dict
    lines: tuple[str, ...]
    line_offset: int = 0  # lines of the file before the YAML text (front matter starts at 1)

    def node(self, keys: Path) -> Node | None:
        return self.nodes.get(tuple(keys))

    def location(self, keys: Path = ()) -> Location:
        """Where the value at `keys` starts; its nearest present parent when it is absent."""
        keys = tuple(keys)
        while keys and keys not in self.nodes:
            keys = keys[:-1]
        node = self.nodes.get(keys)
        if node is None:
            return Location(self.path, self.line_offset + 1 if self.line_offset else 1, 1)
        return self.mark_location(node.start_mark)

    def key_location(self, keys: Path) -> Location:
        key_node = self.nodes.get(("<key>",) + tuple(keys))
        return self.mark_location(key_node.start_mark) if key_node is not None else self.location(keys)

    def mark_location(self, mark) -> Location:
        return Location(self.path, mark.line + 1 + self.line_offset, mark.column + 1)

    def source(self, location: Location) -> str | None:
        if location.line is None or not 1 <= location.line <= len(self.lines):
            return None
        return self.lines[location.line - 1]

    def slim(self) -> YamlDoc:
        """The same document keeping only where each node starts and ends: what later stages use,
        at a fraction of the memory (and of the pickle sent back from a worker)."""
        nodes = {keys: Span(Mark(n.start_mark.line, n.start_mark.column), Mark(n.end_mark.line, n.end_mark.column))
                 for keys, n in self.nodes.items()}
        return YamlDoc(self.path, self.data, nodes, self.lines, self.line_offset)


class Mark(NamedTuple):
    line: int     # 0-based, as PyYAML's marks
    column: int


class Span(NamedTuple):
    start_mark: Mark
    end_mark: Mark


def parse_yaml(text: str, path: str, findings: FindingList, *, lines: tuple[str, ...] | None = None,
               line_offset: int = 0, loader=None) -> YamlDoc | None:
    """Parse `text`; add findings for every problem. Returns None when the YAML cannot be read.
    `loader`: the parser to try first (default LIBYAML_LOADER; False: PyYAML's own alone)."""
    all_lines = lines if lines is not None else tuple(text.split("\n"))
    empty = YamlDoc(path, None, {}, all_lines, line_offset)
    try:
        root = _compose(text, LIBYAML_LOADER if loader is None else loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = empty.mark_location(mark) if mark else Location(path)
        findings.add(location, _syntax_message(exc), source=empty.source(location))
        return None
    except RecursionError:   # (PyYAML's own composer recurses once per level)
        location = _too_deep(text, empty)
        findings.add(location, _DEEP, source=empty.source(location))
        return None
    doc = YamlDoc(path, None, {}, all_lines, line_offset)
    if root is None:
        return doc
    builder = _Builder(doc, findings)
    data = builder.build(root, ())
    return YamlDoc(path, data, doc.nodes, all_lines, line_offset)


def _compose(text: str, loader):
    """`loader` (libyaml's parser: much faster, same nodes and marks) when given; PyYAML's own
    parser for a document it rejects, so that every syntax error reads the same."""
    if loader:
        try:
            return yaml.compose(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None)   # None: PyYAML built without libyaml
_DEEP = (f"lists and maps are nested more than {MAX_DEPTH} levels deep here; check for a run of unclosed "
         f"'[' or '{{', or write the value flat")


def _too_deep(text: str, doc: YamlDoc) -> Location:
    """Where the first list or map more than MAX_DEPTH levels deep starts (read event by event,
    without recursion); the file's start if the text cannot be read so far."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=LIBYAML_LOADER or yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return doc.mark_location(event.start_mark)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Location(doc.path, doc.line_offset + 1, 1)


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem:
        return "YAML syntax: a tab character here; YAML indents with spaces only, so replace the tab with spaces"
    context = f" {exc.context}" if exc.context else ""
    return f"YAML syntax: {problem}{context}; check the indentation, colons and quotes on this line"


class _Builder:
    def __init__(self, doc: YamlDoc, findings: FindingList):
        self.doc = doc
        self.findings = findings
        self.seen: set[int] = set()
        self.alias_reported = False

    def fail(self, node: Node, message: str) -> None:
        location = self.doc.mark_location(node.start_mark)
        self.findings.add(location, message, source=self.doc.source(location))

    def build(self, node: Node, keys: Path) -> Any:
        if id(node) in self.seen:
            if not self.alias_reported:
                self.fail(node, "YAML anchors and aliases (& and *) are not supported here; write the value out")
                self.alias_reported = True
            return INVALID
        self.seen.add(id(node))
        if len(keys) >= MAX_DEPTH and not isinstance(node, ScalarNode):
            self.fail(node, _DEEP)
            return INVALID
        self.doc.nodes[keys] = node
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                self.fail(node, f"unsupported YAML tag {node.tag!r}; remove it")
                return INVALID
            return [self.build(item, keys + (index,)) for index, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, keys)
        return None  # pragma: no cover - compose() yields only the three node kinds

    def scalar(self, node: ScalarNode) -> Any:
        make = _SCALARS.get(node.tag)
        if make is None:
            self.fail(node, f"unsupported YAML tag {node.tag!r}; remove it (tags never run code here)")
            return INVALID
        try:
            return make(node)
        except (ValueError, OverflowError) as exc:  # pragma: no cover - resolver regexes guard these
            self.fail(node, f"cannot read value {node.value!r}: {exc}")
            return INVALID

    def mapping(self, node: MappingNode, keys: Path) -> dict:
        if node.tag != _TAG + "map":
            self.fail(node, f"unsupported YAML tag {node.tag!r}; remove it")
            return INVALID
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _TAG + "merge":
                self.fail(key_node, "keys must be plain names (no lists, maps or << merges as keys)")
                continue
            key = str(key_node.value)
            if key in first_seen:
                first_line = first_seen[key].start_mark.line + 1 + self.doc.line_offset
                self.fail(key_node, f"duplicate key '{key}' (first set on line {first_line}); keep only one")
                continue
            first_seen[key] = key_node
            self.doc.nodes[("<key>",) + keys + (key,)] = key_node
            result[key] = self.build(value_node, keys + (key,))
        return result
