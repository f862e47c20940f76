"""Errors that tell the operator what to do: the CLI prints the message alone (one line, exit
code 2) and a DAG task fails with it."""

from __future__ import annotations

from ..config import UserError


class WarehouseError(UserError, RuntimeError):
    """The warehouse cannot serve the request as it stands; the message says what to do."""


class WarehouseNotReady(WarehouseError):
    """No warehouse there, or its schema is behind (or ahead of) this newsdesk's."""


class ViewBlocked(WarehouseError):
    """A view must be dropped to apply its new definition, and objects newsdesk does not own
    (an analyst's view) depend on it."""

    def __init__(self, blocked: dict[str, list[str]]):
        self.blocked = blocked
        names = "; ".join(f"{view} (needed by {', '.join(deps)})" for view, deps in sorted(blocked.items()))
        dependents = sorted({d for deps in blocked.values() for d in deps})
        super().__init__(
            f"views not replaced: {names}. Their columns changed in a way CREATE OR REPLACE VIEW cannot "
            "apply, so they must be dropped and created again, and the objects named depend on them. "
            "Everything else was upgraded; ingestion and the other views go on as they are. To finish: save "
            f"the definition of {', '.join(dependents)} (psql: \\d+ NAME), drop it, run `newsdesk db upgrade` "
            "again, then create it again (docs/analysts.md lists the views' columns)."
        )
