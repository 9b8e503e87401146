"""What every /api/v1/ answer shares: the gate at the door, opaque cursors, and JSON or CSV streamed.

JSON answers are pages: `{"data": [...], "next": "<cursor>" | null}`; ask again with `cursor=` to
continue. The order of every list is a stable total order (a unique key), and the cursor holds the
key of the last row given, so rows added meanwhile never shift a page. CSV answers (`format=csv`
or `Accept: text/csv`) and NDJSON answers (`format=ndjson` or `Accept: application/x-ndjson`: one
JSON object a line) are the whole answer in one streamed response, no cursor. None is ever built
whole in memory: rows go out as they are read from the database or the readings store; large
answers go out a chunk of rows at a time (`streamed`), as the store reads them from the engine.
"""

from __future__ import annotations

import base64
import csv
import io
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


FORMATS = ("json", "csv", "ndjson")
NDJSON = "application/x-ndjson"


def format_of(request) -> str:
    """json (pages), csv or ndjson (the whole answer streamed): `format=`, else the Accept header."""
    chosen = request.GET.get("format", "")
    if chosen not in ("", *FORMATS):
        raise HttpError(400, f"format is {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    if chosen:
        return chosen
    accept = request.headers.get("Accept", "")
    return "csv" if "text/csv" in accept else "ndjson" if NDJSON in accept else "json"


def wants_csv(request) -> bool:
    return format_of(request) == "csv"


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


_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one NDJSON line's text


def _ndjson_lines(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield _to_json({k: _plain(v) for k, v in row.items()}) + "\n"


def streamed(
    request,
    *,
    chunks: Iterator[list[tuple]],
    columns: tuple[str, ...],
    texts: tuple[str, ...],
    name: str,
) -> StreamingHttpResponse:
    """The whole answer as CSV or NDJSON, one piece of text per chunk of rows (`format_of` not json).

    Each row is a tuple in `columns` order of plain values (str, int, None); `texts` names the
    columns of free text, which CSV guards against spreadsheet formulas (`csv_cell`, each distinct
    text once). A chunk is one write to the client, so a 100,000-row answer costs a few dozen
    writes, and the next chunk is read from the store only when the client has taken this one.
    """
    chosen = format_of(request)
    if chosen == "ndjson":
        return _unbuffered(
            StreamingHttpResponse(_ndjson_chunks(chunks, columns), content_type=f"{NDJSON}; charset=utf-8")
        )
    response = StreamingHttpResponse(
        _csv_text_chunks(chunks, columns, texts), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return _unbuffered(response)


def _unbuffered(response: StreamingHttpResponse) -> StreamingHttpResponse:
    """Tell a proxy in front (nginx) to pass each chunk on as it comes, not to collect the answer."""
    response["X-Accel-Buffering"] = "no"
    return response


def _closing(chunks: Iterator) -> Iterator:
    """`chunks`, closed (its engine query cancelled) when the client goes away mid-answer."""
    try:
        yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _ndjson_chunks(chunks: Iterator[list[tuple]], columns: tuple[str, ...]) -> Iterator[str]:
    for chunk in _closing(chunks):
        yield "".join([_to_json(dict(zip(columns, row, strict=True))) + "\n" for row in chunk])


def _csv_text_chunks(
    chunks: Iterator[list[tuple]], columns: tuple[str, ...], texts: tuple[str, ...]
) -> Iterator[str]:
    guarded: dict[str, object] = {}
    places = [columns.index(column) for column in texts]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff" + _csv_line(columns)  # BOM: spreadsheets then read UTF-8 (Kazakh, Russian)
    for chunk in _closing(chunks):
        rows = []
        for row in chunk:
            cells = list(row)
            for place in places:
                text = cells[place]
                if text is not None:
                    cell = guarded.get(text)
                    if cell is None:
                        if len(guarded) > 100_000:
                            guarded.clear()
                        cell = guarded[text] = csv_cell(text)
                    cells[place] = cell
            rows.append(cells)
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_line(cells: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def answer(
    request,
    *,
    items: Iterator,
    key: Callable[[object], tuple],
    row: Callable[[object], dict],
    columns: tuple[str, ...],
    name: str,
) -> StreamingHttpResponse:
    """A JSON page (or the whole CSV or NDJSON) of `items` mapped by `row`, streamed."""
    chosen = format_of(request)
    if chosen == "ndjson":
        return StreamingHttpResponse(
            _ndjson_lines(row(item) for item in items), content_type=f"{NDJSON}; charset=utf-8"
        )
    if chosen == "csv":
        response = StreamingHttpResponse(
            _csv_chunks((row(item) for item in items), columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    page = Page(items, key, limit_of(request))
    return StreamingHttpResponse(
        _json_chunks((row(item) for item in page), page), content_type="application/json; charset=utf-8"
    )
