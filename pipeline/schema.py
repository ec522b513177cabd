"""Declared schemas for YAML data: fields with kinds, defaults and docs; validation collects findings.

Used for site.yaml, compliance.yaml and article front matter alike, so every file gets the same
messages: `field: expected ..., got ...` at the value's position, and unknown keys with a hint.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from pipeline.errors import Finding, FindingList, Location, PipelineError
from pipeline.textfile import read_text, strip_controls
from pipeline.yamldoc import INVALID, YamlDoc, parse_yaml


class Invalid(Exception):
    """A value does not fit its kind; the message says what was expected."""


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a true/false value ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of keys"
    if value is None:
        return "nothing"
    return repr(value)


@dataclass(frozen=True)
class Kind:
    """How to check and convert one value. `check` returns the clean value or raises Invalid."""

    name: str
    check: Callable[[Any], Any]


def _text(value: Any, *, max_len: int | None = None, pattern: re.Pattern | None = None,
          hint: str = "") -> str:
    if isinstance(value, bool):
        raise Invalid(f"expected text, got {describe(value)}; YAML reads unquoted yes/no/on/off as "
                      f"true/false, so put the value in quotes")
    if isinstance(value, (int, float)):
        raise Invalid(f"expected text, got {describe(value)}; put the value in quotes")
    if not isinstance(value, str):
        raise Invalid(f"expected text, got {describe(value)}")
    value = (value if pattern is not None else strip_controls(value)).strip()
    if not value:
        raise Invalid("must not be empty")
    if max_len is not None and len(value) > max_len:
        raise Invalid(f"is {len(value)} characters long; the limit is {max_len}")
    if pattern is not None and not pattern.fullmatch(value):
        raise Invalid(f"{value!r} is not valid{hint}")
    return value


def text(max_len: int | None = None) -> Kind:
    return Kind("text", lambda v: _text(v, max_len=max_len))


def line(max_len: int | None = None) -> Kind:
    """Text on one line: titles and names end up in email headers, where a line break is an attack."""
    def check(value: Any) -> str:
        result = _text(value, max_len=max_len)
        if re.search(r"[\r\n\u2028\u2029\x85]", result):
            raise Invalid("must be on one line (it is used in page titles and email headers); remove the line break")
        return result
    return Kind("a line of text", check)


def matching(pattern: str, hint: str) -> Kind:
    compiled = re.compile(pattern)
    return Kind("text", lambda v: _text(v, pattern=compiled, hint=hint))


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(value)}")
    return value


BOOLEAN = Kind("true or false", _boolean)


def integer(low: int, high: int) -> Kind:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected a whole number, got {describe(value)}")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}, got {value}")
        return value
    return Kind("a whole number", check)


_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{1,2}(:?\d{2})?)?)?")


def parse_datetime(value: Any) -> datetime | date:
    """An ISO 8601 date or date-time; naive results take the site's timezone later."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise Invalid(f"expected a date like 2026-05-01 or 2026-05-01T09:30:00-05:00, got {describe(value)}")
    raw = value.strip()
    if not _DATE_SHAPE.fullmatch(raw):
        raise Invalid(f"expected a date like 2026-05-01 or 2026-05-01T09:30:00-05:00, got {raw!r}")
    cleaned = raw.replace("t", "T").replace("z", "Z")
    cleaned = re.sub(r"\s+(?=[Z+-]\d*:?\d*$)", "", cleaned)          # "09:30 -5" -> "09:30-5"
    cleaned = re.sub(r"([+-])(\d)(?=(:?\d{2})?$)", r"\g<1>0\2", cleaned)  # "-5" -> "-05"
    try:
        if len(cleaned) == 10:
            return date.fromisoformat(cleaned)
        return datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"{raw!r} is not a real date ({exc}); check the month and day") from None


DATE = Kind("a date", parse_datetime)


def one_of(*choices: str) -> Kind:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise Invalid(f"expected one of {', '.join(choices)}, got {describe(value)}")
        return value
    return Kind("one of " + ", ".join(choices), check)


@dataclass(frozen=True)
class Field:
    """One declared key: its kind, whether it is required, its default, and what it means."""

    name: str
    kind: Kind | "Schema" | "ListOf"
    doc: str
    required: bool = False
    default: Any = None
    example: str = ""


@dataclass(frozen=True)
class Schema:
    """A mapping with declared fields; anything else is an unknown-key error with a did-you-mean."""

    fields: tuple[Field, ...]
    name: str = "a mapping"

    def names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass(frozen=True)
class ListOf:
    """A list whose items all have one kind; a single value is accepted as a one-item list when `lenient`."""

    item: Kind | Schema
    lenient: bool = False
    max_items: int | None = None


@dataclass
class Validator:
    """Validates a YamlDoc against a Schema, adding a finding for every problem it meets."""

    doc: YamlDoc
    findings: FindingList

    def fail(self, keys: tuple, message: str, *, at_key: bool = False) -> None:
        location = self.doc.key_location(keys) if at_key else self.doc.location(keys)
        self.findings.add(location, message, source=self.doc.source(location))

    def mapping(self, schema: Schema, value: Any, keys: tuple = ()) -> dict | None:
        label = dotted(keys)
        if value is INVALID:
            return None
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.fail(keys, f"{label + ': ' if label else ''}expected {schema.name}, got {describe(value)}")
            return None
        known = schema.names()
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; known keys: {', '.join(known)}"
                self.fail(keys + (key,), f"unknown key '{dotted(keys + (key,))}'{hint}", at_key=True)
        clean: dict[str, Any] = {}
        ok = True
        for fld in schema.fields:
            sub = keys + (fld.name,)
            if fld.name not in value or value[fld.name] is None:
                if fld.required:
                    example = f"; add a line like `{fld.example}`" if fld.example else ""
                    where = f" in {label}" if label else ""
                    self.fail(keys, f"missing required field '{dotted(sub)}'{where}{example}")
                    ok = False
                clean[fld.name] = fld.default
                continue
            result = self.value(fld.kind, value[fld.name], sub)
            if result is _BAD:
                ok = False
                clean[fld.name] = fld.default
            else:
                clean[fld.name] = result
        return clean if ok else None

    def value(self, kind, value: Any, keys: tuple) -> Any:
        if value is INVALID:
            return _BAD
        if isinstance(kind, Schema):
            result = self.mapping(kind, value, keys)
            return _BAD if result is None else result
        if isinstance(kind, ListOf):
            return self.sequence(kind, value, keys)
        try:
            return kind.check(value)
        except Invalid as exc:
            self.fail(keys, f"{dotted(keys)}: {exc}")
            return _BAD

    def sequence(self, kind: ListOf, value: Any, keys: tuple) -> Any:
        if not isinstance(value, list):
            if kind.lenient and not isinstance(value, dict):
                value = [value]
                result = self.value(kind.item, value[0], keys)
                return _BAD if result is _BAD else [result]
            self.fail(keys, f"{dotted(keys)}: expected a list, got {describe(value)}")
            return _BAD
        if kind.max_items is not None and len(value) > kind.max_items:
            self.fail(keys, f"{dotted(keys)}: has {len(value)} items; the limit is {kind.max_items}")
            return _BAD
        items = [self.value(kind.item, item, keys + (index,)) for index, item in enumerate(value)]
        return _BAD if any(item is _BAD for item in items) else items


_BAD = object()


def dotted(keys: tuple) -> str:
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out



def load_settings(root, rel: str, schema: Schema, missing: str) -> tuple[dict, Validator]:
    """Read, parse and validate one settings file (site.yaml, compliance.yaml); raise PipelineError
    with every problem found. Returns the clean values and the validator for further checks."""
    findings = FindingList()
    path = root / rel
    if not path.is_file():
        raise PipelineError(Finding(Location(rel), missing))
    raw = read_text(path, rel, findings)
    doc = parse_yaml(raw, rel, findings) if raw is not None else None
    findings.raise_if_errors()
    validator = Validator(doc, findings)
    clean = validator.mapping(schema, doc.data)
    findings.raise_if_errors()
    return clean, validator
