"""Placeholder flows and forms for what a file only names, and binding real functions."""

from __future__ import annotations

import pytest

from orchlab.definition.model import Field, FieldKind, Screen
from orchlab.definition.registry import FlowKind, Registry
from orchlab.definition.values import ValueType
from orchlab.salesforce import Placeholder, bind, load, placeholder_registry, placeholder_screens
from tests.salesforce.conftest import FIXTURES, corpus

CLAIMS = FIXTURES / "Claims_Synthetic.flow-meta.xml"


def test_each_named_flow_gets_the_inputs_passed_and_outputs_read() -> None:
    registry = load(CLAIMS).registry
    kinds = {spec.name: spec.kind for spec in registry}
    assert kinds == {
        "Score_Claim": FlowKind.FLOW,
        "Partner_Claims_API": FlowKind.ACTION,
        "Approval_Recorded": FlowKind.EVALUATION,
        "Pay_Claim": FlowKind.FLOW,
        "Funds_Available": FlowKind.EVALUATION,
        "Payout_Confirmed": FlowKind.EVALUATION,
        "Archive_Claim": FlowKind.FLOW,
    }
    score = registry.get("Score_Claim")
    assert dict(score.inputs) == {"claimId": ValueType.ANY}
    # read as Score.Outputs.score and .amount, and mapped by outputParameters
    assert set(score.outputs) == {"score", "amount"}
    assert dict(registry.get("Partner_Claims_API").inputs) == {"score": ValueType.ANY}
    assert "placeholder" in score.description


def test_placeholders_return_nothing_and_say_yes_until_told_otherwise() -> None:
    registry = load(CLAIMS).registry
    score, check = registry.get("Score_Claim").fn, registry.get("Funds_Available").fn
    assert isinstance(score, Placeholder) and isinstance(check, Placeholder)
    assert score(claimId="a1") == {"score": None, "amount": None}
    assert check(claimId="a1") is True
    score.returns = {"score": 7, "amount": 12_000}
    check.returns = False
    assert score(claimId="a2") == {"score": 7, "amount": 12_000} and check() is False
    assert score.calls == [{"claimId": "a1"}, {"claimId": "a2"}]


def test_forms_have_a_field_per_output_read_typed_by_comparison() -> None:
    orch = load(CLAIMS).orchestration
    review = orch.screen("Review_Claim_Screen")
    assert review == Screen("Review_Claim_Screen", (Field("complete", FieldKind.CHECKBOX),))
    recruiting = load(corpus("Recruiting_Orchestration_v6")).orchestration
    fields = {s.name: [(f.name, f.kind) for f in s.fields] for s in recruiting.screens}
    assert fields["Recruiter_Phone_Screen"] == [("varReviewScore", FieldKind.NUMBER)]
    assert fields["Enter_Job_Application"] == [  # in the order the path reads them
        ("varCandidateId", FieldKind.TEXT),
        ("varJobApplicationId", FieldKind.TEXT),
    ]
    assert fields["Create_and_Email_Offer"] == []  # nothing reads its outputs
    assert placeholder_screens(recruiting) == recruiting.screens


def test_binding_keeps_the_declared_interface() -> None:
    registry = load(CLAIMS).registry
    spec = bind(registry, "Score_Claim", lambda claimId: {"score": 1, "amount": 2})
    assert spec.fn(claimId="x") == {"score": 1, "amount": 2}
    assert set(spec.outputs) == {"score", "amount"} and spec.kind is FlowKind.FLOW
    with pytest.raises(KeyError, match="no flow, evaluation flow or action named 'Nope'"):
        bind(registry, "Nope", lambda: None)


def test_a_base_registry_keeps_its_real_functions() -> None:
    orch = load(CLAIMS).orchestration
    base = Registry()
    base.add("Archive_Claim", lambda claimId: {}, inputs={"claimId": str})
    registry = placeholder_registry(orch, base=base)
    assert not isinstance(registry.get("Archive_Claim").fn, Placeholder)
    assert dict(registry.get("Archive_Claim").inputs) == {"claimId": ValueType.TEXT}
    assert isinstance(registry.get("Pay_Claim").fn, Placeholder)
    assert "Archive_Claim" in base and "Pay_Claim" not in base  # the base is not changed
