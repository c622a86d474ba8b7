"""Incremental review: after an edit, PROJECT findings are computed again only where the
edit can change them, and a warm review always reports what a cold review of the same
tree reports."""

from __future__ import annotations

import ast
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import write_tree

from backbone.api import ReviewRequest, review
from backbone.findings import Confidence, Finding
from backbone.review import engine
from backbone.review.engine import ReviewResult

SHOP = Path(__file__).parent / "fixtures" / "projects" / "django_shop"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "django_shop"
    shutil.copytree(SHOP, root)
    return root


def run(root: Path, use_cache: bool = True) -> ReviewResult:
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=use_cache, jobs=1))
    assert not result.internal_errors, result.internal_errors
    return result


def python_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if ".backbone_cache" not in path.parts)


def insert_line(path: Path, number: int, text: str) -> None:
    """Insert `text` as line `number` (1-based) of `path`."""
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(number - 1, text + "\n")
    path.write_text("".join(lines))


def functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text())
    return [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body[0].lineno > node.lineno
    ]


# --- the edits: each changes one file of the project, as a person editing it would --------


def docstring_on_top(root: Path, rng: random.Random) -> str:
    path = rng.choice(python_files(root))
    insert_line(path, 1, f'"""Edited {rng.randrange(1000)}."""')
    return f"docstring on top of {path.name}"


def comment_on_top(root: Path, rng: random.Random) -> str:
    path = rng.choice(python_files(root))
    insert_line(path, 1, "# edited")
    return f"comment on top of {path.name}"


def _function(root: Path, rng: random.Random) -> tuple[Path, ast.FunctionDef | ast.AsyncFunctionDef]:
    candidates = [(path, function) for path in python_files(root) for function in functions(path)]
    return rng.choice(candidates)


def statement_in_a_body(root: Path, rng: random.Random) -> str:
    path, function = _function(root, rng)
    first = function.body[0]
    insert_line(path, first.lineno, " " * first.col_offset + f"edited = {rng.randrange(1000)}")
    return f"assignment at the start of {function.name} in {path.name}"


def call_in_a_body(root: Path, rng: random.Random) -> str:
    path, function = _function(root, rng)
    last = function.body[-1]
    line = (last.end_lineno or last.lineno) + 1
    call = rng.choice(["print('edited')", "list(range(3))", "len([])"])
    insert_line(path, line, " " * last.col_offset + call)
    return f"{call} at the end of {function.name} in {path.name}"


def blank_line(root: Path, rng: random.Random) -> str:
    path = rng.choice(python_files(root))
    count = len(path.read_text().splitlines())
    number = rng.randint(1, count + 1)
    insert_line(path, number, "")
    return f"blank line {number} in {path.name}"


def new_import(root: Path, rng: random.Random) -> str:
    path = rng.choice(python_files(root))
    statement = rng.choice(["import json", "from shop import services", "from shop.models import Order", "import requests"])
    insert_line(path, 1, statement)
    return f"{statement} on top of {path.name}"


def _models(root: Path) -> tuple[Path, list[ast.ClassDef]]:
    path = root / "shop" / "models.py"
    tree = ast.parse(path.read_text())
    return path, [node for node in tree.body if isinstance(node, ast.ClassDef)]


def new_relation(root: Path, rng: random.Random) -> str:
    path, models = _models(root)
    if not models:
        return "no model left to relate"
    model = rng.choice(models)
    target = rng.choice(["Product", "Customer", "Tag", "Order"])
    number = rng.randrange(1000)
    field = f"    linked_{number} = models.ForeignKey(\"{target}\", on_delete=models.CASCADE, related_name=\"linked_{number}\")"
    insert_line(path, model.body[0].lineno, field)
    return f"relation {model.name} -> {target}"


def model_removed(root: Path, rng: random.Random) -> str:
    path, models = _models(root)
    if not models:
        return "no model left to remove"
    model = rng.choice(models)
    lines = path.read_text().splitlines(keepends=True)
    del lines[model.lineno - 1 : model.end_lineno]
    path.write_text("".join(lines))
    return f"model {model.name} removed"


def number_changed(root: Path, rng: random.Random) -> str:
    """A number in a function body changed in place: no line moves."""
    candidates = [
        (path, node, node.value) for path in python_files(root) for function in functions(path)
        for node in ast.walk(function)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)
        and node.lineno == node.end_lineno
    ]
    if not candidates:
        return "no number left to change"
    path, node, value = rng.choice(candidates)
    lines = path.read_text().splitlines(keepends=True)
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line[: node.col_offset] + str(value + 1) + line[node.end_col_offset :]
    path.write_text("".join(lines))
    return f"number on line {node.lineno} of {path.name}"


def file_restored(root: Path, rng: random.Random) -> str:
    """A file back to what it was at first: content the cache has seen before."""
    path = rng.choice(python_files(root))
    original = SHOP / path.relative_to(root)
    if original.is_file():
        path.write_text(original.read_text())
    return f"{path.name} restored"


EDITS: list[Callable[[Path, random.Random], str]] = [
    number_changed,
    file_restored,
    docstring_on_top,
    comment_on_top,
    statement_in_a_body,
    call_in_a_body,
    blank_line,
    new_import,
    new_relation,
    model_removed,
]


def keys(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: (finding.sort_key(), finding.message))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_warm_review_after_random_edits_reports_what_a_cold_review_reports(shop: Path, seed: int) -> None:
    rng = random.Random(seed)
    first = run(shop)
    assert len(first.findings) > 20  # PROJECT rules across files: the shop is worth editing
    done: list[str] = []
    for _ in range(10):
        done.append(rng.choice(EDITS)(shop, rng))
        warm = run(shop)
        cold = run(shop, use_cache=False)
        assert keys(warm.findings) == keys(cold.findings), f"after: {'; '.join(done)}"
        assert warm.files_from_cache >= warm.files_reviewed - 1


def test_an_edit_that_changes_no_facts_checks_the_project_rules_of_that_file_alone(shop: Path) -> None:
    cold = run(shop)
    assert cold.project_checked == len(python_files(shop))
    with (shop / "shop" / "views.py").open("a") as stream:
        stream.write("# a comment at the end\n")
    warm = run(shop)
    assert warm.project_checked == 1
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)


def test_moving_positions_checks_again_only_the_files_whose_findings_may_quote_them(shop: Path) -> None:
    run(shop)
    insert_line(shop / "shop" / "catalog.py", 1, '"""The catalog."""')
    warm = run(shop)
    assert 1 <= warm.project_checked < len(python_files(shop)) // 2
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)


def test_a_relation_declared_elsewhere_is_quoted_at_its_new_line(shop: Path) -> None:
    """BB207 quotes where a relation is declared in models.py: moving the declaration
    re-checks the serializer that reads it."""
    before = [finding for finding in run(shop).findings if finding.code == "BB207"]
    assert before and any("models.py:" in finding.message for finding in before)
    insert_line(shop / "shop" / "models.py", 1, '"""The shop\'s models."""')
    after = [finding for finding in run(shop).findings if finding.code == "BB207"]
    assert [finding.message for finding in after] != [finding.message for finding in before]
    assert keys(after) == keys([finding for finding in run(shop, use_cache=False).findings if finding.code == "BB207"])


def new_model(root: Path) -> None:
    """A model declared on top of the models module: every file's model graph changes."""
    insert_line(root / "shop" / "models.py", 5, "class Coupon(models.Model):\n    code = models.CharField(max_length=20)\n\n")


def test_a_changed_declaration_checks_every_file_again(shop: Path) -> None:
    run(shop)
    new_model(shop)
    warm = run(shop)
    assert warm.project_checked == len(python_files(shop))
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)


def test_an_edit_that_changes_what_every_file_sees_is_checked_by_more_workers(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool starts for the edited file alone; the files checked again after it get workers of their own."""
    for number in range(60):
        (shop / "shop" / f"report_{number}.py").write_text(
            "from shop.models import Order\n\n\n"
            f"def totals_{number}(order: Order) -> int:\n"
            "    return order.total_cents\n"
        )
    result, _ = review(ReviewRequest(paths=(str(shop),), jobs=2))
    assert not result.internal_errors
    new_model(shop)
    started: list[object] = []
    start_worker = engine._ProcessWorker.__init__

    def counted(worker: object, *arguments: object, **keywords: object) -> None:
        started.append(worker)
        start_worker(worker, *arguments, **keywords)  # type: ignore[arg-type]

    monkeypatch.setattr(engine._ProcessWorker, "__init__", counted)
    warm, _ = review(ReviewRequest(paths=(str(shop),), jobs=2))
    monkeypatch.undo()
    assert len(started) == 1  # next to the in-process worker that read the edited file
    cold, _ = review(ReviewRequest(paths=(str(shop),), jobs=2, use_cache=False))
    assert warm.project_checked == len(python_files(shop))
    assert not warm.internal_errors
    assert keys(warm.findings) == keys(cold.findings)


@pytest.mark.parametrize("edit", ["docstring", "deletion"])
def test_without_the_facts_file_the_cached_files_are_read_again(shop: Path, edit: str) -> None:
    run(shop)
    for facts in shop.joinpath(".backbone_cache").rglob("facts.msgpack"):
        facts.unlink()
    if edit == "docstring":
        insert_line(shop / "shop" / "models.py", 1, '"""The models."""')
    else:
        (shop / "shop" / "legacy.py").unlink()
    warm = run(shop)
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)
    assert warm.project_checked == len(python_files(shop))


def facts_of(text: str) -> object:
    from backbone.review.extraction import extract_module_facts

    return extract_module_facts(ast.parse(text), "shop/models.py", "shop.models", False)


def test_moving_lines_keeps_the_shape_of_the_facts_and_new_names_change_it() -> None:
    from backbone.review.incremental import facts_digests, moved_positions
    from backbone.review.project import ModuleFacts

    text = (SHOP / "shop" / "models.py").read_text()
    before = facts_of(text)
    moved = facts_of('"""The models."""\n\n' + text)
    imported = facts_of("import json\n" + text)
    assert isinstance(before, ModuleFacts) and isinstance(moved, ModuleFacts) and isinstance(imported, ModuleFacts)
    assert facts_digests(moved).shape == facts_digests(before).shape
    assert facts_digests(moved).exact != facts_digests(before).exact
    assert facts_digests(imported).shape != facts_digests(before).shape
    shifted = moved_positions(before, moved)
    assert shifted is not None
    # Every line moved down by 2: the old lines of the models are among the moved positions.
    assert {model.line for model in before.models if hasattr(model, "line") and model.line} <= shifted


def test_the_digests_are_the_same_in_every_process() -> None:
    """Sets are digested in a fixed order, whatever the hash seed of the process."""
    script = (
        "import ast, sys\n"
        "from backbone.review.incremental import facts_digests\n"
        "from backbone.review.extraction import extract_module_facts\n"
        "text = open(sys.argv[1]).read()\n"
        "print(facts_digests(extract_module_facts(ast.parse(text), 'shop/views.py', 'shop.views', False)))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, str(SHOP / "shop" / "views.py")],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


# --- edits that change the project's names: each warm review equals a cold one ------------


def _warm_equals_cold(shop: Path, edit: Callable[[Path], None]) -> ReviewResult:
    run(shop)
    run(shop)
    edit(shop)
    warm = run(shop)
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)
    # And again from the cache this review left.
    assert keys(run(shop).findings) == keys(warm.findings)
    return warm


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_adding_an_import_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        insert_line(root / "shop" / "services.py", 4, "import json")

    _warm_equals_cold(shop, edit)


def test_removing_a_symbol_another_file_imports_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        _replace(root / "shop" / "customers.py", "def customer_email(order: Order) -> str:\n    return load_customer(order.customer_id).email\n", "")

    _warm_equals_cold(shop, edit)


def test_renaming_a_function_called_from_another_file_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        _replace(root / "shop" / "customers.py", "def load_customer(", "def fetch_customer(")
        _replace(root / "shop" / "customers.py", "return load_customer(", "return fetch_customer(")

    _warm_equals_cold(shop, edit)


def test_a_function_renamed_in_the_file_that_calls_it_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        _replace(root / "shop" / "customers.py", "def customer_email(", "def customer_address(")

    _warm_equals_cold(shop, edit)


def test_a_context_manager_edited_in_another_file_reviews_as_a_cold_review(shop: Path) -> None:
    """BB206 leaves out an update in the block of a project context manager that takes a lock;
    the context manager, in another file, stops entering the class that takes it: the update
    is reported, as a cold review reports it."""
    (shop / "shop" / "locking.py").write_text(
        "from contextlib import contextmanager\n\n"
        "from django.db import connection, transaction\n\n\n"
        "class StockLock:\n"
        "    def __enter__(self):\n"
        "        self._atomic = transaction.atomic()\n"
        "        self._atomic.__enter__()\n"
        "        with connection.cursor() as cursor:\n"
        "            cursor.execute(\"LOCK TABLE shop_product IN EXCLUSIVE MODE\")\n\n"
        "    def __exit__(self, *exc):\n"
        "        return self._atomic.__exit__(*exc)\n\n\n"
        "@contextmanager\n"
        "def stock_locked():\n"
        "    with StockLock():\n"
        "        yield\n"
    )
    (shop / "shop" / "restock.py").write_text(
        "from shop.locking import stock_locked\n"
        "from shop.models import Product\n\n\n"
        "def restock(product_id: int, count: int) -> None:\n"
        "    with stock_locked():\n"
        "        product = Product.objects.get(pk=product_id)\n"
        "        product.stock += count\n"
        "        product.save()\n"
    )

    def restocked(findings: list[Finding]) -> list[int]:
        return [finding.line for finding in findings if finding.code == "BB206" and finding.path.endswith("restock.py")]

    assert restocked(run(shop).findings) == []

    def edit(root: Path) -> None:
        _replace(root / "shop" / "locking.py", "    with StockLock():\n        yield\n", "    yield\n")

    warm = _warm_equals_cold(shop, edit)
    assert restocked(warm.findings) == [8]


# A function nothing calls or names: its findings are at low confidence until another file names it.
RATES = {
    "backbone.toml": "",
    "app/__init__.py": "",
    "app/clients.py": "import requests\n\n\ndef fetch_rates(url):\n    return requests.get(url).json()\n",
    "app/views.py": 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/health")\ndef health():\n    return {"ok": True}\n',
    "app/sources.py": "SOURCES = {}\n",
}


@pytest.mark.parametrize(
    ("path", "text", "context"),
    [
        (
            "app/views.py",
            RATES["app/views.py"].replace("from flask", "from app.clients import fetch_rates\nfrom flask")
            + '\n\n@app.get("/rates")\ndef rates():\n    return fetch_rates("https://rates.example.com")\n',
            "request",
        ),
        # Module-level code names it, no function's calls change: only the names the file reads do.
        ("app/sources.py", 'from app import clients\n\nSOURCES = {"default": clients.fetch_rates}\n', "unknown"),
    ],
    ids=["a call in a handler", "a name at module level"],
)
def test_naming_an_uncalled_function_in_another_file_brings_its_findings_back(
    tmp_path: Path, path: str, text: str, context: str
) -> None:
    root = write_tree(tmp_path / "rates", RATES)

    def timeouts(result: ReviewResult) -> list[tuple[object, ...]]:
        return [(f.path, f.line, f.context, f.confidence) for f in result.findings if f.code == "BB102"]

    assert timeouts(run(root)) == [("app/clients.py", 5, "uncalled", Confidence.LOW)]
    (root / path).write_text(text)
    warm = run(root)
    assert warm.files_from_cache == len(RATES) - 2  # the edited file alone is read again
    assert keys(warm.findings) == keys(run(root, use_cache=False).findings)
    assert timeouts(warm) == [("app/clients.py", 5, context, Confidence.HIGH)]


def test_adding_a_file_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        (root / "shop" / "reports.py").write_text(
            "from shop.models import Order\n\n\n"
            "def emails() -> list[str]:\n"
            "    return [order.customer.email for order in Order.objects.all()]\n"
        )

    _warm_equals_cold(shop, edit)


def test_deleting_a_file_reviews_as_a_cold_review(shop: Path) -> None:
    def edit(root: Path) -> None:
        (root / "shop" / "customers.py").unlink()

    _warm_equals_cold(shop, edit)


def test_an_import_no_check_reads_keeps_the_other_files_project_findings(shop: Path) -> None:
    """An import that no check resolves through the edited module; each warm review keeps
    what its checks read for the next one."""
    run(shop)
    insert_line(shop / "shop" / "services.py", 4, "import json")
    first = run(shop)
    assert 1 <= first.project_checked <= 4 < len(python_files(shop))
    assert keys(first.findings) == keys(run(shop, use_cache=False).findings)
    insert_line(shop / "shop" / "services.py", 4, "import csv")
    second = run(shop)
    assert keys(second.findings) == keys(run(shop, use_cache=False).findings)


def test_a_tracked_module_has_every_field_of_the_module_facts() -> None:

    from backbone.review.project import ModuleFacts
    from backbone.review.reads import TrackedModule

    assert all(isinstance(getattr(TrackedModule, field, None), property) for field in ModuleFacts.__struct_fields__)


def test_the_reads_of_the_checks_are_recorded_key_by_key() -> None:
    from backbone.review import reads
    from backbone.review.project import ProjectIndex

    facts = facts_of("import os\n\ndef load():\n    return os.getcwd()\n")
    index = ProjectIndex.build([facts])  # type: ignore[list-item]
    index.track()
    with reads.tracking() as read:
        assert index.function("shop.models.load") is not None
        assert index.resolve("shop.models.os.getcwd") == "os.getcwd"
    assert {"F\0shop.models.load", "M\0shop.models", "I\0shop.models\0os"} <= read
    assert "A\0shop.models\0imports" not in read
    with reads.tracking() as read:
        assert "os" in index.modules["shop.models"].imports
    assert read == {"M\0shop.models", "I\0shop.models\0os"}


def test_a_damaged_reads_file_is_ignored(shop: Path) -> None:
    run(shop)
    files = [path for path in (shop / ".backbone_cache").rglob("reads.msgpack")]
    assert files
    for path in files:
        path.write_bytes(path.read_bytes()[:-3] + b"\xc1\xc1\xc1")
    insert_line(shop / "shop" / "services.py", 4, "import json")
    assert keys(run(shop).findings) == keys(run(shop, use_cache=False).findings)


def test_a_new_name_no_check_reads_keeps_the_other_files_project_findings(shop: Path) -> None:
    """A module-level constant nobody imports changes the module's symbols, which no check of
    another file read: the edited file alone is checked again."""
    run(shop)
    insert_line(shop / "shop" / "services.py", 8, "RECEIPT_PREFIX = 'Receipt'")
    warm = run(shop)
    # The edited file, and those whose findings quote a position the edit moved.
    assert 1 <= warm.project_checked <= 4 < len(python_files(shop))
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)


def test_moving_positions_runs_again_only_the_rules_whose_findings_may_quote_them(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docstring on top of models.py moves every position there: a file whose BB207 quotes
    one is checked again by BB207 (and the rules that mask source lines) alone, and its other
    findings stand; the review is the cold one."""
    from backbone.review.checker import Checker
    from backbone.review.rules import all_rules
    from backbone.review.rules.base import Scope

    run(shop)
    checked: dict[str, list[str]] = {}
    original = Checker._check

    def check(self: Checker, rules: list[type], parsed: object, *args: object) -> object:
        checked[parsed.job.display] = [rule.code for rule in rules]  # type: ignore[attr-defined]
        return original(self, rules, parsed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Checker, "_check", check)
    insert_line(shop / "shop" / "models.py", 1, '"""The shop\'s models."""')
    warm = run(shop)
    monkeypatch.undo()
    partial = {display: codes for display, codes in checked.items() if display != "shop/models.py"}
    assert "BB207" in partial["shop/views.py"]
    project_rules = {code for code in all_rules() if all_rules()[code].scope is Scope.PROJECT}
    masking = {code for code in project_rules if all_rules()[code].masks_source}
    assert all(masking <= set(codes) < project_rules for codes in partial.values())
    assert keys(warm.findings) == keys(run(shop, use_cache=False).findings)


def test_a_rule_reporting_sensitive_spans_says_it_masks_source() -> None:
    """A check running some rules again runs those that mask source lines too: a rule whose
    reports can carry `sensitive_spans` must say so (`masks_source`)."""
    import inspect

    from backbone.review.rules import all_rules

    registry = all_rules()
    for code in registry:
        rule = registry[code]
        source = inspect.getsource(sys.modules[rule.__module__])
        assert ("sensitive_spans" in source) == rule.masks_source, code


def test_the_collector_is_back_on_after_a_review_whatever_happens(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine turns the automatic collector off before loading the rules: it turns it back
    on after the review, and when loading the rules fails."""
    import gc

    from backbone.review.jobs import RuleSelection

    assert gc.isenabled()
    run(shop)
    assert gc.isenabled() and gc.get_freeze_count() == 0

    def failing(self: RuleSelection) -> bool:
        raise RuntimeError("a rule that cannot load")

    monkeypatch.setattr(RuleSelection, "has_project_rules", failing)
    with pytest.raises(RuntimeError):
        run(shop, use_cache=False)
    assert gc.isenabled()


def test_an_edit_of_any_field_of_a_module_s_facts_changes_the_key_that_field_is_read_by() -> None:
    """Every field a check reads through `TrackedModule` (`A` keys) is compared after an edit: a
    field left out would leave the findings that read it stale."""
    import ast as ast_module

    from msgspec.structs import replace

    from backbone.review.extraction import extract_module_facts
    from backbone.review.incremental import changed_facts
    from backbone.review.project import ModuleFacts, ProjectIndex

    from backbone.review.incremental import _PRESENCE_FIELDS

    facts = extract_module_facts(ast_module.parse("HEADER = 'x-foo'\n"), "app/other.py", "app.other", False)
    before = ProjectIndex.build([facts])

    def changed(value: object) -> object:
        if isinstance(value, bool):
            return not value
        if isinstance(value, str):
            return value + "x"
        if isinstance(value, (tuple, frozenset)):
            return type(value)([*value, "x"])
        assert isinstance(value, dict), type(value)
        return {**value, "x": "y"}

    fields = [name for name in ModuleFacts.__struct_fields__ if name not in _PRESENCE_FIELDS]
    assert len(fields) == len(ModuleFacts.__struct_fields__) - 2
    for name in fields:
        edited = replace(facts, **{name: changed(getattr(facts, name))})
        changes = changed_facts(before, ProjectIndex.build([edited]), [(facts, edited)])
        assert f"A\0app.other\0{name}" in changes.keys, name


def test_a_line_quoted_with_a_file_no_edit_changed_cannot_have_moved() -> None:
    # `path:line` is how findings quote a position of another file: one of a file whose facts
    # no edit changed is where it was. Any other number may be a moved position, a path that
    # ends one of the edited files' (a base name) included.
    from backbone.findings import Location, Severity
    from backbone.review.incremental import quoted_numbers

    def finding(message: str) -> Finding:
        return Finding("BB207", "x", Severity.WARNING, Confidence.HIGH, Location("shop/views.py", 3, 1), message)

    found = [
        finding("rows (shop/views.py:12) read `Order.lines` (shop/models.py:40) per row"),
        finding("`check()` calls it on each row of a query (models.py:41), on line 7"),
        finding("declared at my dir/models.py:43 and app/models.pyi:44"),
    ]
    assert quoted_numbers(found) == {12, 40, 41, 7, 43, 44}
    assert quoted_numbers(found, frozenset({"shop/models.py"})) == {40, 41, 7}
    assert quoted_numbers(found, frozenset({"shop/views.py"})) == {12, 7}
    assert quoted_numbers(found, frozenset({"my dir/models.py"})) == {7, 41, 43}
    assert quoted_numbers(found, frozenset()) == {7}
    # Whatever stands before the path (a line break, a tab, `./`), it is read as the text holds it.
    spaced = [finding("declared at\napp/models.py:42"), finding("x\tapp/models.py:43 and ./app/models.py:44")]
    assert quoted_numbers(spaced, frozenset({"app/models.py"})) == {42, 43, 44}
    assert quoted_numbers(spaced, frozenset({"app/views.py"})) == set()
    assert quoted_numbers([finding("see C:\\app\\models.py:45")], frozenset({"app/models.py"})) == {45}
    # A display path with an escaped byte (`printable_path`) is compared as displayed.
    assert quoted_numbers([finding("see pkg\\xfe/mod.py:9")], frozenset({"pkg\\xfe/mod.py"})) == {9}
