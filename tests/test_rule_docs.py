"""Rule documentation: every page has every section, and docs/rules/ matches the rules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backbone.findings import Confidence, Severity
from backbone.report.rule_docs import (
    generated_pages,
    INDEX_FILE,
    REGENERATE_COMMAND,
    catalog_entries,
    catalog_markdown,
    engine_code_markdown,
    entry_markdown,
    main,
    render_rule_terminal,
    rule_markdown,
    write_docs,
)
from backbone.review.checker import check_source
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.context_kinds import Framework
from backbone.review.rules.base import Rule, RuleDoc, RuleOption, Scope

REPOSITORY_DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"
SECTIONS = (
    "## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Where it applies", "## Fix safety",
    "## Options",
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class _ExampleRule(Rule):
    code = "BB299"
    name = "example-rule"
    summary = "Per-row queries in an example."
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    frameworks = frozenset({Framework.SQLALCHEMY, Framework.DJANGO})
    scope = Scope.PROJECT
    options = (
        RuleOption("max_depth", 3, "How many project calls to follow."),
        RuleOption("ignore_names", ("health", "ping"), "Functions never reported."),
        RuleOption("strict", False, "Also report reads of cached relations."),
    )
    doc = RuleDoc(
        what_it_does="""
            Flags a query executed once per row.
        """,
        why_is_this_bad="N queries instead of one.",
        example="""
            for order in orders:
                order.customer.name
        """,
        use_instead="```python\norders = orders.select_related(\"customer\")\n```",
    )


EXPECTED_EXAMPLE_PAGE = """\
# BB299 example-rule

Per-row queries in an example.

- Family: BB2 data access
- Severity: warning
- Confidence: up to medium, as its evidence says: not yet measured on enough findings of real projects nobody tuned on; not in the default report: `--min-confidence medium` shows them
- Applies to: Django, SQLAlchemy
- Scope: the whole project (it follows calls and models across modules)

## What it does

Flags a query executed once per row.

## Why is this bad?

N queries instead of one.

## Example

```python
for order in orders:
    order.customer.name
```

## Use instead

```python
orders = orders.select_related("customer")
```

## Where it applies

Where the reported code runs decides whether it is reported and how severe it is (`context` in the JSON and SARIF output names it, with the evidence). An error needs high confidence: at medium or low confidence it is reported as a warning. Code that nothing in the project calls or names (`uncalled`) is reported at low confidence at most, out of the default report: `--min-confidence low` shows it.

| context | what runs there | severity |
|---|---|---|
| request | a request handler, or code a handler reaches | warning |
| task | a background task (Celery, RQ, Dramatiq, Huey, arq, Django-Q), or code it reaches | warning |
| unknown | code no known entry point reaches (library APIs, callbacks found by name) | warning |
| uncalled | a module-level function, or a method of a module-level class, that nothing in the project calls or names (no call, import, decorator, `__all__`, dotted-path string or attribute read of its name) and that no framework calls by convention, and its code: a leftover helper, or a library's public function | warning, low confidence at most |
| startup | start-up and shut-down hooks, app factories, AppConfig.ready, import time | warning |
| cli | CLI commands (click, typer, Flask CLI) and Django management commands | warning |
| script | files under scripts/ or bin/, and what the `if __name__ == "__main__":` block of a module nothing imports runs | warning |
| migration | Django migrations and Alembic revisions | not reported |
| test | tests, fixtures, factories and test-support modules | not reported |
| unreachable | classes and functions the project names only in branches that never run (`if False:`, `elif ... and False:`), and their code; code after a `return`, `raise`, `continue` or `break` of its block | not reported |

## Fix safety

backbone does not rewrite code for this rule; the finding says what to change.

## Options

Set in `[tool.backbone.rules.BB299]` (the rule's name, `[tool.backbone.rules.example-rule]`, works too):

- `max_depth` (default: `3`): How many project calls to follow.
- `ignore_names` (default: `["health", "ping"]`): Functions never reported.
- `strict` (default: `false`): Also report reads of cached relations.

```toml
[tool.backbone.rules.BB299]
max_depth = 3
ignore_names = ["health", "ping"]
strict = false
```
"""


def test_rule_page_is_exact() -> None:
    assert rule_markdown(_ExampleRule) == EXPECTED_EXAMPLE_PAGE


def _assert_complete_page(page: str, code: str, name: str) -> None:
    assert page.startswith(f"# {code} {name}\n\n")
    positions = [page.find(f"\n{section}\n\n") for section in SECTIONS]
    assert all(position > 0 for position in positions), f"{code}: a section is missing"
    assert positions == sorted(positions), f"{code}: sections out of order"
    for section, following in zip(SECTIONS, (*SECTIONS[1:], None)):
        body = page.split(f"\n{section}\n\n", 1)[1]
        if following is not None:
            body = body.split(f"\n{following}\n", 1)[0]
        assert body.strip(), f"{code}: {section} is empty"
    assert "- Severity: " in page and "- Confidence: " in page and "- Applies to: " in page
    assert page.count("```python") >= 2, f"{code}: Example and Use instead must be code blocks"
    assert page.endswith("\n") and not page.endswith("\n\n")


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_every_rule_page_has_every_section(code: str) -> None:
    rule = all_rules()[code]
    page = rule_markdown(rule)
    _assert_complete_page(page, code, rule.name)
    options_section = page.split("\n## Options\n\n", 1)[1]
    if rule.options:
        for option in rule.options:
            assert f"`{option.name}`" in options_section
    else:
        assert options_section == "None.\n"


@pytest.mark.parametrize("code", sorted(ENGINE_CODES))
def test_engine_code_pages(code: str) -> None:
    page = engine_code_markdown(code)
    name, summary = ENGINE_CODES[code]
    _assert_complete_page(page, code, name)
    assert f"\n\n{summary}\n\n" in page
    assert "- Reported by: the engine" in page


def test_catalog_lists_every_code_with_a_link() -> None:
    catalog = catalog_markdown()
    codes = [*ENGINE_CODES, *all_rules()]
    for code in codes:
        assert f"| [{code}]({code}.md) |" in catalog
    assert "## BB0 - engine" in catalog
    rows = [line for line in catalog.splitlines() if line.startswith("| [BB")]
    assert len(rows) == len(codes)
    assert [entry.code for entry in catalog_entries()] == sorted(codes)


def test_catalog_escapes_table_separators(monkeypatch: pytest.MonkeyPatch) -> None:
    from backbone.report import rule_docs

    class _PipeRule(_ExampleRule):
        summary = "Reads `a | b` in a loop."

    monkeypatch.setattr(rule_docs, "all_rules", lambda: {"BB299": _PipeRule})
    assert "| [BB299](BB299.md) | example-rule | warning | Reads `a \\| b` in a loop. |" in catalog_markdown()


def test_write_docs_writes_every_page_and_removes_stale_ones(tmp_path: Path) -> None:
    (tmp_path / "BB999.md").write_text("a rule that no longer exists\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not generated\n", encoding="utf-8")
    written = write_docs(tmp_path)
    names = sorted(path.name for path in written)
    assert names == sorted([INDEX_FILE, *(f"{code}.md" for code in [*ENGINE_CODES, *all_rules()])])
    assert not (tmp_path / "BB999.md").exists()
    assert (tmp_path / "notes.txt").exists()
    page = (tmp_path / "BB000.md").read_text(encoding="utf-8")
    assert page.endswith(engine_code_markdown("BB000"))
    assert REGENERATE_COMMAND in page


def test_main_regenerates_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules"
    assert main([str(target)]) == 0
    assert (target / INDEX_FILE).exists()
    assert "Wrote" in capsys.readouterr().out
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_docs_in_the_repository_are_up_to_date(tmp_path: Path) -> None:
    write_docs(tmp_path)
    expected = {path.name: path.read_text(encoding="utf-8") for path in sorted(tmp_path.iterdir())}
    actual = (
        {path.name: path.read_text(encoding="utf-8") for path in sorted(REPOSITORY_DOCS.glob("*.md"))}
        if REPOSITORY_DOCS.is_dir()
        else {}
    )
    stale = sorted(name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name))
    assert not stale, f"docs/rules/ is stale ({', '.join(stale)}): run `{REGENERATE_COMMAND}`"


def test_terminal_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    colored = render_rule_terminal(EXPECTED_EXAMPLE_PAGE, color=True, width=80)
    assert ANSI_ESCAPE.search(colored)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    plain = render_rule_terminal(EXPECTED_EXAMPLE_PAGE, color=False, width=80)
    assert "\x1b" not in plain
    assert "BB299 example-rule" in plain and "What it does" in plain and "order.customer.name" in plain
    assert all(line == line.rstrip() for line in plain.splitlines())
    assert max(len(line) for line in plain.splitlines()) <= 80


def test_entry_markdown_matches_rule_markdown() -> None:
    for entry in catalog_entries():
        if entry.is_engine_code:
            assert entry_markdown(entry) == engine_code_markdown(entry.code)
        else:
            assert entry_markdown(entry) == rule_markdown(all_rules()[entry.code])


# -- documented examples run ----------------------------------------------------------------

_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_documented_examples_parse_and_do_what_their_section_says(code: str) -> None:
    rule = all_rules()[code]
    page = rule_markdown(rule)
    blocks = _PYTHON_BLOCK.findall(page)
    assert len(blocks) >= 2, f"{code}: the page has no Example and Use instead blocks"
    for block in blocks:
        ast.parse(block)  # indentation kept: every block is valid Python
    example, use_instead = blocks[0], blocks[1]
    # Where the rule's own examples run (a migration for BB7), else an ordinary app module.
    path = rule.example_path if rule.example_path != "example.py" else "app/views.py"
    module = path.removesuffix(".py").replace("/", ".")
    found = [f for f in check_source(example, (code,), path=path, module=module) if f.code == code]
    assert found, f"{code}: the documented Example produces no {code} finding"
    fixed = [f for f in check_source(use_instead, (code,), path=path, module=module) if f.code == code]
    assert not fixed, f"{code}: the documented Use instead still produces {code}"


def test_generated_pages_hold_only_valid_python() -> None:
    for name, page in generated_pages().items():
        blocks = _PYTHON_BLOCK.findall(page)
        if name == "BB000.md":
            blocks = blocks[1:]  # BB000's example is, by design, a file that does not parse
        for block in blocks:
            ast.parse(block, filename=name)
