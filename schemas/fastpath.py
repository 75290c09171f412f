"""Fast acceptors: yes-or-don't-know predicates compiled from simple JSON Schemas.

fastjsonschema's generated code spends most of its time preparing error reports that a
valid event never needs (about 11 µs per event). An acceptor checks the same rules in a few
straight-line statements and answers True only when the data is certainly valid; False
means "ask the full validator", which then either raises with its usual error or accepts.
So the acceptor can make validation faster but never more lenient.

Only the keywords our contracts use are supported (object with properties, required and
additionalProperties false; string, integer and object properties with pattern, length,
enum, const and bounds). A schema using anything else gets no acceptor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "examples"})
_OBJECT_KEYWORDS = frozenset({"type", "additionalProperties", "required", "properties"})
_STRING_KEYWORDS = frozenset({"type", "pattern", "minLength", "maxLength", "enum", "const"})
_INTEGER_KEYWORDS = frozenset(
    {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "const"}
)


_DOLLAR = re.compile(r"(?<!\\)\$")


class Unsupported(Exception):
    """The schema uses a keyword the acceptor compiler does not handle."""


def _keywords(schema: dict[str, Any]) -> set[str]:
    return set(schema) - _ANNOTATIONS


def _property_checks(name: str, schema: dict[str, Any], env: dict[str, Any]) -> list[str]:
    """Statements that `return False` unless property value `v` is certainly valid."""
    kind = schema.get("type")
    index = len(env)
    if kind == "object":
        if _keywords(schema) != {"type"}:
            raise Unsupported(f"{name}: object properties may only have a type")
        return ["if type(v) is not dict: return False"]
    if kind == "string":
        allowed, python_type = _STRING_KEYWORDS, "str"
    elif kind == "integer":
        allowed, python_type = _INTEGER_KEYWORDS, "int"  # `type(v) is int` refuses bool, 1.0
    else:
        raise Unsupported(f"{name}: type {kind!r}")
    extra = _keywords(schema) - allowed
    if extra:
        raise Unsupported(f"{name}: {sorted(extra)}")
    lines = [f"if type(v) is not {python_type}: return False"]
    if "const" in schema:
        if type(schema["const"]).__name__ != python_type:
            raise Unsupported(f"{name}: const of another type")
        env[f"c{index}"] = schema["const"]
        lines.append(f"if v != c{index}: return False")
    if "enum" in schema:
        if any(type(value).__name__ != python_type for value in schema["enum"]):
            raise Unsupported(f"{name}: enum of mixed types")
        env[f"e{index}"] = frozenset(schema["enum"])
        lines.append(f"if v not in e{index}: return False")
    if "minLength" in schema:
        lines.append(f"if len(v) < {int(schema['minLength'])}: return False")
    if "maxLength" in schema:
        lines.append(f"if len(v) > {int(schema['maxLength'])}: return False")
    if "pattern" in schema:
        # As fastjsonschema does: re.search, with every unescaped `$` made `\Z`, so a trailing
        # newline does not match (the differential test caught the plain-`$` version).
        env[f"p{index}"] = re.compile(_DOLLAR.sub(r"\\Z", schema["pattern"])).search
        lines.append(f"if p{index}(v) is None: return False")
    for keyword, op in (
        ("minimum", "<"),
        ("maximum", ">"),
        ("exclusiveMinimum", "<="),
        ("exclusiveMaximum", ">="),
    ):
        if keyword in schema:
            bound = schema[keyword]
            if type(bound) is not int:
                raise Unsupported(f"{name}: non-integer {keyword}")
            lines.append(f"if v {op} {bound}: return False")
    return lines


def compile_acceptor(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """An acceptor for `schema`, or None when the schema is outside the supported subset."""
    try:
        return _compile(schema)
    except Unsupported:
        return None


def _compile(schema: dict[str, Any]) -> Callable[[Any], bool]:
    if schema.get("type") != "object" or not _keywords(schema) <= _OBJECT_KEYWORDS:
        raise Unsupported("the top level must be an object with properties only")
    if schema.get("additionalProperties", True) is not False:
        raise Unsupported("additionalProperties must be false")
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not required <= set(properties):
        raise Unsupported("a required field has no property schema")
    env: dict[str, Any] = {"_missing": object()}
    # additionalProperties false: every key must be a known property. Counting the known
    # properties found and comparing with len(d) checks that without building a key set.
    body = ["if type(d) is not dict: return False", f"if len(d) > {len(properties)}: return False"]
    optional = [name for name in properties if name not in required]
    if optional:
        body.append(f"n = {len(required)}")
    for name, property_schema in properties.items():
        checks = _property_checks(name, property_schema, env)
        body.append(f"v = d.get({name!r}, _missing)")
        if name in required:
            body.append("if v is _missing: return False")
            body += checks
        else:
            body.append("if v is not _missing:")
            body += [f"    {line}" for line in checks] + ["    n += 1"]
    body.append(f"if len(d) != {'n' if optional else len(required)}: return False")
    body.append("return True")
    source = "def accepts(d):\n" + "".join(f"    {line}\n" for line in body)
    namespace: dict[str, Any] = dict(env)
    exec(compile(source, f"<acceptor {schema.get('$id', '?')}>", "exec"), namespace)
    accepts: Callable[[Any], bool] = namespace["accepts"]
    return accepts
