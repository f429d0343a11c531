"""The docs tell the truth: the rules table in docs/ is the rule table in code, every code they
name is in the table, and the README stays a short first page."""

from __future__ import annotations

import re
from pathlib import Path

from otc_elb_listener import rules
from otc_elb_listener.rules import listener as listener_rules

README = Path(__file__).resolve().parents[2] / "README.md"
RULES_DOC = Path(__file__).resolve().parents[2] / "docs" / "api-rules.md"
#: Each generated table of docs/api-rules.md: its markers and the code that makes it.
TABLES = tuple((re.compile(rf"(<!-- {module.__name__.rsplit('.', 1)[1]}-table:start -->\n)"
                           rf"(.*?)(<!-- {module.__name__.rsplit('.', 1)[1]}-table:end -->)",
                           re.S), module.markdown_table)
               for module in rules.modules() if hasattr(module, "TABLE"))


def rewrite() -> None:
    """``python3 dev.py docs``: put the generated tables into docs/api-rules.md."""
    text = RULES_DOC.read_text()
    for section, table in TABLES:
        text = section.sub(lambda m, table=table: f"{m[1]}{table()}\n{m[3]}", text)
    RULES_DOC.write_text(text)


def test_the_docs_rules_tables_are_the_rule_tables() -> None:
    assert len(TABLES) == sum(hasattr(module, "TABLE") for module in rules.modules()) >= 3
    for section, table in TABLES:
        found = section.search(RULES_DOC.read_text())
        assert found is not None, f"docs/api-rules.md lost its markers {section.pattern[:30]}"
        assert found[2].strip() == table(), (
            "docs/api-rules.md's rules table differs from the rule table in code: run "
            "python3 dev.py docs")


def test_every_error_code_the_docs_name_is_in_the_table() -> None:
    for page in (README, *RULES_DOC.parent.glob("*.md")):
        named = set(re.findall(r"ELB\.\d{4}", page.read_text()))
        known = set(rules.error_codes())
        assert named - {"ELB.5000", "ELB.4090"} - listener_rules.RESERVED_CODES <= known, (
            page.name, named - known)


def test_the_readme_is_a_short_first_page() -> None:
    """Reference goes to docs/: the README stays a user's path (about 2,500 words at most)."""
    words = len(README.read_text().split())
    assert words <= 2500, words


def test_the_readme_program_with_all_four_resources_is_the_example_the_cli_tier_runs() -> None:
    """The README's whole-listener program is the example folder's, which
    ``tests/cli/test_program_folder.py`` runs through the real CLI."""
    section = README.read_text().split("## A whole listener", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    example = (README.parent / "examples" / "https_listener" / "__main__.py").read_text()
    assert block.strip() and block in example


def test_dev_py_docs_finds_the_rewrite() -> None:
    """``python3 dev.py docs`` imports :func:`rewrite` by path: it broke once when the tests
    moved into folders of their own."""
    from importlib import import_module

    dev = (README.parent / "dev.py").read_text()
    found = re.search(r"from (tests[.\w]+) import rewrite", dev)
    assert found is not None, "dev.py docs no longer names the rewrite"
    assert import_module(found[1]).rewrite is rewrite
