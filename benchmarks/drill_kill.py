"""The kill -9 drill at length (issue 17 item 5): SIGKILL a random gunicorn worker of a real `egsu web`
at random moments while two senders push signed ISUN messages and AMI REST batches, resending what
got no answer; then check that everything was acknowledged and stored exactly once.

    .venv/bin/python benchmarks/drill_kill.py                      # 100 kills, SQLite in a temporary dir
    .venv/bin/python benchmarks/drill_kill.py --kills 200 --database-url postgresql://egsu:egsu@127.0.0.1/egsu_drill

The PostgreSQL database must exist and be empty. Last line:
`kills=N attempts=N unanswered=N messages=N batches=N stored_twice=N lost=N seconds=N`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--messages", type=int, default=40, help="ISUN messages (one record each)")
    parser.add_argument("--batches", type=int, default=24, help="AMI batches (at most 24)")
    parser.add_argument("--meters", type=int, default=50)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--interval", type=float, nargs=2, default=(0.05, 0.4), help="seconds between kills")
    args = parser.parse_args()
    machine.setup_django()
    from tests.intake.conftest import DEMO_PASSWORD
    from tests.ops.conftest import egsu_env
    from tests.ops.drills import run_drill

    with tempfile.TemporaryDirectory(prefix="egsu-drill-") as folder:
        var = Path(folder) / "var"
        env = egsu_env(var, args.database_url or f"sqlite:///{var / 'egsu.sqlite3'}")
        outcome = run_drill(
            var, env, kills=args.kills, messages=args.messages, batches=min(args.batches, 24), meters=args.meters,
            interval=tuple(args.interval), password=DEMO_PASSWORD,
        )  # fmt: skip
    stored = outcome.stored
    sent = args.messages + min(args.batches, 24)
    lost = (
        sent
        - len(outcome.acknowledged)
        + (args.messages - stored["messages"])
        + (min(args.batches, 24) - stored["batches"])
    )
    twice = stored["messages_twice"] + stored["revised"]
    print(f"acknowledged answers: {sorted(set(outcome.acknowledged.values()))}")  # noqa: T201
    print(  # noqa: T201
        f"kills={outcome.kills} attempts={outcome.attempts} unanswered={outcome.failed_attempts} "
        f"messages={stored['messages']} batches={stored['batches']} stored_twice={twice} lost={lost} "
        f"seconds={outcome.seconds:.1f}"
    )


if __name__ == "__main__":
    main()
