"""Compile the real third-party SyncChannel schemas, read in place from ../shared.

libxml2 keeps only the first ``xsd:import`` of a namespace, and the real schemas
split each namespace over several files imported from different places
(shep-notes §1). A small driver written to a temporary folder imports each
namespace once, including every file of it by absolute path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from egsu_core.shep.envelope import TYPES_NS
from tests.conftest import shared_path

XSD = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class Variant:
    folder: str
    common_ns: str
    common_files: tuple[str, ...]
    info_ns: str  # namespace of SyncMessageInfo / SyncMessageInfoResponse
    types_dir: str
    common_dir: str


VARIANTS = {
    "syncegg": Variant(
        folder="syncegg",
        common_ns="http://bip.bee.kz/common/v10/Types",
        common_files=("ErrorInfo.xsd", "SenderInfo.xsd", "Property.xsd", "StatusInfo.xsd"),
        info_ns=TYPES_NS,
        types_dir="SyncChannel/v10/Types",
        common_dir="common/v10/Types",
    ),
    "esb-isna": Variant(
        folder="esb-isna-variant",
        common_ns="http://bip.bee.kz/common/v10/types",
        common_files=("ErrorInfo.xsd", "SenderInfo.xsd", "Property.xsd", "StatusInfo.xsd", "MessageData.xsd"),
        info_ns="http://bip.bee.kz/SyncChannel/v10/types",
        types_dir="SyncChannel/v10/types",
        common_dir="common/v10/types",
    ),
}


def _schema(target_ns: str, body: str) -> str:
    return f'<xs:schema xmlns:xs="{XSD}" targetNamespace="{target_ns}">{body}</xs:schema>'


def _include(path: Path) -> str:
    return f'<xs:include schemaLocation="{path.as_uri()}"/>'


def _import(namespace: str, path: Path) -> str:
    return f'<xs:import namespace="{namespace}" schemaLocation="{path.as_uri()}"/>'


def compile_real_schema(name: str, workdir: Path, *, data_type: Path | None = None) -> etree.XMLSchema:
    """The real SendMessage/SendMessageResponse/fault schema of one published variant.

    ``data_type``: a schema declaring the type real clients name in ``data/@xsi:type``
    (core/egsu_core/isun/schema/isun-cs-request.xsd), so a message validates with its xsi:type as sent.
    """
    variant = VARIANTS[name]
    root = shared_path("shep", "schema", variant.folder)
    types = root / variant.types_dir
    common = root / variant.common_dir
    info_files = (types / "SyncMessageInfo.xsd", types / "SyncMessageInfoResponse.xsd")

    common_driver = workdir / f"{name}-common.xsd"
    common_driver.write_text(
        _schema(variant.common_ns, "".join(_include(common / f) for f in variant.common_files))
    )
    parts = [_import(variant.common_ns, common_driver)]
    if variant.info_ns == TYPES_NS:
        parts += [_include(path) for path in info_files]
    else:
        info_driver = workdir / f"{name}-info.xsd"
        info_driver.write_text(
            _schema(
                variant.info_ns,
                _import(variant.common_ns, common_driver) + "".join(map(_include, info_files)),
            )
        )
        parts.append(_import(variant.info_ns, info_driver))
    parts.append(_include(types / "ISyncChannel.xsd"))
    if data_type is not None:
        namespace = etree.parse(str(data_type)).getroot().get("targetNamespace")
        parts.append(_import(namespace, data_type))
    driver = workdir / f"{name}-driver.xsd"
    driver.write_text(_schema(TYPES_NS, "".join(parts)))
    return etree.XMLSchema(etree.parse(str(driver)))
