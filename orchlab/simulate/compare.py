"""What-if: the same arrivals through variants of a process, side by side.

    variants = {"one more underwriter": Variant(scenario=more_people(scenario, "Underwriting"))}
    compare(orchestrations, scenario, variants)

Each variant runs in its own in-memory history with the scenario's seed, so arrivals (and
the data they carry) are identical; only what the variant changes differs. The table has a
row per measure, a column per variant, and the change against the baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from orchlab.definition.model import Orchestration
from orchlab.simulate.run import Simulation, simulate
from orchlab.simulate.scenario import Scenario

__all__ = ["Variant", "compare", "more_people", "measures"]

BASELINE = "baseline"


@dataclass(frozen=True)
class Variant:
    """What differs from the baseline: other definitions (a new version) and/or a scenario."""

    orchestrations: tuple[Orchestration, ...] | None = None
    scenario: Scenario | None = None


def more_people(scenario: Scenario, team: str, n: int = 1) -> Scenario:
    """The scenario with `n` more people in a group or queue."""
    extra = {**scenario.people.extra, team: scenario.people.extra.get(team, 0) + n}
    return dataclasses.replace(scenario, people=dataclasses.replace(scenario.people, extra=extra))


def measures(sim: Simulation) -> dict[str, float]:
    """The figures a comparison shows, from the simulated history (through the store's SQL)."""
    store, end = sim.store, sim.engine.clock.now()
    started, completed, canceled, still_open = store.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'Completed'), "
        "count(*) FILTER (WHERE status = 'Canceled'), "
        "count(*) FILTER (WHERE status IN ('InProgress', 'Suspended', 'Error')) FROM runs"
    )[0]
    median, p90 = store.execute(
        "SELECT quantile_disc(duration, 0.5) / 3600, quantile_disc(duration, 0.9) / 3600 "
        "FROM runs WHERE status = 'Completed'"
    )[0]
    waiting = store.execute(
        "SELECT quantile_disc(duration, 0.5) / 3600 FROM work_items WHERE completed_by IS NOT NULL"
    )[0][0]
    stalled = store.execute(
        "SELECT count(*) FROM runs WHERE status = 'InProgress' AND last_modified_date < ?",
        [end - dt.timedelta(days=3)],
    )[0][0]
    backlog = store.execute("SELECT count(*) FROM work_items WHERE status = 'Assigned'")[0][0]
    weeks = max(sim.scenario.days / 7, 1 / 7)
    return {
        "runs started": started,
        "runs completed": completed,
        "completed per week": round(completed / weeks, 1),
        "runs canceled": canceled,
        "runs open at the end": still_open,
        "stalled (no progress for 3 days)": stalled,
        "open work items at the end": backlog,
        "median run hours (completed)": _round(median),
        "p90 run hours (completed)": _round(p90),
        "median hours a work item waits": _round(waiting),
    }


def _round(value: float | None) -> float:
    return float("nan") if value is None else round(float(value), 1)


def compare(
    orchestrations: Iterable[Orchestration],
    scenario: Scenario,
    variants: Mapping[str, Variant],
    *,
    baseline: Simulation | None = None,
) -> pd.DataFrame:
    """Measures of the baseline and each variant, and each variant's change against it.

    `baseline`: a simulation of `scenario` already run (it is not run again).
    """
    base = list(orchestrations)
    results = {BASELINE: measures(baseline or simulate(base, scenario))}
    for name, variant in variants.items():
        orchs = list(variant.orchestrations) if variant.orchestrations is not None else base
        results[name] = measures(simulate(orchs, variant.scenario or scenario))
    table = pd.DataFrame(results)
    for name in variants:
        table[f"{name}: change"] = table[name] - table[BASELINE]
    table.index.name = "measure"
    return table
