"""Validating the parts of an Office Open XML package against the ECMA-376 / ISO 29500 schemas.

The transitional XSDs (ISO/IEC 29500-4, i.e. ECMA-376 Part 4: wml.xsd, dml-chart.xsd, sml.xsd…),
the OPC schemas (opc-contentTypes.xsd, opc-relationships.xsd, opc-coreProperties.xsd) and the
Dublin Core schemas the core properties use are not committed: their licences are not ours to
grant. The tests look for them in $OOXML_SCHEMAS or ~/.cache/xlsx-tool/ooxml-schemas (any folder
layout: files are found by name) and skip with the reason when they are absent, except under
CI=true, where a missing schema set is a failure, never a silent skip. `python -m
tests.support.ooxml_schema --from DIR_OR_ZIP` fills the cache from Ecma's published archives (or
any folder holding the files).

Before validation each part goes through Markup Compatibility processing (ECMA-376 Part 3), as
Word does: attributes and elements of namespaces listed in mc:Ignorable are dropped and an
mc:AlternateContent is replaced by its Fallback. Schema checking is then strict: lxml reports the
first violation of each part with its line.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from lxml import etree

CACHE = Path.home() / ".cache" / "xlsx-tool" / "ooxml-schemas"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# namespace -> schema file, imported in this order by the driver schema. xml.xsd and the Dublin
# Core files come first, so the schemas that import them by a web address find them already loaded.
NAMESPACES: list[tuple[str, str]] = [
    (XML_NS, "xml.xsd"),
    ("http://purl.org/dc/elements/1.1/", "dc.xsd"),
    ("http://purl.org/dc/dcmitype/", "dcmitype.xsd"),
    ("http://purl.org/dc/terms/", "dcterms.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes", "shared-commonSimpleTypes.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "shared-relationshipReference.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/main", "dml-main.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/chart", "dml-chart.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/picture", "dml-picture.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing", "dml-wordprocessingDrawing.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing", "dml-spreadsheetDrawing.xsd"),
    ("http://schemas.openxmlformats.org/wordprocessingml/2006/main", "wml.xsd"),
    ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "sml.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/extended-properties", "shared-documentPropertiesExtended.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/custom-properties", "shared-documentPropertiesCustom.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/bibliography", "shared-bibliography.xsd"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/customXml", "shared-customXmlDataProperties.xsd"),
    ("http://schemas.openxmlformats.org/package/2006/content-types", "opc-contentTypes.xsd"),
    ("http://schemas.openxmlformats.org/package/2006/relationships", "opc-relationships.xsd"),
    ("http://schemas.openxmlformats.org/package/2006/metadata/core-properties", "opc-coreProperties.xsd"),
]
# Namespaces a consumer of the transitional schemas understands (everything else is an extension
# that mc:Ignorable must cover).
UNDERSTOOD = {ns for ns, _ in NAMESPACES} | {
    "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "http://schemas.openxmlformats.org/drawingml/2006/chartDrawing",
    "http://schemas.openxmlformats.org/drawingml/2006/diagram",
    "http://schemas.openxmlformats.org/drawingml/2006/lockedCanvas",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "urn:schemas-microsoft-com:vml", "urn:schemas-microsoft-com:office:office",
    "urn:schemas-microsoft-com:office:word", "urn:schemas-microsoft-com:office:excel",
    "http://www.w3.org/2001/XMLSchema-instance", MC,
}


def schema_folder() -> Path | None:
    """Where the schema files are, if every one of them is there."""
    root = Path(os.environ.get("OOXML_SCHEMAS") or CACHE)
    return root if root.is_dir() and not missing_files(root) else None


def missing_files(root: Path) -> list[str]:
    have = {p.name for p in root.rglob("*.xsd")}
    return [name for _ns, name in NAMESPACES if name not in have]


def schemas_missing_reason() -> str | None:
    root = Path(os.environ.get("OOXML_SCHEMAS") or CACHE)
    if not root.is_dir():
        return (f"ECMA-376 schemas not found in {root}: python -m tests.support.ooxml_schema --from "
                "<folder or Ecma zip> (or set OOXML_SCHEMAS)")
    missing = missing_files(root)
    return f"ECMA-376 schema files missing in {root}: {', '.join(missing)}" if missing else None


def schemas_or_skip() -> None:
    """Skip without the schemas; fail under CI=true, where they must be present."""
    import pytest

    reason = schemas_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but " + reason, pytrace=False)
    pytest.skip(reason)


class _Local(etree.Resolver):
    """Serves the web addresses some schemas import from (Dublin Core, W3C) from the local files."""

    def __init__(self, files: dict[str, Path]):
        super().__init__()
        self.files = files

    def resolve(self, url, pubid, context):  # noqa: ANN001 - lxml's signature
        name = PurePosixPath(str(url)).name
        if str(url).startswith(("http://", "https://")) and name in self.files:
            return self.resolve_filename(str(self.files[name]), context)
        return None


@lru_cache(maxsize=2)
def driver(root: Path) -> etree.XMLSchema:
    """One schema importing every namespace: a part is valid if its root element is."""
    files = {p.name: p for p in sorted(root.rglob("*.xsd"))}
    imports = "".join(f'<xsd:import namespace="{ns}" schemaLocation="{files[name].as_uri()}"/>'
                      for ns, name in NAMESPACES)
    text = (f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="urn:xlsx-tool:driver">{imports}</xsd:schema>')
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local(files))
    return etree.XMLSchema(etree.fromstring(text.encode(), parser, base_url=root.as_uri() + "/"))


def compatibility(root: etree._Element) -> etree._Element:
    """Markup Compatibility processing: what a consumer of the standard schemas sees."""
    ignorable: set[str] = set()
    for el in root.iter():
        value = el.get(f"{{{MC}}}Ignorable")
        if value:
            ignorable |= {el.nsmap.get(prefix or None, "") for prefix in value.split()}
    ignorable -= UNDERSTOOD

    def ns_of(tag: str) -> str:
        return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""

    for alt in list(root.iter(f"{{{MC}}}AlternateContent")):
        chosen = None
        for choice in alt:
            if choice.tag == f"{{{MC}}}Choice":
                required = {choice.nsmap.get(p) for p in (choice.get("Requires") or "").split()}
                if required and required <= UNDERSTOOD:
                    chosen = choice
                    break
            elif choice.tag == f"{{{MC}}}Fallback":
                chosen = choice
        parent = alt.getparent()
        index = parent.index(alt)
        parent.remove(alt)
        for child in reversed(list(chosen) if chosen is not None else []):
            parent.insert(index, child)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if ns_of(el.tag) in ignorable and el.getparent() is not None:
            el.getparent().remove(el)
            continue
        for name in list(el.attrib):
            if ns_of(name) in ignorable or ns_of(name) == MC:
                del el.attrib[name]
    return root


@dataclass(frozen=True)
class Invalid:
    part: str
    message: str

    def __str__(self) -> str:
        return f"{self.part}: {self.message}"


def xml_parts(blob: bytes) -> dict[str, bytes]:
    """Every XML part of a package (relationship parts and [Content_Types].xml included)."""
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
        xml_types = {}
        for el in types:
            key = el.get("Extension") or el.get("PartName")
            xml_types[key.lower()] = el.get("ContentType", "")
        out = {}
        for name in z.namelist():
            ext = name.rsplit(".", 1)[-1].lower()
            kind = xml_types.get("/" + name.lower(), xml_types.get(ext, ""))
            if name == "[Content_Types].xml" or kind.endswith("xml"):
                out[name] = z.read(name)
        return out


def validate(blob: bytes, root: Path | None = None) -> list[Invalid]:
    """Schema violations of every XML part of the package in `blob` (an empty list: valid)."""
    folder = root or schema_folder()
    if folder is None:
        raise RuntimeError(schemas_missing_reason())
    schema = driver(folder)
    found = []
    for name, data in sorted(xml_parts(blob).items()):
        tree = compatibility(etree.fromstring(data))
        if not schema.validate(tree):
            e = schema.error_log.last_error
            found.append(Invalid(name, f"line {e.line}: {e.message}"))
    return found


def install(source: Path, target: Path = CACHE) -> list[str]:
    """Copy the schema files from a folder or zip (nested zips too, as Ecma publishes them)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {name for _ns, name in NAMESPACES} | {"mc.xsd"}
    copied: list[str] = []

    def from_zip(data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for n in z.namelist():
                base = PurePosixPath(n).name
                if n.lower().endswith(".zip"):
                    from_zip(z.read(n))
                elif base in wanted:
                    (target / base).write_bytes(z.read(n))
                    copied.append(base)

    if source.is_dir():
        for p in source.rglob("*"):
            if p.name in wanted:
                shutil.copyfile(p, target / p.name)
                copied.append(p.name)
            elif p.suffix.lower() == ".zip":
                from_zip(p.read_bytes())
    else:
        from_zip(source.read_bytes())
    return sorted(set(copied))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, required=True,
                        help="a folder or a zip (e.g. Ecma's ECMA-376 Part 4 and Part 2 archives)")
    parser.add_argument("--to", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    print("\n".join(install(args.source, args.to)))
    missing = missing_files(args.to)
    if missing:
        print("still missing: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
