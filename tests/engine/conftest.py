"""Every engine a test in this folder creates is checked by `check_invariants` at teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchlab.engine import Engine
from tests.invariants import check_invariants


@pytest.fixture(autouse=True)
def _invariants_hold() -> Iterator[None]:
    """Wrap Engine.__init__ for the test's duration to remember the engines it makes; after
    the test, the newest engine on each open store must satisfy every invariant (an older one
    on a store that a newer engine took over is stale by design)."""
    made: list[Engine] = []
    real = Engine.__init__

    def remember(self: Engine, *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    Engine.__init__ = remember  # type: ignore[method-assign]
    try:
        yield
    finally:
        Engine.__init__ = real  # type: ignore[method-assign]
    newest = {id(e.store): e for e in made}
    for engine in newest.values():
        if not engine.store.closed:
            check_invariants(engine)
