# ruff: noqa: E501 - the case tables read best one case to a line
"""Damaged and foreign history files, and bad command lines: refused clearly, nothing changed.

History files: each is made from a real history (or is someone else's DuckDB file, or not a
database at all); opening it must raise an orchlab error naming the problem, and leave every
byte of the file and its sidecars as it was. The command line is run in-process
(`orchlab.cli.main(argv)`): each bad call exits 1 (refused) or 2 (usage) with a message on
stderr that says what was wrong, and the history it names is byte-for-byte unchanged.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from orchlab import OrchlabError
from orchlab.cli import main as cli_main
from orchlab.store import HistoryStore
from tests.reliability.common import file_hashes
from tests.reliability.world import make_world

# --- history files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, closed (checkpointed) history: the world of the suites, one run open."""
    path = tmp_path_factory.mktemp("good") / "good.duckdb"
    store = make_world(path).engine.store
    store.refresh()  # the derived tables folded: a later open has nothing to write
    store.close()
    return path


def _copy(good: Path, dest: Path) -> Path:
    for p in good.parent.glob(good.name + "*"):
        shutil.copyfile(p, dest.with_name(p.name.replace(good.name, dest.name, 1)))
    return dest


def _sql(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    for s in statements:
        con.execute(s)
    con.close()


def _random_bytes(good: Path, dest: Path) -> None:
    dest.write_bytes(bytes(range(256)) * 64)


def _text(good: Path, dest: Path) -> None:
    dest.write_text("name,amount\nKim,5\n")


def _truncated(fraction: float) -> Callable[[Path, Path], None]:
    def make(good: Path, dest: Path) -> None:
        data = good.read_bytes()
        dest.write_bytes(data[: int(len(data) * fraction)])

    return make


def _corrupt_block(good: Path, dest: Path) -> None:
    data = bytearray(good.read_bytes())
    start = 3 * 4096 + 64  # the first data block, after the three header blocks: in use
    for i in range(start, start + 4096):  # the block's checksum no longer matches
        data[i] ^= 0xFF
    dest.write_bytes(bytes(data))


def _foreign(good: Path, dest: Path) -> None:
    _sql(dest, "CREATE TABLE customers (id INTEGER, name VARCHAR)", "INSERT INTO customers "
         "VALUES (1, 'Kim')")  # fmt: skip


def _foreign_log(good: Path, dest: Path) -> None:
    _sql(dest, "CREATE TABLE log (seq BIGINT, message VARCHAR)", "INSERT INTO log VALUES (1, 'x')")


def _edited(*statements: str) -> Callable[[Path, Path], None]:
    def make(good: Path, dest: Path) -> None:
        _copy(good, dest)
        _sql(dest, *statements)

    return make


def _schema(value: str) -> Callable[[Path, Path], None]:
    return _edited(f"UPDATE orchlab_meta SET value = {value} WHERE key = 'schema_version'")


def _wal_garbage(good: Path, dest: Path) -> None:
    _copy(good, dest)
    dest.with_name(dest.name + ".wal").write_bytes(b"\x00garbage" * 512)


def _seq_ahead(good: Path, dest: Path) -> None:
    _copy(good, dest)
    dest.with_name(dest.name + ".seq").write_text(f"{10**9:>20}")


def _directory(good: Path, dest: Path) -> None:
    dest.mkdir()


FILES: list[tuple[str, Callable[[Path, Path], None], str]] = [
    ("random_bytes", _random_bytes, "not a valid DuckDB database file"),
    ("text_file", _text, "not a valid DuckDB database file"),
    ("truncated_half", _truncated(0.5), "history file"),
    ("truncated_header", _truncated(0.01), "cannot open history file"),
    ("corrupt_block", _corrupt_block, "damaged"),
    ("foreign_tables", _foreign, "not an orchlab history (it has tables customers"),
    ("foreign_log_table", _foreign_log, "not an orchlab history (it has tables log"),
    ("dropped_log", _edited("DROP TABLE log"), "table log is missing"),
    ("dropped_users", _edited("DROP TABLE users"), "table users is missing"),
    ("dropped_meta", _edited("DROP TABLE orchlab_meta"), "not an orchlab history"),
    ("schema_text", _schema("'abc'"), "schema_version is 'abc'; expected a whole number"),
    ("schema_empty", _schema("''"), "schema_version is ''"),
    ("schema_future", _schema("'99'"), "schema_version is 99"),
    ("schema_zero", _schema("'0'"), "schema_version is 0"),
    ("schema_negative", _schema("'-1'"), "schema_version is '-1'"),
    (
        "schema_missing",
        _edited("DELETE FROM orchlab_meta WHERE key = 'schema_version'"),
        "schema_version is None",
    ),
    ("seq_ahead", _seq_ahead, "lost acknowledged changes"),
    ("a_directory", _directory, "history file"),
    ("empty_file", lambda good, dest: dest.write_bytes(b""), "history file"),
]


@pytest.mark.parametrize(("make", "fragment"), [f[1:] for f in FILES], ids=[f[0] for f in FILES])
@pytest.mark.parametrize("read_only", [False, True], ids=["write", "read"])
def test_a_bad_history_file_is_refused_and_left_as_it_was(
    good: Path, tmp_path: Path, make: Callable[[Path, Path], None], fragment: str, read_only: bool
) -> None:
    path = tmp_path / "bad.duckdb"
    make(good, path)
    before = file_hashes(path) if path.is_file() else {}
    with pytest.raises(OrchlabError) as caught:
        HistoryStore(path, read_only=read_only).close()
    message = str(caught.value)
    if not (read_only and "lost acknowledged" in fragment):  # a reader never writes the note
        assert fragment in message, message
    if path.is_file():
        assert file_hashes(path) == before, "opening a refused file changed it"
    # A failed open leaves no lock behind: the same process can make a new history there.
    fresh = tmp_path / "fresh.duckdb"
    HistoryStore(fresh).close()


def test_a_garbage_wal_with_nothing_acknowledged_in_it_opens_as_the_file_was(
    good: Path, tmp_path: Path
) -> None:
    """A write-ahead log of garbage holds no commit, so nothing acknowledged is lost: the
    history opens with exactly the rows it had (a WAL cut short with commits in it is refused:
    the .seq case above)."""
    path = _copy(good, tmp_path / "wal.duckdb")
    with HistoryStore(good, read_only=True) as store:
        rows = store.execute("SELECT * FROM log ORDER BY seq")
    _wal_garbage(good, path)
    with HistoryStore(path) as store:
        assert store.execute("SELECT * FROM log ORDER BY seq") == rows


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    w = make_world(path)
    items = dict(w.items)
    w.engine.store.refresh()  # the derived tables folded: a later open has nothing to write
    w.engine.store.close()
    folder = path.parent
    (folder / "bomb.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
    )
    (folder / "deep.yaml").write_text("a: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (folder / "broken.yaml").write_text("name: [unclosed\n")
    (folder / "list.json").write_text("[1, 2]")
    (folder / "people.yaml").write_text("users: [{username: ''}]\n")
    (folder / "foreign.duckdb").write_bytes(b"")
    _foreign(path, folder / "foreign2.duckdb")
    (folder / "exists.duckdb").write_text("x")
    return path, items


H = "--history"
CLI: list[tuple[str, list[str], int, str]] = [
    ("no_command", [], 2, "required"),
    ("unknown_command", ["fly"], 2, "invalid choice"),
    ("unknown_option", ["runs", "--colour", "red", H, "{h}"], 2, "unrecognized arguments"),
    ("validate_missing", ["validate", "{d}/nope.yaml"], 1, "nope.yaml"),
    ("validate_bomb", ["validate", "{d}/bomb.yaml"], 1, "bomb.yaml"),
    ("validate_deep", ["validate", "{d}/deep.yaml"], 1, "nesting depth"),
    ("validate_broken", ["validate", "{d}/broken.yaml"], 1, "invalid YAML at line 2"),
    ("validate_list", ["validate", "{d}/list.json"], 1, "mapping"),
    ("deploy_no_actor", ["deploy", "{d}/broken.yaml", H, "{h}"], 2, "--as"),
    ("deploy_broken", ["deploy", "{d}/broken.yaml", "--as", "adm", H, "{h}"], 1, "invalid YAML"),
    ("directory_bad", ["directory", "{d}/people.yaml", "--as", "adm", H, "{h}"], 1, "username"),
    ("directory_not_admin", ["directory", "{d}/people.yaml", "--as", "asg", H, "{h}"], 1, ""),
    ("start_unknown", ["start", "Nope", "--as", "asg", H, "{h}"], 1, "no deployed orchestration 'Nope'"),
    ("start_unknown_actor", ["start", "Work", "--as", "ghost", H, "{h}"], 1, "'ghost' is not in the directory"),
    ("start_bad_amount", ["start", "Work", "--as", "asg", "--input", "amount=abc", H, "{h}"], 1, "amount"),
    ("start_unknown_input", ["start", "Work", "--as", "asg", "--input", "nope=1", H, "{h}"], 1, "nope"),
    ("start_input_no_equals", ["start", "Work", "--as", "asg", "--input", "amount", H, "{h}"], 1, "NAME=VALUE"),
    ("start_bad_version", ["start", "Work", "--as", "asg", "--version", "x", H, "{h}"], 2, "version"),
    ("start_missing_version", ["start", "Work", "--as", "asg", "--version", "9", H, "{h}"], 1, "v9"),
    ("start_record_unknown", ["start", "Work", "--as", "asg", "--record", "REC9", H, "{h}"], 1, "REC9"),
    ("complete_unknown", ["complete", "R9-W9", "--as", "gm", H, "{h}"], 1, "'R9-W9' does not exist"),
    ("complete_bad_value", ["complete", "{For_group}", "--as", "gm", "--value", "amount=NaN",
     "--value", "must=x", H, "{h}"], 1, "amount"),
    ("complete_missing_required", ["complete", "{For_group}", "--as", "gm", H, "{h}"], 1, "must"),
    ("complete_unknown_field", ["complete", "{For_group}", "--as", "gm", "--value", "x=1", "--value",
     "must=x", H, "{h}"], 1, "no such field"),
    ("complete_not_member", ["complete", "{For_group}", "--as", "nm", "--value", "must=x", H, "{h}"], 1,
     "may not complete"),
    ("complete_value_no_equals", ["complete", "{For_group}", "--as", "gm", "--value", "must", H, "{h}"],
     1, "NAME=VALUE"),
    ("reassign_not_admin", ["reassign", "{For_user}", "--to", "nm", "--as", "asg", H, "{h}"], 1, "only admins"),
    ("reassign_unknown_to", ["reassign", "{For_user}", "--to", "nobody", "--as", "adm", H, "{h}"], 1, "'nobody'"),
    ("cancel_unknown", ["cancel", "R999", "--as", "adm", H, "{h}"], 1, "'R999' does not exist"),
    ("cancel_not_admin", ["cancel", "R000001", "--as", "asg", H, "{h}"], 1, "only admins"),
    ("suspend_unknown_actor", ["suspend", "R000001", "--as", "ghost", H, "{h}"], 1, "'ghost'"),
    ("resume_running", ["resume", "R000001", "--as", "adm", H, "{h}"], 1, "only Suspended or Error"),
    ("event_unknown", ["event", "R999", "--as", "asg", H, "{h}"], 1, "'R999'"),
    ("create_record_bad_field", ["create-record", "Account", "--field", "Name", "--as", "asg", H, "{h}"], 1,
     "NAME=VALUE"),
    ("create_record_unknown_actor", ["create-record", "Account", "--as", "ghost", H, "{h}"], 1, "'ghost'"),
    ("update_record_unknown", ["update-record", "REC999", "--field", "A=1", "--as", "asg", H, "{h}"], 1,
     "'REC999' does not exist"),
    ("show_unknown", ["show", "R999", H, "{h}"], 1, "'R999'"),
    ("runs_missing_file", ["runs", H, "{d}/missing.duckdb"], 1, "missing.duckdb"),
    ("runs_foreign_file", ["runs", H, "{d}/foreign2.duckdb"], 1, "not an orchlab history"),
    ("runs_bad_limit", ["runs", "--limit", "many", H, "{h}"], 2, "limit"),
    ("snapshot_exists", ["snapshot", "{d}/exists.duckdb", H, "{h}"], 1, "already exists"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "code", "fragment"), [c[1:] for c in CLI], ids=[c[0] for c in CLI]
)
def test_a_bad_command_line_is_refused_and_changes_nothing(
    cli_world: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    fragment: str,
) -> None:
    path, items = cli_world
    args = [a.format(h=path, d=path.parent, **items) for a in argv]
    before = file_hashes(path)
    try:
        got = cli_main(args)
    except SystemExit as exit_:  # argparse's usage errors
        got = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert got == code, f"exit {got}, expected {code}; stderr: {err}"
    assert fragment in err, f"{fragment!r} not in stderr: {err}"
    assert "Traceback" not in err
    assert file_hashes(path) == before, "the history files changed"
