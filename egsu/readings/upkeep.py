"""The claims of ClickHouse writes, for operators (ADR 0013): open intents listed and recovered, claims
filled from the store; each change audited. Pruning is a retention job (egsu.ops.retention).

Every function works on the configured store (`get_store()`) and does nothing (None) when its writes
are not claimed: the SQL backends settle identity in their own database, chDB in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from egsu.access.audit import Event, audit
from egsu.readings.claims import Intent
from egsu.readings.services import get_store
from egsu_core.clock import format_astana, utcnow


def claimed_store():
    """The configured store when its writes are claimed, else None."""
    store = get_store()
    return store if getattr(store, "claims", None) is not None else None


def open_intents(*, count_rows: bool = True) -> list[Intent] | None:
    """Every open intent (rows claimed, not yet known to be in ClickHouse) with its state."""
    store = claimed_store()
    return None if store is None else store.claims.intents(count_rows=count_rows)


def recover(*, source: str, actor=None) -> dict | None:
    """Insert the rows of every intent nobody is finishing (failed, writer dead, past its lease) that
    ClickHouse lacks; intents of writers still at work are left to them. Audited when it did anything."""
    store = claimed_store()
    if store is None:
        return None
    report = store.recover_intents()
    result = {
        "intents": len(report),
        "rows_claimed": sum(claimed for _i, claimed, _n in report),
        "rows_inserted": sum(inserted for _i, _c, inserted in report),
        "still_open": store.claims.pending(),
    }
    if report:
        audit(
            Event.CLAIMS_RECOVERED, actor=actor, object_type="readings.claims", object_id=store.database,
            source=source, after={**result, "intent_ids": [i for i, _c, _n in report]},
            summary=f"{result['intents']} intents recovered: {result['rows_inserted']} of "
            f"{result['rows_claimed']} claimed rows were missing and are inserted",
        )  # fmt: skip
    return result


def fill(
    *,
    days: int | None,
    source: str,
    page_size: int = 50_000,
    restart: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    now: datetime | None = None,
    actor=None,
) -> dict | None:
    """Make the claims agree with ClickHouse for the slots of the last `days` (all when None); audited."""
    store = claimed_store()
    if store is None:
        return None
    since = None if days is None else (now or utcnow()) - timedelta(days=days)
    result = store.fill_claims(since=since, page_size=page_size, restart=restart, progress=progress)
    after = {"read": result.read, "written": result.written, "resumed": result.resumed, "days": days}
    audit(
        Event.CLAIMS_FILLED, actor=actor, object_type="readings.claims", object_id=store.database, source=source,
        after=after, summary=f"claims of {result.read} values checked, {result.written} written"
        + (f" (slots from {format_astana(since)})" if since else " (every slot)"),
    )  # fmt: skip
    return after
