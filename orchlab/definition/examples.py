"""The four processes every piece of orchlab is tested on, with the flows they call.

Importing this module registers the example flows in the default registry, so the
examples validate and run out of the box.

    >>> from orchlab.definition.examples import EXAMPLES
    >>> sorted(EXAMPLES)
    ['case_escalation', 'customer_qa_survey', 'employee_onboarding', 'loan']
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from orchlab.definition.builder import (
    assignee_from,
    background,
    decision,
    external,
    group,
    interactive,
    on_record,
    orchestration,
    outcome,
    queue,
    ref,
    screen,
    stage,
    user,
    var,
)
from orchlab.definition.conditions import cond
from orchlab.definition.model import Field, Notification, Orchestration
from orchlab.definition.registry import registry

__all__ = [
    "customer_qa_survey",
    "case_escalation",
    "loan",
    "employee_onboarding",
    "EXAMPLES",
    "ESCALATION_THRESHOLD",
    "LOAN_THRESHOLD",
]

RECORD_ID = ref("$Record.Id")
ESCALATION_THRESHOLD = 1000  # same rule as the BPMN anchor: amount > 1000 escalates
LOAN_THRESHOLD = 50_000


# --- flows the examples call ---------------------------------------------------------------------


@registry.flow("get_customer_email", inputs={"record_id": str}, outputs={"email": str})
def get_customer_email(record_id: str) -> dict[str, str]:
    """Look up the customer's email for an installation."""
    return {"email": f"customer+{record_id.lower()}@example.com"}


@registry.flow("send_qa_survey", inputs={"email": str}, outputs={"sent": bool})
def send_qa_survey(email: str) -> dict[str, bool]:
    """Send the QA survey (the outbox records the email; this flow only says it went)."""
    return {"sent": "@" in email}


@registry.flow("score_case", inputs={"amount": float}, outputs={"score": float})
def score_case(amount: float) -> dict[str, float]:
    """Severity score, as in the BPMN anchor: min(100, amount / 25)."""
    return {"score": min(100, int((amount or 0) / 25))}


@registry.flow("notify_customer", inputs={"case_id": str}, outputs={"notified": bool})
def notify_customer(case_id: str) -> dict[str, bool]:
    """Tell the customer the case is being worked on."""
    return {"notified": bool(case_id)}


@registry.flow("check_credit", inputs={"applicant": str}, outputs={"credit_score": float})
def check_credit(applicant: str) -> dict[str, float]:
    """A deterministic stand-in for a credit bureau call."""
    return {"credit_score": 300 + sum(map(ord, applicant)) % 550}


@registry.action(
    "disburse_funds", inputs={"applicant": str, "amount": Decimal}, outputs={"transfer_id": str}
)
def disburse_funds(applicant: str, amount: Decimal) -> dict[str, str]:
    """The bank transfer; refuses non-positive amounts (the loan's fault path)."""
    if amount is None or Decimal(str(amount)) <= 0:
        raise ValueError(f"cannot disburse {amount!r} to {applicant}")
    return {"transfer_id": f"TX-{applicant[:3].upper()}-{int(Decimal(str(amount)))}"}


@registry.flow("send_welcome_letter", inputs={"applicant": str}, outputs={"sent": bool})
def send_welcome_letter(applicant: str) -> dict[str, bool]:
    """Mail the loan welcome letter."""
    return {"sent": True}


@registry.flow("send_welcome_pack", inputs={"employee_id": str}, outputs={"sent": bool})
def send_welcome_pack(employee_id: str) -> dict[str, bool]:
    """Email the new hire their first-day pack."""
    return {"sent": True}


# --- 1. Customer QA survey -----------------------------------------------------------------------


def customer_qa_survey() -> Orchestration:
    """After an installation: survey the customer; roof and electro reviews in parallel."""
    review = [
        Field("passed", "checkbox", "Installation passes review", default=False),
        Field("notes", "long_text", "Findings", max_length=2000),
    ]
    return orchestration(
        "Customer_QA_Survey",
        stage(
            "QA",
            background(
                "Get_customer_email",
                "get_customer_email",
                label="Get customer email",
                inputs={"record_id": RECORD_ID},
            ),
            background(
                "Notify_customer",
                "send_qa_survey",
                label="Notify customer of QA survey",
                inputs={"email": ref("Get_customer_email.Outputs.email")},
                after="Get_customer_email",
            ),
            interactive(
                "Roof_review",
                "roof_review",
                queue("Roof_Technicians"),
                label="Technical roof review",
                context=RECORD_ID,
                notify=Notification(
                    "Roof review for {!$Record.Name}", "Please review the roof of {!$Record.Name}."
                ),
            ),
            interactive(
                "Electro_review",
                "electro_review",
                queue("Electricians"),
                label="Technical electro review",
                context=RECORD_ID,
                notify=Notification("Electro review for {!$Record.Name}"),
            ),
            label="Quality assurance",
        ),
        label="Customer QA Survey",
        description="Survey the customer and review the installation after it is completed.",
        start=on_record(
            "Installation__c", "update", [("$Record.Status", "equals", "Completed")], True
        ),
        screens=[
            screen("roof_review", *review, label="Roof review"),
            screen("electro_review", *review, label="Electro review"),
        ],
    )


# --- 2. Case escalation --------------------------------------------------------------------------


def case_escalation() -> Orchestration:
    """Severity spike: Triage -> (Escalation if amount > 1000) -> Work -> Close."""
    done = Field("resolution", "text", "What was done", required=True, max_length=255)
    return orchestration(
        "Case_Escalation",
        stage(
            "Triage",
            background(
                "Score", "score_case", label="Score case", inputs={"amount": ref("$Record.Amount")}
            ),
            interactive(
                "Triage_review",
                "triage_form",
                queue("Support_Tier2"),
                label="Triage review",
                after="Score",
                inputs={"score": ref("Score.Outputs.score")},
                context=RECORD_ID,
                notify=Notification(
                    "Case {!$Record.CaseNumber} needs triage", "Severity spiked to High."
                ),
            ),
        ),
        decision(
            "Amount_check",
            outcome(
                "Large_amount",
                cond("$Record.Amount", "greater_than", ESCALATION_THRESHOLD),
                "Escalation",
                label="Amount over 1000",
            ),
            default="Work",
            default_label="Standard",
            label="Amount check",
        ),
        stage(
            "Escalation",
            interactive(
                "Escalation_review",
                "escalation_form",
                user("dana"),
                label="Escalation review",
                context=RECORD_ID,
            ),
        ),
        stage(
            "Work",
            interactive(
                "Engineering_fix",
                "work_form",
                queue("Engineering"),
                label="Engineering investigates",
                context=RECORD_ID,
            ),
            interactive(
                "CSM_outreach",
                "work_form",
                group("Customer_Success"),
                label="Customer success reaches out",
                context=RECORD_ID,
            ),
            background(
                "Notify", "notify_customer", label="Notify customer", inputs={"case_id": RECORD_ID}
            ),
        ),
        stage(
            "Close",
            interactive(
                "Confirm_close",
                "close_form",
                assignee_from("$Record.Owner"),
                label="Confirm close",
                context=RECORD_ID,
            ),
        ),
        label="Case escalation",
        description="When a case's severity becomes High: triage, escalate big ones, work, close.",
        start=on_record(
            "Case", "update", [("$Record.Severity", "equals", "High")], only_when_changed=True
        ),
        screens=[
            screen(
                "triage_form",
                Field(
                    "priority", "picklist", "Priority", required=True, choices=("P1", "P2", "P3")
                ),
                Field("notes", "long_text", "Notes"),
                label="Triage",
            ),
            screen(
                "escalation_form",
                Field("approved", "checkbox", "Escalation approved", default=True),
                label="Escalation",
            ),
            screen("work_form", done, label="Work done"),
            screen(
                "close_form",
                Field("satisfied", "checkbox", "Customer satisfied", default=True),
                label="Close case",
            ),
        ],
    )


# --- 3. Loan -------------------------------------------------------------------------------------


def loan() -> Orchestration:
    """Intake -> amount decision (Escalation over 50,000) -> Approval -> Funding (+ fault path)."""
    return orchestration(
        "Loan",
        stage(
            "Intake",
            background(
                "Check_credit",
                "check_credit",
                label="Check credit",
                inputs={"applicant": ref("applicant")},
            ),
            interactive(
                "Collect_documents",
                "documents_form",
                queue("Loan_Officers"),
                label="Collect documents",
                context=ref("application_id"),
            ),
        ),
        decision(
            "Amount_decision",
            outcome(
                "Over_threshold",
                cond("amount", "greater_than", LOAN_THRESHOLD),
                "Escalation",
                label="Over 50,000",
            ),
            default="Approval",
            default_label="Standard",
            label="Requested amount",
        ),
        stage(
            "Escalation",
            interactive(
                "Senior_review",
                "approval_form",
                group("Senior_Underwriters"),
                label="Senior underwriter review",
                context=ref("application_id"),
            ),
        ),
        stage(
            "Approval",
            interactive(
                "Approve_loan",
                "approval_form",
                queue("Underwriting"),
                label="Approve loan",
                inputs={"credit_score": ref("Check_credit.Outputs.credit_score")},
                context=ref("application_id"),
            ),
        ),
        decision(
            "Approved_check",
            outcome(
                "Approved",
                cond("Approve_loan.Outputs.approved", "equals", True),
                "Funding",
                label="Approved",
            ),
            default=None,
            default_label="Declined",
            label="Approved?",
        ),
        stage(
            "Funding",
            external(
                "Disburse",
                "disburse_funds",
                label="Disburse funds",
                inputs={"applicant": ref("applicant"), "amount": ref("amount")},
                timeout=10.0,
            ),
            background(
                "Welcome_letter",
                "send_welcome_letter",
                label="Send welcome letter",
                inputs={"applicant": ref("applicant")},
                after="Disburse",
            ),
            on_fault="Funding_recovery",
        ),
        branches=[
            [
                stage(
                    "Funding_recovery",
                    interactive(
                        "Resolve_funding",
                        "recovery_form",
                        user("olivia"),
                        label="Resolve funding failure",
                        context=ref("application_id"),
                    ),
                    label="Funding recovery",
                )
            ]
        ],
        label="Loan",
        description="Intake, an escalation for large amounts, approval and funding.",
        variables=[
            var("application_id", "text", input=True),
            var("applicant", "text", input=True),
            var("amount", "currency", input=True),
        ],
        screens=[
            screen(
                "documents_form",
                Field("documents_complete", "checkbox", "All documents received", required=True),
                Field("income", "currency", "Verified yearly income", min=0),
                label="Documents",
            ),
            screen(
                "approval_form",
                Field("approved", "checkbox", "Approve", default=False),
                Field("comments", "long_text", "Comments"),
                label="Approval",
            ),
            screen(
                "recovery_form",
                Field("action", "picklist", "Action", required=True, choices=("Retry", "Cancel")),
                label="Funding recovery",
            ),
        ],
    )


# --- 4. Employee onboarding ----------------------------------------------------------------------


def employee_onboarding() -> Orchestration:
    """IT, the manager, facilities and HR do their part; rejected paperwork loops back to HR."""
    emp = ref("$Record.Id")
    return orchestration(
        "Employee_Onboarding",
        stage(
            "Prepare",
            interactive(
                "Provision_accounts",
                "it_form",
                queue("IT_Service_Desk"),
                label="IT provisions accounts",
                context=emp,
            ),
            interactive(
                "Assign_buddy",
                "buddy_form",
                queue("People_Managers"),
                label="Manager assigns a buddy",
                context=emp,
            ),
            interactive(
                "Set_up_desk",
                "desk_form",
                queue("Facilities"),
                label="Facilities sets up a desk",
                context=emp,
            ),
            label="Prepare first day",
        ),
        stage(
            "HR_Paperwork",
            interactive(
                "Confirm_paperwork",
                "paperwork_form",
                queue("HR_Operations"),
                label="HR confirms paperwork",
                context=emp,
                notify=Notification("Paperwork for {!$Record.Name}", "Please check the contract."),
            ),
            label="HR paperwork",
        ),
        decision(
            "Paperwork_check",
            outcome(
                "Rejected",
                cond("Confirm_paperwork.Outputs.status", "equals", "Rejected"),
                "HR_Paperwork",
                goto=True,
                label="Paperwork rejected",
            ),
            default_label="Accepted",
            label="Paperwork OK?",
        ),
        stage(
            "Welcome",
            background(
                "Send_welcome_pack",
                "send_welcome_pack",
                label="Send welcome pack",
                inputs={"employee_id": emp},
            ),
        ),
        label="Employee onboarding",
        description="Get a new hire's accounts, buddy, desk and paperwork ready.",
        start=on_record("Employee__c", "create"),
        screens=[
            screen(
                "it_form", Field("username", "text", "Username", required=True), label="Accounts"
            ),
            screen("buddy_form", Field("buddy", "text", "Buddy", required=True), label="Buddy"),
            screen(
                "desk_form",
                Field("desk", "text", "Desk", required=True, regex=r"[A-Z]-\d{3}"),
                label="Desk",
            ),
            screen(
                "paperwork_form",
                Field(
                    "status",
                    "picklist",
                    "Paperwork",
                    required=True,
                    choices=("Accepted", "Rejected"),
                ),
                Field("reason", "text", "Why rejected"),
                label="Paperwork",
            ),
        ],
    )


EXAMPLES: dict[str, Callable[[], Orchestration]] = {
    "customer_qa_survey": customer_qa_survey,
    "case_escalation": case_escalation,
    "loan": loan,
    "employee_onboarding": employee_onboarding,
}
