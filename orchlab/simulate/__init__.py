"""Many runs on a virtual clock: what-if simulation, and the demo world.

Drives `orchlab.engine`; imports nothing above it (no render or UI). `simulate` runs a
scenario on definitions alone or on an engine with its people; `compare` runs variants on
the same arrivals.

    >>> from orchlab.definition.examples import loan
    >>> from orchlab.simulate import simulate, scenario_for
    >>> sim = simulate([loan()], scenario_for([loan()], per_day=5, days=2))
    >>> sim.report.started > 0
    True
"""

from orchlab.simulate.compare import Variant, compare, measures, more_people
from orchlab.simulate.run import Simulation, scenario_for, simulate
from orchlab.simulate.scenario import (
    Arrivals,
    Dist,
    Duration,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
)
from orchlab.simulate.simulator import SimulationReport

__all__ = [
    "Arrivals",
    "Dist",
    "Duration",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SimulationReport",
    "Variant",
    "compare",
    "load_scenario",
    "measures",
    "more_people",
    "scenario_for",
    "scenario_from_dict",
    "simulate",
]
