"""The docs tell the truth: the rules table in docs/ is the rule table in code, every code they
name is in the table, and the README stays a short first page."""

from __future__ import annotations

import re
from pathlib import Path

from otc_elb_listener import spec

README = Path(__file__).resolve().parent.parent / "README.md"
RULES_DOC = Path(__file__).resolve().parent.parent / "docs" / "api-rules.md"
SECTION = re.compile(r"(<!-- rules-table:start -->\n)(.*?)(<!-- rules-table:end -->)", re.S)


def rewrite() -> None:
    """``python3 dev.py docs``: put the generated table into docs/api-rules.md."""
    text = RULES_DOC.read_text()
    RULES_DOC.write_text(SECTION.sub(lambda m: f"{m[1]}{spec.markdown_table()}\n{m[3]}", text))


def test_the_docs_rules_table_is_the_rule_table() -> None:
    found = SECTION.search(RULES_DOC.read_text())
    assert found is not None, "docs/api-rules.md lost its rules-table markers"
    assert found[2].strip() == spec.markdown_table(), (
        "docs/api-rules.md's rules table differs from the rule table in code: run python3 "
        "dev.py docs")


def test_every_error_code_the_docs_name_is_in_the_table() -> None:
    for page in (README, *RULES_DOC.parent.glob("*.md")):
        named = set(re.findall(r"ELB\.\d{4}", page.read_text()))
        assert named - {"ELB.5000", "ELB.4090"} - spec.RESERVED_CODES <= set(spec.ERROR_CODES), (
            page.name, named - set(spec.ERROR_CODES))


def test_the_readme_is_a_short_first_page() -> None:
    """Reference goes to docs/: the README stays a user's path (about 2,500 words at most)."""
    words = len(README.read_text().split())
    assert words <= 2500, words
