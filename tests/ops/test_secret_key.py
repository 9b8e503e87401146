"""The embedded setup's secret key: made once in the var dir and the same for every process, also when
`egsu serve` starts its web server and its worker at the same moment on a fresh var dir."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from egsu import conf

ROOT = Path(__file__).resolve().parents[2]


def test_the_key_is_made_once_private_and_read_back(tmp_path, monkeypatch):
    monkeypatch.delenv("EGSU_SECRET_KEY", raising=False)
    first = conf._secret_key(tmp_path, production=False)
    assert len(first) >= 50 and conf._secret_key(tmp_path, production=False) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no half-written file left behind


def test_a_process_that_loses_the_race_takes_the_winners_key(tmp_path, monkeypatch):
    monkeypatch.delenv("EGSU_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("the-winners-key")
    # it looked before the winner had written: it makes its own, and finds the winner's in place
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert conf._secret_key(tmp_path, production=False) == "the-winners-key"
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_processes_starting_together_on_a_fresh_var_dir_agree_on_one_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EGSU_SECRET_KEY"}
    code = "import sys; from pathlib import Path; from egsu import conf;" \
        " print(conf._secret_key(Path(sys.argv[1]), production=False))"  # fmt: skip
    for attempt in range(5):
        var = tmp_path / f"var-{attempt}"
        processes = [
            subprocess.Popen([sys.executable, "-c", code, str(var)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]  # fmt: skip
        results = [(p.wait(timeout=60), *p.communicate()) for p in processes]
        assert all(status == 0 for status, _out, _err in results), [err for *_, err in results]
        keys = {out.strip() for _status, out, _err in results}
        assert keys == {(var / "secret_key").read_text().strip()} and "" not in keys


def test_on_a_filesystem_without_hard_links_the_key_is_written_in_place(tmp_path, monkeypatch):
    """vfat and some FUSE mounts refuse os.link (EPERM): the key is then created where it is read."""
    monkeypatch.delenv("EGSU_SECRET_KEY", raising=False)

    def no_links(*_args, **_kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    first = conf._secret_key(tmp_path, production=False)
    assert len(first) >= 50 and conf._secret_key(tmp_path, production=False) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    # a process that lost the race to create the file keeps the winner's key
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert conf._secret_key(tmp_path, production=False) == first


def test_a_key_file_created_but_not_yet_written_is_waited_for_and_an_empty_one_refused(tmp_path):
    import threading

    path = tmp_path / "secret_key"
    path.write_text("")  # another process created it and has not written yet
    threading.Timer(0.2, lambda: path.write_text("the-key\n")).start()
    assert conf._read_key(path) == "the-key"
    path.write_text("")
    with pytest.raises(conf.ConfigError, match="is empty"):
        conf._read_key(path, wait_s=0.1)


def test_a_key_that_cannot_be_written_fails_the_start_and_leaves_no_key_file(tmp_path, monkeypatch):
    """A full disk is raised as it is, not taken for a filesystem without hard links (no empty key left)."""
    monkeypatch.delenv("EGSU_SECRET_KEY", raising=False)

    class FullDisk:
        def __init__(self, fd, *_args, **_kwargs):
            os.close(fd)

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return False

        def write(self, _text):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", FullDisk)
    with pytest.raises(OSError, match="No space left"):
        conf._secret_key(tmp_path, production=False)
    assert list(tmp_path.iterdir()) == []
