"""From a SchemeVersion to the decision PDF (decision_pdf.Decision): captions in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from egsu.quality.act_document import person, when
from egsu.schemes import graph
from egsu.schemes.decision_pdf import Decision, render
from egsu.schemes.models import SchemeVersion, VersionStatus


def vocabulary_labels() -> dict[str, str]:
    """Node kinds, media and directions in the active language (diagram, tables, PDF)."""
    words = {f"kind:{k.value}": _(k.label) for k in graph.NodeKind}
    words |= {f"medium:{m.value}": _(m.label) for m in graph.Medium}
    words |= {f"direction:{d.value}": _(d.label) for d in graph.Direction}
    words["unmetered"] = _("no metering point")
    return words


def labels() -> dict[str, str]:
    return vocabulary_labels() | {
        "reasons": _("Reasons for refusal"),
        "diagram": _("Scheme"),
        "flows": _("Flows and metering points"),
        "from": _("From"),
        "to": _("To"),
        "medium": _("Medium"),
        "direction": _("Direction"),
        "point": _("Metering point"),
        "signed": _(
            "This document carries the reviewer's electronic signature (attached file signature.xml); "
            "check it with: egsu pki verify-document FILE --trust ROOT."
        ),
    }


def build_decision_pdf(version: SchemeVersion) -> bytes:
    scheme = version.scheme
    approved = version.status == VersionStatus.APPROVED
    title = (
        _("Decision on the agreement of the metering scheme")
        + f": {scheme.facility.object_id} v{version.number}"
    )
    facts = [
        (_("Decision"), _("Approved") if approved else _("Refused")),
        (_("Subject"), f"{scheme.subject.name}, BIN {scheme.subject.bin}"),
        (_("Production object"), f"{scheme.facility.object_id} {scheme.facility.name}"),
        (_("Version"), str(version.number)),
        (_("Received"), version.received_on.isoformat() if version.received_on else ""),
        (_("Review deadline"), version.deadline.isoformat() if version.deadline else ""),
        (_("Decided by"), person(version.decided_by)),
        (_("Decided at"), when(version.decided_at)),
        (_("Basis"), _("Rules of the Unified State System, paragraphs 108-110 (Order No. 128-n/k).")),
    ]
    if version.drawing_sha256:
        facts.append((_("Attached drawing (SHA-256)"), f"{version.drawing_name} {version.drawing_sha256}"))
    return render(Decision(title=title, facts=facts, scheme=graph.Scheme.from_json(version.content),
                           labels=labels(), reasons=version.reasons))  # fmt: skip
