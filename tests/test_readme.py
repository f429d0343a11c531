"""The README is a user's first page: its rules table is the rule table in code."""

from __future__ import annotations

import re
from pathlib import Path

from otc_elb_listener import spec

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = re.compile(r"(<!-- rules-table:start -->\n)(.*?)(<!-- rules-table:end -->)", re.S)


def rewrite() -> None:
    """``python3 dev.py docs``: put the generated table into the README."""
    text = README.read_text()
    README.write_text(SECTION.sub(lambda m: f"{m[1]}{spec.markdown_table()}\n{m[3]}", text))


def test_the_readme_rules_table_is_the_rule_table() -> None:
    found = SECTION.search(README.read_text())
    assert found is not None, "README.md lost its rules-table markers"
    assert found[2].strip() == spec.markdown_table(), (
        "README.md's rules table differs from the rule table in code: run python3 dev.py docs")


def test_every_error_code_the_readme_names_is_in_the_table() -> None:
    named = set(re.findall(r"ELB\.\d{4}", README.read_text()))
    assert named - {"ELB.5000"} <= set(spec.ERROR_CODES), named - set(spec.ERROR_CODES)
