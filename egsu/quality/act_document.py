"""From a CorrectionAct row to the act document (act_pdf.ActDocument): captions, names, Astana dates."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from egsu.access.roles import Role
from egsu.quality.act_pdf import ActDocument, ActLine, render_act
from egsu.quality.models import ActStatus, CorrectionAct
from egsu.readings.store import tidy_value
from egsu_core.clock import to_astana


def labels() -> dict[str, str]:
    """The act's captions in the active language (kept here so that makemessages finds them)."""
    return {
        "title": _("Commission act on the correction of metering data"),
        "draft": _("Draft: not agreed by the subject. This is not a valid act."),
        "basis": _(
            "Basis: Rules of the Unified State System, paragraph 53. Data is corrected manually only "
            "with the prior agreement of the subject and on the basis of a commission act."
        ),
        "number": _("Act number"),
        "date": _("Date"),
        "status": _("Status"),
        "subject": _("Subject"),
        "facility": _("Facility"),
        "proposer": _("Proposed by"),
        "proposed_at": _("Proposed at"),
        "decider": _("Decided by (subject)"),
        "decided_at": _("Decided at"),
        "reason": _("Reason for the discrepancy"),
        "refusal_reason": _("Reason for refusal"),
        "values": _("Values"),
        "object": _("Object"),
        "device": _("Device"),
        "quantity": _("Quantity"),
        "interval": _("Interval"),
        "period": _("Period start"),
        "original": _("Original"),
        "revision": _("Rev."),
        "corrected": _("Corrected"),
        "unit": _("Unit"),
        "difference": _("Difference"),
        "applied": _("New rev."),
        "keeps": _(
            "The original values are kept unchanged. The corrected values are stored as new revisions "
            "with the source {source}."
        ),
        "times": _("Times are Astana time."),
        "signatures": _("Signatures"),
        "for_operator": _("For the proposing party"),
        "for_subject": _("For the subject"),
    }


def person(user) -> str:
    """Name, role and organisation as the act names a party."""
    if user is None:
        return ""
    name = user.get_full_name() or user.get_username()
    profile = getattr(user, "profile", None)
    if profile is None:
        return name
    parts = [name, str(Role(profile.role).label)]
    if profile.organisation:
        parts.append(profile.organisation)
    return ", ".join(parts)


def when(moment) -> str:
    return "" if moment is None else to_astana(moment).strftime("%Y-%m-%d %H:%M")


def number_text(value: Decimal) -> str:
    return format(tidy_value(value), "f")


def document_for(act: CorrectionAct, *, draft: bool = False) -> ActDocument:
    decided = act.decided_at is not None
    return ActDocument(
        number=act.number or "",
        date=when(act.decided_at or act.proposed_at)[:10],
        status=str(ActStatus(act.status).label),
        subject=f"{act.subject.name}, BIN {act.subject.bin}",
        facility=f"{act.facility.object_id} {act.facility.name}",
        proposer=person(act.proposed_by),
        proposed_at=when(act.proposed_at),
        reason=act.reason,
        lines=[
            ActLine(
                object_id=line.object_id,
                device_id=line.device_id,
                quantity=line.quantity,
                interval=line.interval,
                period=when(line.period_start),
                original=number_text(line.original_value),
                original_revision=line.original_revision,
                corrected=number_text(line.corrected_value),
                unit=line.unit,
                difference=number_text(line.corrected_value - line.original_value),
                applied_revision=line.applied_revision,
            )
            for line in act.lines.order_by("object_id", "device_id", "quantity", "interval", "period_start")
        ],
        labels=labels(),
        decider=person(act.decided_by) if decided else "",
        decided_at=when(act.decided_at),
        refusal_reason=act.refusal_reason,
        source=act.source if act.status in (ActStatus.AGREED, ActStatus.APPLIED) else "",
        draft=draft,
    )


def build_pdf(act: CorrectionAct, *, draft: bool = False) -> bytes:
    return render_act(document_for(act, draft=draft))
