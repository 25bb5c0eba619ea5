"""Error codes are enums per domain, each defined once; the docs' code tables agree with them."""

import re
from pathlib import Path

from carbonpoints.api.error_docs import API_ANSWERS, codes_of, enums, refusals, render

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _all_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for _title, enum in enums():
        for member in enum:
            assert member.value not in codes, (
                f"{member.value} is defined in {codes[member.value]} and {enum.__name__}"
            )
            codes[member.value] = enum.__name__
    return codes


def test_each_code_is_defined_once_in_the_enum_of_its_domain():
    codes = _all_codes()
    assert "insufficient_points" in codes and codes["insufficient_points"] == "SpendErrorCode"
    assert set(API_ANSWERS) <= set(codes)


def test_every_refusal_carries_a_code_of_an_enum():
    codes = _all_codes()
    stray = [
        (cls.__qualname__, code)
        for cls in refusals()
        for code in codes_of(cls)
        if code not in codes or not hasattr(code, "name")
    ]
    assert stray == []


def test_the_error_page_is_written_from_the_enums():
    page = (DOCS / "api-errors.md").read_text(encoding="utf-8")
    assert page == render() + "\n", "run: python manage.py error_codes_doc"
    for code in _all_codes():
        assert f"| `{code}` |" in page


def _documented_error_codes() -> dict[str, set[str]]:
    """Codes in the docs' tables of error answers: tables with a `code` and a `status` column."""
    found: dict[str, set[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        columns: list[str] = []
        for line in page.read_text(encoding="utf-8").splitlines():
            if not line.startswith("|"):
                columns = []
                continue
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not columns:
                columns = [cell.lower() for cell in cells]
                continue
            if "code" not in columns or "status" not in columns or set(line) <= set("|-: "):
                continue
            for code in re.findall(r"`([a-z_]+)`", cells[columns.index("code")]):
                found.setdefault(code, set()).add(page.name)
    return found


def test_every_code_the_docs_tables_name_exists():
    documented = _documented_error_codes()
    assert {"insufficient_points", "bad_signature", "claim_retired"} <= set(
        documented
    )  # the tables are read
    unknown = {code: pages for code, pages in documented.items() if code not in _all_codes()}
    assert unknown == {}


def test_no_view_queries_a_model_manager():
    views = [path for path in ROOT.glob("**/views.py") if ".venv" not in path.parts]
    assert len(views) >= 10
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in views
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.objects\b|get_object_or_404\(", line)
    ]
    assert offending == []
