"""The diagram layer: markup -> DOT text (asserted on) -> SVG/PNG/PDF (only checked to exist)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from orchlab.definition.builder import (
    assignee_from,
    background,
    decision,
    evaluate,
    external,
    group,
    interactive,
    on_record,
    orchestration,
    outcome,
    queue,
    stage,
    user,
)
from orchlab.definition.conditions import cond, custom
from orchlab.definition.examples import EXAMPLES, case_escalation, employee_onboarding, loan
from orchlab.definition.model import End, Orchestration
from orchlab.render import (
    STYLES,
    DotMissingWarning,
    RenderError,
    RunPicture,
    markup,
    mimebundle,
    render,
    set_format,
    to_dot,
    to_graph,
)
from orchlab.render import graph as graph_module
from orchlab.render.markup import node_id

HAS_DOT = shutil.which("dot") is not None


def needs_dot(test):
    """Mark a test as drawing with Graphviz's `dot`, and skip it where `dot` is missing."""
    skip = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' program not installed")
    return pytest.mark.needs_dot(skip(test))


def edge_line(dot: str, tail: str, head: str) -> str:
    lines = [line for line in dot.splitlines() if f"{tail} -> {head}" in line]
    assert lines, f"no edge {tail} -> {head} in:\n{dot}"
    return lines[0]


def node_line(dot: str, nid: str) -> str:
    lines = [line for line in dot.splitlines() if line.strip().startswith(f"{nid} [")]
    assert lines, f"no node {nid} in:\n{dot}"
    return lines[0]


def rank_blocks(dot: str) -> list[str]:
    return re.findall(r"\{\s*rank=same(.*?)\}", dot, re.DOTALL)


def step(stage_name: str, step_name: str) -> str:
    return node_id("step", stage_name, step_name)


EXIT_RULE = [("$Record.A", "=", 1), ("$Record.B", "=", 2), ("$Record.C", "is_null", True)]


def eight_stages() -> Orchestration:
    """A synthetic orchestration with 8 (+1 fault) stages and every kind of element and edge."""
    return orchestration(
        "Big_Process",
        stage(
            "Intake",
            background("Load", "load"),
            interactive('Check "quotes" & <tags>', "s", queue("Engineering"), after="Load"),
            external("Ping", "ping", when=[("$Record.Amount", ">", 10)]),
        ),
        stage(
            "Qualify",
            interactive("Qualify_lead", "s", user("ada"), done_when=evaluate("lead_ok")),
            label="Qualify the lead",
            exit=custom(
                "1 AND NOT(2 OR 3)",
                ("$Record.A", "=", 1),
                ("$Record.B", "=", 2),
                ("$Record.C", "is_null", True),
            ),
        ),
        decision(
            "Route",
            outcome("Big", cond("$Record.Amount", ">", 1000), "Review", label="Big deal"),
            outcome("Tiny", cond("$Record.Amount", "<", 10), None, label="Too small"),
            default="Design",
        ),
        stage(
            "Review",
            interactive("Legal", "s", group("Legal")),
            interactive("Finance", "s", queue("Finance")),
            background("Summarize", "summarize", after=["Legal", "Finance"]),
        ),
        stage("Design", background("Draft", "draft"), interactive("Approve", "s", user("bob"))),
        stage(
            "Build",
            external("Provision", "provision"),
            background("Configure", "configure", after="Provision"),
            on_fault="Fix",
        ),
        stage("QA_stage", interactive("QA_check", "s", queue("QA")), label="Quality"),
        decision(
            "QA_ok",
            outcome("Failed", cond("QA_check.Outputs.ok", "=", False), "Build", goto=True),
            default_label="Passed",
        ),
        stage("Launch", background("Announce", "announce"), external("Partner", "notify")),
        stage("Close", interactive("Sign_off", "s", assignee_from("$Record.Owner")), next="Done"),
        End("Done"),
        branches=[
            [stage("Fix", interactive("Fix_it", "s", queue("Eng")), next="Build", goto=True)]
        ],
        start=on_record("Opportunity", "create_or_update", [("$Record.Stage", "=", "Won")]),
    )


# --- no graphviz at import ---------------------------------------------------------------------


def test_importing_orchlab_and_render_loads_no_graphviz_or_ipython():
    code = (
        "import sys, orchlab, orchlab.definition.model, orchlab.definition.examples, "
        "orchlab.render;"
        "bad = {'graphviz', 'IPython'} & set(sys.modules); assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": "."})


def test_markup_is_plain_data():
    m = markup(loan())
    assert [s.name for s in m.stages] == [
        "Intake",
        "Escalation",
        "Approval",
        "Funding",
        "Funding_recovery",
    ]
    assert {"start", "background", "interactive", "external", "decision", "end"} <= m.kinds
    assert {"next", "chain", "outcome", "default", "fault"} <= m.kinds


# --- drawing the definition --------------------------------------------------------------------


def test_step_kinds_get_different_shapes_and_icons():
    dot = to_dot(loan())
    bg = node_line(dot, step("Funding", "Welcome_letter"))
    inter = node_line(dot, step("Intake", "Collect_documents"))
    ext = node_line(dot, step("Funding", "Disburse"))
    assert "⚙" in bg and "shape=box" in bg and "style=filled" in bg
    assert "☺" in inter and "shape=box" in inter and 'style="rounded,filled"' in inter
    assert "⇄" in ext and "shape=component" in ext
    kinds = ("background", "interactive", "external")
    shapes = {(STYLES[k]["default"]["shape"], STYLES[k]["default"]["style"]) for k in kinds}
    assert len(shapes) == 3


def test_interactive_steps_show_their_assignee():
    dot = to_dot(case_escalation())
    for text in (
        "queue: Engineering",
        "user: dana",
        "group: Customer_Success",
        "from: $Record.Owner",
    ):
        assert text in dot


def test_start_node_shows_the_trigger():
    dot = to_dot(case_escalation())
    start = node_line(dot, "start")
    assert "Case" in start and "on update" in start and "$Record.Severity equals 'High'" in start
    auto = node_line(to_dot(loan()), "start")
    assert "Autolaunched" in auto and "application_id, applicant, amount" in auto
    assert dot.index("start [") < dot.index("subgraph cluster_Triage")


def test_stages_are_clusters_in_path_order():
    dot = to_dot(case_escalation())
    found = re.findall(r"subgraph (cluster_\w+)", dot)
    assert found == ["cluster_Triage", "cluster_Escalation", "cluster_Work", "cluster_Close"]


def test_chained_steps_have_an_edge_and_parallel_steps_share_a_rank():
    dot = to_dot(case_escalation())
    chain = edge_line(dot, step("Triage", "Score"), step("Triage", "Triage_review"))
    assert STYLES["chain"]["default"]["color"] in chain
    work = [step("Work", n) for n in ("Engineering_fix", "CSM_outreach", "Notify")]
    assert any(all(n in block for n in work) for block in rank_blocks(dot))
    assert not any(step("Triage", "Score") in b for b in rank_blocks(dot))


def test_decisions_are_diamonds_with_outcome_labels():
    dot = to_dot(case_escalation())
    assert "shape=diamond" in node_line(dot, "decision__Amount_check")
    big = edge_line(dot, "decision__Amount_check", step("Escalation", "Escalation_review"))
    assert "Amount over 1000" in big and "$Record.Amount &gt; 1000" in big
    assert "lhead=cluster_Escalation" in big
    default = edge_line(dot, "decision__Amount_check", step("Work", "CSM_outreach"))
    assert "Standard" in default and STYLES["default"]["default"]["color"] in default


def test_goto_edges_are_dashed_and_do_not_constrain_the_layout():
    dot = to_dot(employee_onboarding())
    line = edge_line(dot, "decision__Paperwork_check", step("HR_Paperwork", "Confirm_paperwork"))
    assert "Go To" in line and "style=dashed" in line and "constraint=false" in line
    assert STYLES["goto"]["default"]["color"] in line


def test_fault_edges_are_red_and_dotted():
    dot = to_dot(loan())
    line = edge_line(
        dot, step("Funding", "Welcome_letter"), step("Funding_recovery", "Resolve_funding")
    )
    assert (
        "fault" in line and "style=dotted" in line and STYLES["fault"]["default"]["color"] in line
    )
    assert "ltail=cluster_Funding " in line and "lhead=cluster_Funding_recovery" in line


def test_end_nodes_for_paths_without_connector_and_explicit_ends():
    dot = to_dot(loan())
    assert "doublecircle" in node_line(dot, "end__implicit")
    assert "Declined" in edge_line(dot, "decision__Approved_check", "end__implicit")
    assert "ltail=cluster_Funding" in edge_line(
        dot, step("Funding", "Welcome_letter"), "end__implicit"
    )
    big = to_dot(eight_stages())
    assert "doublecircle" in node_line(big, "end__Done")
    assert "Too small" in edge_line(big, "decision__Route", "end__implicit")


def test_entry_and_exit_rules_are_noted():
    dot = to_dot(eight_stages())
    assert "starts when: $Record.Amount &gt; 10" in node_line(dot, step("Intake", "Ping"))
    assert "done when: evaluation flow lead_ok" in node_line(dot, step("Qualify", "Qualify_lead"))
    qualify = next(s for s in markup(eight_stages()).stages if s.name == "Qualify")
    assert qualify.notes == (
        "exits when: $Record.A equals 1 AND NOT ($Record.B equals 2 OR $Record.C is null)",
    )
    assert "<I>exits when: $Record.A equals 1 AND NOT" in dot  # long notes wrap


def test_labels_are_escaped_and_ids_are_stable():
    dot = to_dot(eight_stages())
    nid = node_id("step", "Intake", 'Check "quotes" & <tags>')
    assert re.fullmatch(r"step__Intake__Check_quotes_tags_[0-9a-f]{6}", nid)
    assert 'Check "quotes" &amp; &lt;tags&gt;' in node_line(dot, nid)
    assert to_dot(eight_stages()) == dot
    assert node_id("step", "A", "b c") != node_id("step", "A", "b_c")


def test_eight_stage_orchestration_draws_every_stage():
    dot = to_dot(eight_stages(), legend=True)
    assert len(re.findall(r"subgraph cluster_", dot)) == 9
    assert "Legend" in node_line(dot, "legend")


def test_legend_is_off_by_default():
    assert "legend" not in to_dot(loan())


# --- painting a run -----------------------------------------------------------------------------


def picture() -> RunPicture:
    return RunPicture(
        run_status="InProgress",
        element_status={"Triage": "Completed", "Amount_check": "Completed", "Work": "InProgress"},
        step_status={
            "Score": "Completed",
            "Triage_review": "Completed",
            "Engineering_fix": "InProgress",
            "CSM_outreach": "Error",
            "Notify": "Discontinued",
        },
        waiting_on={"Engineering_fix": "queue: Engineering"},
        taken=frozenset({("Triage", "Amount_check"), ("Amount_check", "Work")}),
        title="Run R-0001 · InProgress",
    )


def test_run_picture_paints_nodes_from_the_styles_table():
    dot = to_dot(case_escalation(), picture())
    score = node_line(dot, step("Triage", "Score"))
    assert STYLES["background"]["Completed"]["fillcolor"] in score and "✔" in score
    waiting = node_line(dot, step("Work", "Engineering_fix"))
    assert STYLES["interactive"]["Waiting"]["fillcolor"] in waiting
    assert "waiting on queue: Engineering" in waiting
    assert STYLES["interactive"]["Error"]["fillcolor"] in node_line(
        dot, step("Work", "CSM_outreach")
    )
    notify = node_line(dot, step("Work", "Notify"))
    assert "dashed" in notify and STYLES["background"]["Discontinued"]["fillcolor"] in notify
    untouched = node_line(dot, step("Close", "Confirm_close"))
    assert STYLES["interactive"]["NotStarted"]["fillcolor"] in untouched
    assert "Run R-0001 · InProgress" in dot
    assert STYLES["stage"]["Completed"]["fillcolor"] in dot.split("subgraph cluster_Triage")[1]


def test_run_picture_marks_taken_and_untaken_edges():
    dot = to_dot(case_escalation(), picture())
    went = edge_line(dot, "decision__Amount_check", step("Work", "CSM_outreach"))
    assert f"penwidth={STYLES['default']['taken']['penwidth']}" in went
    not_went = edge_line(dot, "decision__Amount_check", step("Escalation", "Escalation_review"))
    assert STYLES["outcome"]["untaken"]["color"] in not_went
    chain = edge_line(dot, step("Triage", "Score"), step("Triage", "Triage_review"))
    assert STYLES["chain"]["taken"]["color"] in chain


def test_completed_run_paints_the_implicit_end():
    done = RunPicture("Completed", {"Funding": "Completed"}, {}, {}, frozenset())
    dot = to_dot(loan(), done)
    assert STYLES["end"]["Completed"]["fillcolor"] in node_line(dot, "end__implicit")


def test_painted_legend_lists_the_states():
    dot = to_dot(case_escalation(), picture(), legend=True)
    assert "waiting on a person" in dot and "taken by the run" in dot


# --- rendering with dot -------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_renders_to_svg_with_a_title_per_stage(name):
    orch = EXAMPLES[name]()
    bundle = mimebundle(orch)
    root = ET.fromstring(bundle["image/svg+xml"].encode("utf-8"))
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {f"cluster_{s.name}" for s in orch.stages} <= titles
    assert bundle["text/plain"].startswith(f"Orchestration {orch.display_label!r}")


@needs_dot
def test_repr_mimebundle_and_the_eight_stage_diagram_render():
    assert "image/svg+xml" in loan()._repr_mimebundle_()
    svg = graph_module.pipe(to_graph(eight_stages(), legend=True), "svg")
    assert svg.count(b'class="cluster"') == 9


@needs_dot
def test_render_saves_png_pdf_and_svg(tmp_path):
    assert render(loan(), tmp_path / "loan.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert render(loan(), tmp_path / "loan.pdf").read_bytes().startswith(b"%PDF")
    out = render(loan(), tmp_path / "loan.img", format="svg", picture=picture())
    ET.fromstring(out.read_bytes())
    with pytest.raises(ValueError, match="expected a suffix"):
        render(loan(), tmp_path / "loan.gif")


@needs_dot
def test_set_format_png_and_include_exclude():
    old = set_format("png")
    try:
        assert old == "svg"
        bundle = mimebundle(loan())
        assert bundle["image/png"].startswith(b"\x89PNG")
    finally:
        assert set_format(old) == "png"
    assert list(mimebundle(loan(), exclude=["image/svg+xml"])) == ["text/plain"]
    assert list(mimebundle(loan(), include=["image/svg+xml"])) == ["image/svg+xml"]
    with pytest.raises(ValueError):
        set_format("gif")


# --- without dot ------------------------------------------------------------------------------


@pytest.fixture
def no_dot(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(graph_module, "_dot_warned", False)


def test_missing_dot_shows_dot_text_and_warns_once(no_dot):
    with pytest.warns(DotMissingWarning) as caught:
        bundle = mimebundle(loan())
        again = mimebundle(case_escalation())
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message
    assert message == (
        "Graphviz 'dot' program not found: showing DOT text instead. Install it with: "
        "sudo apt-get install graphviz (Debian/Ubuntu) or brew install graphviz (macOS)"
    )
    assert list(bundle) == ["text/plain"]
    assert to_dot(loan()) in bundle["text/plain"] and message in bundle["text/plain"]
    assert "digraph Case_Escalation" in again["text/plain"]


def test_missing_dot_found_by_graphviz_itself(no_dot, monkeypatch):
    # `which` says yes, but running it fails: graphviz.ExecutableNotFound must be caught too.
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: "/usr/bin/dot")
    with pytest.warns(DotMissingWarning):
        bundle = mimebundle(loan())
    assert "digraph Loan" in bundle["text/plain"]


def test_missing_dot_never_raises_even_when_warnings_are_errors(no_dot, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bundle = mimebundle(loan())
    assert "digraph Loan" in bundle["text/plain"]
    assert capsys.readouterr().err.count("Graphviz 'dot' program not found") == 1


def test_render_without_dot_raises_render_error_with_the_hint(no_dot, tmp_path):
    with pytest.raises(RenderError, match="sudo apt-get install graphviz"):
        render(loan(), tmp_path / "loan.svg")
    with pytest.raises(RenderError, match="brew install graphviz"):
        graph_module.require_dot()
    assert not (tmp_path / "loan.svg").exists()


def test_a_failing_dot_shows_the_error_and_dot_text(monkeypatch):
    import graphviz

    def fail(self, *args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], stderr=b"Error: syntax error in line 1")

    monkeypatch.setattr(graph_module.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Digraph, "pipe", fail)
    bundle = mimebundle(loan())
    assert bundle["text/plain"].startswith("// Graphviz 'dot' failed to draw 'Loan'")
    assert "digraph Loan" in bundle["text/plain"]
    with pytest.raises(RenderError, match="syntax error in line 1"):
        graph_module.pipe(to_graph(loan()), "svg")
