"""The YAML dialect of definition files, and text parsing whose errors give line and column.

YAML 1.1 reads `on`, `yes`, `no` and `off` as booleans, which would turn the trigger's
`on: update` into `True: update`; this dialect keeps only true/false (as YAML 1.2 does) and
reads 1e5 as a number. Loader and dumper share the rules, so what is written plain reads
back as the same type. Short lists and mappings are written inline (`[a, b]`, `{ref: x}`),
multi-line text as `|` blocks, and repeated keys are errors rather than silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from orchlab.definition.codec import DefinitionError
from orchlab.limits import (
    MAX_DEFINITION_BYTES,
    MAX_DEFINITION_NODES,
    MAX_ELEMENTS,
    MAX_NESTING,
)

__all__ = ["yaml_dump", "parse"]

_BOOL, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float"
_NUMBER = r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+|[0-9][0-9_]*(?=[eE]))(?:[eE][-+]?[0-9]+)?"
_DIALECT = [
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (
        _FLOAT,
        re.compile(rf"^(?:{_NUMBER}|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        "-+.0123456789",
    ),
]


class _Loader(yaml.CSafeLoader):  # libyaml parses; the rest is as in SafeLoader
    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()  # a repeated key is a typo; plain YAML would keep the last one silently
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:  # 2024-02-30 looks like a date but is none: say where, as for any syntax error
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, str(error), node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # no &anchors: hand-written files should not need them

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)  # indent list items under their key


for _cls in (_Loader, _Dumper):
    _cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag not in (_BOOL, _FLOAT)]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for _tag, _rx, _first in _DIALECT:
        _cls.add_implicit_resolver(_tag, _rx, list(_first))


def _short(data: Any) -> bool:
    """Lists and mappings of scalars that fit on a line are written inline: [a, b], {ref: x}."""
    if isinstance(data, Mapping | list):
        inner = data.values() if isinstance(data, Mapping) else data
        return all(_short(v) for v in inner) and len(json.dumps(data, default=str)) <= 60
    return not (isinstance(data, str) and "\n" in data)


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_Dumper.add_representer(dict, lambda d, v: d.represent_mapping(_MAP, v, flow_style=_short(v)))
_Dumper.add_representer(list, lambda d, v: d.represent_sequence(_SEQ, v, flow_style=_short(v)))


def _str_style(text: str) -> str | None:
    """Multi-line text as a `|` block; YAML's other line breaks only survive escaped in "..."."""
    if any(c in text for c in "\r\x85\u2028\u2029"):
        return '"'
    return "|" if "\n" in text else None


_Dumper.add_representer(str, lambda d, v: d.represent_scalar(_STR, v, style=_str_style(v)))


def yaml_dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise DefinitionError(f"duplicate key {key!r} in a JSON object")
    return dict(pairs)


def _expanded_size(root: yaml.Node) -> tuple[int, int, int]:
    """(values, depth, longest list) of a composed YAML document, aliases counted as expanded.

    An alias is the same node object used again; sizes are memoized per node, so a
    566-byte "billion laughs" is measured in microseconds rather than built.
    """
    sizes: dict[int, tuple[int, int]] = {}
    longest = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    while stack:  # iterative: no recursion limit to hit
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if node.__class__ is scalar:
            sizes[key] = (1, 0)
            continue
        kids = [k for pair in node.value for k in pair] if node.__class__ is mapping else node.value
        if not children_done:
            longest = max(longest, len(node.value))
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        count, depth = 1, 0
        for k in kids:
            c, d = sizes[id(k)]
            count += c
            depth = d if d > depth else depth
        sizes[key] = (min(count, MAX_DEFINITION_NODES + 1), depth + 1)
    values, depth = sizes[id(root)]
    return values, depth, longest


def _json_depth(data: Any) -> int:
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


def _load_yaml(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        values, depth, longest = _expanded_size(node)
        if longest > MAX_ELEMENTS:
            raise DefinitionError(
                f"a list or mapping has {longest:,} entries; expected at most {MAX_ELEMENTS:,}"
            )
        if values > MAX_DEFINITION_NODES:
            raise DefinitionError(
                f"the file expands to more than {MAX_DEFINITION_NODES:,} values "
                "(YAML aliases counted as copies); expected a smaller definition"
            )
        if depth > MAX_NESTING:
            raise DefinitionError(
                f"lists and mappings are nested {depth} levels deep; expected at most {MAX_NESTING}"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse(text: str, format: str, source: str = "") -> Any:
    """YAML or JSON text as data; syntax errors become DefinitionErrors with line and column.

    Input beyond `orchlab.limits` (size, values with aliases expanded, nesting) is refused
    before it is built.
    """
    prefix = f"{source}: " if source else ""
    if len(text) > MAX_DEFINITION_BYTES:
        raise DefinitionError(
            f"{prefix}{len(text):,} characters; expected a definition of at most "
            f"{MAX_DEFINITION_BYTES:,}"
        )
    try:
        if format == "json":
            data = json.loads(text, object_pairs_hook=_no_duplicates)
            if _json_depth(data) > MAX_NESTING:
                raise DefinitionError(
                    f"lists and mappings are nested more than {MAX_NESTING} levels deep"
                )
            return data
        return _load_yaml(text)
    except RecursionError:
        raise DefinitionError(
            f"{prefix}lists and mappings are nested too deeply; expected at most {MAX_NESTING} "
            "levels"
        ) from None
    except json.JSONDecodeError as error:
        line, column, problem = error.lineno, error.colno, error.msg
    except ValueError as error:  # an integer of more digits than Python converts (4,300)
        raise DefinitionError(f"{prefix}invalid {format.upper()}: {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = "; ".join(p for p in (error.context, error.problem) if p)
    except yaml.YAMLError as error:  # e.g. a reader error about a control character
        raise DefinitionError(f"{prefix}invalid YAML: {error}") from None
    except DefinitionError as error:
        raise DefinitionError(f"{prefix}{error}") from None
    raise DefinitionError(
        f"{prefix}invalid {format.upper()} at line {line}, column {column}: {problem}",
        line=line,
        column=column,
    )
