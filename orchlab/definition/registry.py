"""Flows, evaluation flows and actions: Python callables registered by name.

Definitions hold only names; a `Registry` binds them to code, with typed inputs
and outputs so validation can check input maps and output references without
running anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from orchlab.definition.values import ValueType

__all__ = ["FlowKind", "FlowSpec", "Registry", "registry", "flow", "evaluation", "action"]


class FlowKind(StrEnum):
    FLOW = "flow"  # autolaunched flow, called by a background step
    EVALUATION = "evaluation"  # returns whether an entry/exit condition is met
    ACTION = "action"  # outbound call, called by an external step


_PY_TYPES: dict[Any, ValueType] = {
    str: ValueType.TEXT,
    int: ValueType.NUMBER,
    float: ValueType.NUMBER,
    Decimal: ValueType.CURRENCY,
    bool: ValueType.BOOLEAN,
    dt.date: ValueType.DATE,
    dt.datetime: ValueType.DATETIME,
    dict: ValueType.RECORD,
    Any: ValueType.ANY,
}


def _as_type(spec: Any, where: str) -> ValueType:
    if isinstance(spec, ValueType):
        return spec
    if isinstance(spec, str):
        try:
            return ValueType(spec.lower())
        except ValueError:
            pass
    elif spec in _PY_TYPES:
        return _PY_TYPES[spec]
    allowed = ", ".join(t.value for t in ValueType)
    raise TypeError(f"{where}: unknown type {spec!r}; expected one of {allowed} or a Python type")


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A registered callable and its declared interface."""

    name: str
    kind: FlowKind
    fn: Callable[..., Any]
    inputs: Mapping[str, ValueType] = field(default_factory=dict)
    outputs: Mapping[str, ValueType] = field(default_factory=dict)
    description: str = ""


class Registry:
    """Name -> FlowSpec. `orchlab.definition.registry.registry` is the default one."""

    def __init__(self) -> None:
        self._specs: dict[str, FlowSpec] = {}

    def add(
        self,
        name: str,
        fn: Callable[..., Any],
        kind: FlowKind | str = FlowKind.FLOW,
        *,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> FlowSpec:
        kind = FlowKind(kind)
        where = f"{kind.value} {name!r}"
        spec = FlowSpec(
            name=name,
            kind=kind,
            fn=fn,
            inputs={k: _as_type(v, f"{where} input {k!r}") for k, v in (inputs or {}).items()},
            outputs={k: _as_type(v, f"{where} output {k!r}") for k, v in (outputs or {}).items()},
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
        )
        self._specs[name] = spec  # re-registering replaces: handy when a notebook cell is re-run
        return spec

    def _decorator(self, kind: FlowKind, name: str | None, **kw: Any) -> Callable[..., Any]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add(name or fn.__name__, fn, kind, **kw)
            return fn

        return register

    def flow(
        self,
        name: str | None = None,
        *,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Callable[..., Any]:
        """Register an autolaunched flow: called with keyword inputs, returns a dict of outputs."""
        return self._decorator(FlowKind.FLOW, name, inputs=inputs, outputs=outputs)

    def evaluation(
        self, name: str | None = None, *, inputs: Mapping[str, Any] | None = None
    ) -> Callable[..., Any]:
        """Register an evaluation flow: called with keyword inputs, returns a bool."""
        return self._decorator(FlowKind.EVALUATION, name, inputs=inputs)

    def action(
        self,
        name: str | None = None,
        *,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Callable[..., Any]:
        """Register an outbound action for external steps (the MuleSoft step's counterpart)."""
        return self._decorator(FlowKind.ACTION, name, inputs=inputs, outputs=outputs)

    def get(self, name: str) -> FlowSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(
                f"no flow, evaluation flow or action named {name!r} is registered"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[FlowSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)


registry = Registry()
flow = registry.flow
evaluation = registry.evaluation
action = registry.action
