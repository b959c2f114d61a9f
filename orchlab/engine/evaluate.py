"""Evaluation: how a run moves, stage by stage, to a fixpoint within one engine call."""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    Decision,
    End,
    EvaluationFlow,
    ExternalStep,
    InteractiveStep,
    OnStageStart,
    Requirements,
    Stage,
    Step,
)
from orchlab.definition.registry import FlowKind, Registry
from orchlab.definition.values import check_data
from orchlab.engine.plan import Plan, Scope
from orchlab.engine.state import Row, Run, StageRun, State, StepRun
from orchlab.engine.status import Kind, RunStatus, Status, WorkItemStatus

__all__ = ["AUTOMATED", "Evaluation", "StepFailed", "step_outputs"]

_new_row = tuple.__new__

# Outbound actions run in threads so a timeout can be enforced (a hung call is abandoned).
_EXECUTOR: cf.ThreadPoolExecutor | None = None


def _executor() -> cf.ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = cf.ThreadPoolExecutor(max_workers=4, thread_name_prefix="orchlab-action")
    return _EXECUTOR


class StepFailed(Exception):
    """A flow, action or evaluation failed: the step goes to Error (or the fault path)."""


AUTOMATED = "automated-process"  # the actor of background and external steps (Salesforce's)


def step_outputs(result: Any, where: str) -> dict[str, Any]:
    """A flow's result as step outputs: a mapping of run data the history can keep as it is."""
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise StepFailed(
            f"{where}: the flow returned a {type(result).__name__}; expected a mapping of "
            "output names to values (or None)"
        )
    outputs = dict(result)
    try:
        check_data(outputs, "outputs")
    except ValueError as error:
        raise StepFailed(f"{where}: {error}") from None
    return outputs


class Evaluation:
    """The evaluation loop: a part of `Engine`, kept in its own module.

    It reads and changes runs only through `_emit` (a log row, applied to `state`).
    """

    state: State
    registry: Registry
    max_visits: int
    _now: dt.datetime
    _emit: Callable[..., Row]
    _pending: list[Row]

    if TYPE_CHECKING:  # defined in orchlab.engine.work, the other half of the same Engine

        def _create_work_item(
            self,
            plan: Plan,
            run: Run,
            stage_run: StageRun,
            step: InteractiveStep,
            scope: Scope,
            inputs: dict[str, Any],
        ) -> None: ...

        def _end_interactive(
            self,
            run: Run,
            stage_run: StageRun,
            step: InteractiveStep,
            user: str | None,
            values: dict[str, Any],
            comments: str | None = None,
        ) -> None: ...

    def _emit_step(
        self,
        kind: str,
        run: Run,
        stage_run: StageRun,
        step_run: StepRun,
        status: str,
        work_item_id: str | None = None,
        actor: str | None = None,
        assignee: str | None = None,
        assignee_type: str | None = None,
        context: str | None = None,
        duration: float | None = None,
        comments: str | None = None,
        payload: Any = None,
    ) -> None:
        """`_emit` for a step's row; most rows are, so it builds the row without keywords."""
        state = self.state
        state.seq += 1
        row = _new_row(
            Row,
            (state.seq, self._now, kind, run.id, run.name, run.version, stage_run.id,
             stage_run.name, step_run.id, step_run.name, work_item_id, status, actor, assignee,
             assignee_type, context, duration, comments, payload),
        )  # fmt: skip
        state.apply(row)
        self._pending.append(row)

    def _advance(
        self, run: Run, changed: frozenset[str] = frozenset(), *, flows: bool = True
    ) -> None:
        """Drive a run until it waits for a person, an event, or ends.

        `flows=False` (a record changed): requirements are re-checked but evaluation flows are
        not called, as in Salesforce, where they run on step completion and on an event.
        """
        plan = run.plan
        scope = Scope(plan, run, self.state.records, changed)
        scope.flows = flows
        in_progress = RunStatus.IN_PROGRESS
        while run.status is in_progress:
            stage_run = run.stage
            if stage_run is None:
                scope.flows = True  # a new stage starts: everything of it is asked
                if not self._enter_next(plan, run, scope):
                    return
            elif stage_run.status is not Status.IN_PROGRESS or not self._evaluate_stage(
                plan, run, stage_run, scope
            ):
                return

    def _enter_next(self, plan: Plan, run: Run, scope: Scope) -> bool:
        name = run.next_element
        element = plan.elements.get(name) if name else None
        if element is None or isinstance(element, End):
            duration = (self._now - run.started).total_seconds()
            end = {"end": element.name} if element is not None else None  # an explicit End
            self._emit(
                Kind.END_INSTANCE, run, status=RunStatus.COMPLETED, duration=duration, payload=end
            )
            return False
        if run.visits.get(element.name, 0) >= self.max_visits:
            loop = " -> ".join([*run.path[-6:], element.name])
            self._fail_run(
                run,
                f"Go To loop stopped: element {element.name!r} was entered "
                f"{self.max_visits} times (path {loop}); raise max_visits or fix "
                "the loop's exit condition",
            )
            return False
        if isinstance(element, Decision):
            chosen, target = None, element.default
            for outcome in element.outcomes:
                if plan.check(outcome.conditions, scope):
                    chosen, target = outcome.name, outcome.next
                    break
            self._emit(
                Kind.TAKE_OUTCOME,
                run,
                status="Completed",
                comments=chosen,
                payload=(
                    {
                        "decision": element.name,
                        "outcome": chosen,
                        "next": target.target if target else None,
                    }
                ),
            )
            return True
        self._start_stage(plan, run, element)
        return True

    def _start_stage(self, plan: Plan, run: Run, stage: Stage) -> None:
        self._emit(
            Kind.START_STAGE,
            run,
            stage_instance_id=f"{run.id}-S{run.stage_count + 1}",
            stage_name=stage.name,
            status=Status.IN_PROGRESS,
            payload=plan.stage_payload[stage.name],
        )

    def _evaluate_stage(self, plan: Plan, run: Run, stage_run: StageRun, scope: Scope) -> bool:
        """One pass over the current stage; True if another pass could move something more."""
        stage: Stage = plan.elements[stage_run.name]  # type: ignore[assignment]
        moved = False
        waiting = False  # a step that has yet to start, or whose exit is still to be met
        not_started, in_progress = Status.NOT_STARTED, Status.IN_PROGRESS
        step_runs = stage_run.steps
        for step, watch_exit in plan.stage_steps[stage.name]:
            status = step_runs[step.name].status
            try:
                if status is not_started:
                    if self._entry_holds(plan, step, stage_run, scope):
                        self._start_step(plan, run, stage_run, step, scope)
                        moved = True
                    else:
                        waiting = True
                elif watch_exit and status is in_progress:
                    if self._rule_holds(plan, step.exit, scope, f"step {step.name!r} exit"):  # type: ignore[union-attr]
                        self._end_interactive(run, stage_run, step, None, {})  # type: ignore[arg-type]
                        moved = True
                    else:
                        waiting = True
            except StepFailed as exc:
                self._fail_step(plan, run, stage_run, stage, step, str(exc))
                return run.status is RunStatus.IN_PROGRESS
            if run.stage is not stage_run:
                return True
        if isinstance(stage.exit, AllStepsComplete):
            completed = Status.COMPLETED
            done = all(s.status is completed for s in step_runs.values())
        else:
            try:
                done = self._rule_holds(plan, stage.exit, scope, f"stage {stage.name!r} exit")
            except StepFailed as exc:
                self._fail_stage(plan, run, stage_run, stage, str(exc))
                return run.status is RunStatus.IN_PROGRESS
        if done:
            self._close_stage(
                run,
                stage_run,
                Kind.END_STAGE,
                Status.COMPLETED,
                stage.next.target if stage.next else None,
            )
            return True
        # Steps are visited in order, so only a step still waiting can gain from another pass.
        return moved and waiting

    def _entry_holds(self, plan: Plan, step: Step, stage_run: StageRun, scope: Scope) -> bool:
        entry = step.entry
        if isinstance(entry, OnStageStart):
            return True
        if isinstance(entry, AfterSteps):
            steps = stage_run.steps
            return all(steps[name].status is Status.COMPLETED for name in entry.steps)
        return self._rule_holds(plan, entry, scope, f"step {step.name!r} entry")

    def _rule_holds(self, plan: Plan, rule: Any, scope: Scope, where: str) -> bool:
        if isinstance(rule, Requirements):
            try:
                return plan.check(rule.conditions, scope)
            except Exception as exc:
                raise StepFailed(f"{where}: {exc}") from None
        if isinstance(rule, EvaluationFlow):
            if not scope.flows:
                return False  # it said no when last asked; it is asked again on an event
            result = self._call_flow(
                rule.flow, FlowKind.EVALUATION, plan.inputs(rule.inputs, scope), where
            )
            if isinstance(result, Mapping):
                result = result.get("isOrchestrationConditionMet")
            return bool(result)
        return True

    def _call_flow(
        self,
        name: str,
        kind: FlowKind,
        inputs: dict[str, Any],
        where: str,
        timeout: float | None = None,
    ) -> Any:
        try:
            spec = self.registry.get(name)
        except KeyError as exc:
            raise StepFailed(f"{where}: {exc.args[0]}") from None
        try:
            if timeout is None:
                return spec.fn(**inputs)
            future = _executor().submit(spec.fn, **inputs)
            return future.result(timeout=timeout)
        except cf.TimeoutError:
            raise StepFailed(
                f"{where}: {kind.value} {name!r} timed out after {timeout:g} s"
            ) from None
        except Exception as exc:
            raise StepFailed(
                f"{where}: {kind.value} {name!r} raised {type(exc).__name__}: {exc}"
            ) from None

    def _start_step(
        self, plan: Plan, run: Run, stage_run: StageRun, step: Step, scope: Scope
    ) -> None:
        step_run = stage_run.steps[step.name]
        try:
            inputs = plan.inputs(step.inputs, scope)
        except Exception as exc:
            raise StepFailed(f"step {step.name!r} inputs: {exc}") from None
        if isinstance(step, InteractiveStep):
            self._emit_step(Kind.START_STEP, run, stage_run, step_run, Status.IN_PROGRESS)
            self._create_work_item(plan, run, stage_run, step, scope, inputs)
            return
        if step.asynchronous:  # it waits, InProgress, for run_step or finish_step
            payload = {"async": True, "inputs": inputs}
            self._emit_step(
                Kind.START_STEP, run, stage_run, step_run, Status.IN_PROGRESS, payload=payload
            )
            return
        self._emit_step(Kind.START_STEP, run, stage_run, step_run, Status.IN_PROGRESS)
        where = f"step {step.name!r}"
        if isinstance(step, ExternalStep):
            result = self._call_flow(step.action, FlowKind.ACTION, inputs, where, step.timeout)
        else:
            result = self._call_flow(step.flow, FlowKind.FLOW, inputs, where)
        self._complete_step(run, stage_run, step_run, step, step_outputs(result, where), AUTOMATED)

    def _complete_step(
        self,
        run: Run,
        stage_run: StageRun,
        step_run: StepRun,
        step: Step,
        outputs: dict[str, Any],
        actor: str | None,
    ) -> None:
        """EndStep with the step's outputs (and the variables its output map fills)."""
        payload: dict[str, Any] = {"outputs": outputs}
        if step.outputs:
            payload["variables"] = {var: outputs.get(out) for out, var in step.outputs}
        self._emit_step(
            Kind.END_STEP,
            run,
            stage_run,
            step_run,
            Status.COMPLETED,
            actor=actor,
            duration=(self._now - (step_run.started or self._now)).total_seconds(),
            payload=payload,
        )

    # --- errors and admin actions ----------------------------------------------------------------

    def _fail_step(
        self, plan: Plan, run: Run, stage_run: StageRun, stage: Stage, step: Step, message: str
    ) -> None:
        step_run = stage_run.steps[step.name]
        if step_run.status is Status.NOT_STARTED:
            self._emit_step(Kind.START_STEP, run, stage_run, step_run, Status.IN_PROGRESS)
        self._emit_step(Kind.FAIL_STEP, run, stage_run, step_run, Status.ERROR, comments=message)
        self._fail_stage(plan, run, stage_run, stage, message)

    def _fail_stage(
        self, plan: Plan, run: Run, stage_run: StageRun, stage: Stage, message: str
    ) -> None:
        self._stop_steps(run, stage_run)
        handled = stage.on_fault is not None
        self._emit(
            Kind.FAIL_STAGE,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            status=Status.ERROR,
            comments=message,
            payload=(
                {"handled": handled, "next": stage.on_fault.target if stage.on_fault else None}
            ),
        )
        if not handled:
            self._fail_run(run, message)

    def _fail_run(self, run: Run, message: str) -> None:
        self._emit(
            Kind.FAIL_INSTANCE,
            run,
            status=RunStatus.ERROR,
            comments=message,
            duration=(self._now - run.started).total_seconds(),
        )

    def _stop_steps(
        self,
        run: Run,
        stage_run: StageRun,
        kind: str = Kind.DISCONTINUE_STEP,
        status: Status = Status.DISCONTINUED,
    ) -> None:
        """Discontinue running steps; their open work items are closed (Salesforce: Completed)."""
        for step_run in stage_run.steps.values():
            self._close_work_item(run, stage_run, step_run, None, "closed by the system")
            if step_run.status is Status.IN_PROGRESS:
                self._emit_step(kind, run, stage_run, step_run, status)

    def _close_work_item(
        self,
        run: Run,
        stage_run: StageRun,
        step_run: StepRun,
        user: str | None,
        comments: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """EndWorkItem for the step's open work item, if it has one (`user` None: the system)."""
        item = self.state.work_items.get(step_run.work_item or "")
        if item is None or item.status is not WorkItemStatus.ASSIGNED:
            return
        self._emit_step(
            Kind.END_WORK_ITEM,
            run,
            stage_run,
            step_run,
            WorkItemStatus.COMPLETED,
            work_item_id=item.id,
            actor=user,
            assignee=item.assignee,
            assignee_type=item.assignee_type,
            context=item.context,
            duration=(self._now - item.created).total_seconds(),
            comments=comments,
            payload=None if values is None else {"values": values},
        )

    def _close_stage(
        self, run: Run, stage_run: StageRun, kind: str, status: Status, next_element: str | None
    ) -> None:
        self._stop_steps(run, stage_run)
        self._emit(
            kind,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            status=status,
            duration=(self._now - stage_run.started).total_seconds(),
            payload=({"next": next_element}),
        )
