"""Asynchronous background and external steps: started in one call, finished in a later one.

Salesforce runs such steps after the transaction that started them; here a step declared
`asynchronous=True` starts (InProgress, its inputs kept in the log) and waits. A worker
(`run_step`: calls its flow now), an outside system (`finish_step`: reports outputs or an
error), or a simulation's clock finishes it; then the run moves on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from orchlab.definition.model import ExternalStep
from orchlab.definition.registry import FlowKind
from orchlab.engine.arguments import data_arg, name_arg, text_arg
from orchlab.engine.evaluate import AUTOMATED, StepFailed, step_outputs
from orchlab.engine.state import Run, StageRun, StepRun
from orchlab.engine.status import RunStatus, Status
from orchlab.engine.work import WorkItems
from orchlab.errors import EngineError, NotFound
from orchlab.people.rights import Right, require

__all__ = ["AsyncSteps", "WaitingStep"]


class WaitingStep(NamedTuple):
    """An asynchronous step that started and has yet to finish."""

    run_id: str
    stage: str
    step: str
    started: dt.datetime | None


class AsyncSteps(WorkItems):
    """A part of `Engine`: the steps that finish after the call that started them."""

    def waiting_steps(self) -> list[WaitingStep]:
        """Every asynchronous step still running, oldest first."""
        found = [
            WaitingStep(run.id, run.stage.name, step.name, step.started)
            for run in self.state.runs.values()
            if run.stage is not None
            for step in run.stage.steps.values()
            if step.pending is not None and step.status is Status.IN_PROGRESS
        ]
        return sorted(found, key=lambda w: (w.started or dt.datetime.min, w.run_id))

    def _waiting(self, run_id: str, step_name: str, call: str) -> tuple[Run, StageRun, StepRun]:
        name_arg(run_id, call, "run_id")
        name_arg(step_name, call, "step")
        run = self.state.runs.get(run_id)
        if run is None:
            raise NotFound(f"{call}: run {run_id!r} is not open (or does not exist)")
        stage = run.stage
        step = stage.steps.get(step_name) if stage is not None else None
        if step is None or step.pending is None or step.status is not Status.IN_PROGRESS:
            waiting = [w.step for w in self.waiting_steps() if w.run_id == run_id]
            raise EngineError(
                f"{call}: step {step_name!r} of run {run_id!r} is not an asynchronous step "
                f"waiting to finish; waiting: {waiting or 'none'}"
            )
        return run, stage, step  # type: ignore[return-value]

    def run_step(self, run_id: str, step_name: str, *, by: str) -> Run:
        """Run a waiting step's flow (or action) now, as the worker that finishes it."""
        require(self.directory, by, Right.STEPS)
        run, stage_run, step_run = self._waiting(run_id, step_name, "run_step")
        plan = run.plan
        step = plan.steps[step_name]
        stage = plan.elements[stage_run.name]
        where = f"step {step_name!r}"
        with self._call():
            try:
                if isinstance(step, ExternalStep):
                    result = self._call_flow(
                        step.action, FlowKind.ACTION, step_run.pending or {}, where, step.timeout
                    )
                else:
                    result = self._call_flow(
                        step.flow,  # type: ignore[union-attr]
                        FlowKind.FLOW,
                        step_run.pending or {},
                        where,
                    )
                outputs = step_outputs(result, where)
            except StepFailed as exc:
                self._fail_step(plan, run, stage_run, stage, step, str(exc))  # type: ignore[arg-type]
            else:
                self._complete_step(run, stage_run, step_run, step, outputs, AUTOMATED)
            if run.status is RunStatus.IN_PROGRESS:
                self._advance(run)
        return run

    def finish_step(
        self,
        run_id: str,
        step_name: str,
        outputs: Mapping[str, Any] | None = None,
        *,
        error: str | None = None,
        by: str,
    ) -> Run:
        """Report the outcome of a waiting step from outside (a callback): its outputs, or
        an `error` that fails it (the stage's fault path, or the run goes to Error)."""
        require(self.directory, by, Right.STEPS)
        run, stage_run, step_run = self._waiting(run_id, step_name, "finish_step")
        call = f"finish_step {run_id} {step_name}"
        values = data_arg(outputs, call, "outputs")
        message = text_arg(error, call, "error")
        plan = run.plan
        step = plan.steps[step_name]
        with self._call():
            if message is not None:
                stage = plan.elements[stage_run.name]
                self._fail_step(plan, run, stage_run, stage, step, f"step {step_name!r}: {message}")  # type: ignore[arg-type]
            else:
                self._complete_step(run, stage_run, step_run, step, values, by)
            if run.status is RunStatus.IN_PROGRESS:
                self._advance(run)
        return run
