"""What every /api/v1/ answer shares: the gate at the door, opaque cursors, and JSON or CSV streamed.

JSON answers are pages: `{"data": [...], "next": "<cursor>" | null}`; ask again with `cursor=` to
continue. The order of every list is a stable total order (a unique key), and the cursor holds the
key of the last row given, so rows added meanwhile never shift a page. CSV answers (`format=csv`
or `Accept: text/csv`) are the whole answer in one streamed file, no cursor. Neither is ever built
whole in memory: rows go out as they are read from the database or the readings store.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.http import QueryDict, StreamingHttpResponse
from ninja.errors import HttpError

from egsu.access.scope import Scope
from egsu.spreadsheets import csv_cell

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# Parameters of the API itself, never handed to a filter of points or period.
API_PARAMETERS = ("cursor", "limit", "format", "bucket", "group")


def scope_of(request, *, any_of: Iterable[str] = ()) -> Scope:
    """The caller's scope; 403 without a role, or without one of the modules the pages ask for too."""
    scope: Scope = request.scope
    if scope.role is None:
        raise HttpError(403, "this account has no role yet; ask the data operator")
    wanted = tuple(any_of)
    if wanted and not any(scope.has(module) for module in wanted):
        raise HttpError(403, f"none of the modules {', '.join(wanted)} is granted")
    return scope


def filter_data(request) -> QueryDict:
    """The query string without the API's own parameters: what PointFilter and the period forms read."""
    data = request.GET.copy()
    for name in API_PARAMETERS:
        data.pop(name, None)
    return data


def limit_of(request) -> int:
    text = request.GET.get("limit") or str(DEFAULT_LIMIT)
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise HttpError(400, f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def wants_csv(request) -> bool:
    chosen = request.GET.get("format", "")
    if chosen not in ("", "json", "csv"):
        raise HttpError(400, "format is json or csv")
    return chosen == "csv" or (not chosen and "text/csv" in request.headers.get("Accept", ""))


# ---------------------------------------------------------------- cursors


def _encode_part(value):
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode_part(v) for v in value]
    return value


def _decode_part(value):
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"])
    if isinstance(value, list):
        return tuple(_decode_part(v) for v in value)
    return value


def encode_cursor(key: tuple) -> str:
    text = json.dumps(_encode_part(key), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_of(request) -> tuple | None:
    """The key of the last row of the previous page, or None; 400 for anything not made by us."""
    text = request.GET.get("cursor") or ""
    if not text:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        key = _decode_part(decoded)
    except (ValueError, TypeError, KeyError) as exc:
        raise HttpError(400, "the cursor is not one this API gave") from exc
    if not isinstance(key, tuple):
        raise HttpError(400, "the cursor is not one this API gave")
    return key


class Page:
    """Up to `limit` items of a stream in its order; `next` is set once the page is exhausted."""

    def __init__(self, items: Iterator, key: Callable[[object], tuple], limit: int | None) -> None:
        self.items, self.key, self.limit = items, key, limit
        self.next: str | None = None

    def __iter__(self) -> Iterator:
        given, last = 0, None
        for item in self.items:
            if self.limit is not None and given == self.limit:
                self.next = encode_cursor(self.key(last))
                break
            yield item
            last, given = item, given + 1
        close = getattr(self.items, "close", None)
        if close is not None:
            close()  # a stream read from a server stops being read


# ---------------------------------------------------------------- rendering


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_chunks(rows: Iterable[dict], page: Page | None) -> Iterator[str]:
    yield '{"data":['
    first = True
    for row in rows:
        yield ("" if first else ",") + json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False)
        first = False
    yield '],"next":' + json.dumps(page.next if page is not None else None) + "}"


def _csv_chunks(rows: Iterable[dict], columns: tuple[str, ...]) -> Iterator[str]:
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(columns)  # BOM: spreadsheets then read UTF-8 (Kazakh, Russian)
    for row in rows:
        yield writer.writerow([csv_cell(_plain(row.get(c))) for c in columns])


def answer(
    request,
    *,
    items: Iterator,
    key: Callable[[object], tuple],
    row: Callable[[object], dict],
    columns: tuple[str, ...],
    name: str,
) -> StreamingHttpResponse:
    """A JSON page (or the whole CSV) of `items` mapped by `row`, streamed."""
    if wants_csv(request):
        response = StreamingHttpResponse(
            _csv_chunks((row(item) for item in items), columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    page = Page(items, key, limit_of(request))
    return StreamingHttpResponse(
        _json_chunks((row(item) for item in page), page), content_type="application/json; charset=utf-8"
    )
