"""The commission act PDF: it renders (pdftoppm) and states the numbers (pdftotext)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.quality import services
from egsu.quality.act_document import build_pdf
from egsu.quality.act_pdf import FontsMissing, find_font


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install poppler-utils); cannot check the PDF")
    return path


@pytest.fixture
def applied_act(world, propose_act):
    act = propose_act("own", value="111.5")
    subject = world.users[Role.SUBJECT]
    return services.agree(scope_for(subject), subject, act)


def test_the_act_renders_to_png(applied_act, tmp_path):
    # given the kept PDF of an applied act
    pdf = tmp_path / "act.pdf"
    pdf.write_bytes(bytes(applied_act.pdf))
    # when pdftoppm rasterises it
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True, timeout=60
    )
    # then there is one page image, a real PNG
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_act_states_parties_values_and_source(applied_act, tmp_path):
    pdf = tmp_path / "act.pdf"
    pdf.write_bytes(bytes(applied_act.pdf))
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    for expected in (
        applied_act.number,
        "Own Oil LLP",  # the subject
        "operator",  # who proposed
        "subject-a",  # who agreed
        "101",  # the original value
        "111.5",  # the corrected value
        "10.5",  # the difference
        "2025-06-01 02:00",  # the period start in Astana time (UTC+5)
        "Meter drift found by the commission",  # the reason
        f"act:{applied_act.number}",  # what the new revision points at
    ):
        assert expected in text, expected


def test_the_same_act_gives_the_same_bytes(applied_act):
    assert build_pdf(applied_act) == build_pdf(applied_act)


def test_missing_fonts_fail_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("EGSU_FONT_DIR", raising=False)
    with pytest.raises(
        FontsMissing, match=r"DejaVuSans.ttf was not found in .*apt-get install fonts-dejavu-core"
    ):
        find_font("DejaVuSans.ttf", dirs=[str(tmp_path)])


def test_fonts_are_found_one_level_down(tmp_path, monkeypatch):
    monkeypatch.delenv("EGSU_FONT_DIR", raising=False)
    (tmp_path / "dejavu").mkdir()
    (tmp_path / "dejavu" / "DejaVuSans.ttf").write_bytes(b"font")
    assert find_font("DejaVuSans.ttf", dirs=[str(tmp_path)]) == tmp_path / "dejavu" / "DejaVuSans.ttf"


def test_an_undecided_act_downloads_as_a_marked_draft(world, propose_act, tmp_path):
    # given a proposal not yet decided: nothing is kept, the download is a draft made on the fly
    act = propose_act("own")
    assert act.pdf is None
    data, draft = services.act_pdf(scope_for(world.users[Role.SUBJECT]), world.users[Role.SUBJECT], act)
    pdf = tmp_path / "draft.pdf"
    pdf.write_bytes(data)
    text = subprocess.run(
        [_tool("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert draft is True and "Draft: not agreed by the subject" in text and "act:" not in text
