"""Plain tuples into a table in bulk: COPY on PostgreSQL, executemany elsewhere.

The intake's hot path inserts hundreds of rows a message (readings, arrivals ledger). Model
instances and ``bulk_create`` cost about ten times the bare insert (benchmarks/README.md), and on
PostgreSQL an executemany is one statement bound and sent per row by the client (psycopg):
for a signed 100-record ISUN message, COPY of its ledger rows instead took 5 % off the message's
instructions (benchmarks/README.md, intake_cpu). COPY sends the rows as one stream, and raises what
an INSERT would (a unique violation, a serialization failure), translated to Django's exceptions
as any other statement's.
"""

from __future__ import annotations

from collections.abc import Sequence


def insert_rows(
    connection, table: str, columns: Sequence[str], rows: Sequence[tuple], *, batch: int = 2000
) -> None:
    """INSERT `rows` (values adapted by ``connection.ops``, in `columns` order) into `table`.

    `table` and `columns` are our own unquoted names. The rows join the connection's current
    transaction; a failure raises Django's IntegrityError, OperationalError, … as an INSERT would.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the raw psycopg cursor's COPY is outside Django's wrapper: translate its errors as Django would
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        # SQL built from our own table and column names; values travel as parameters
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # nosec B608
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])
