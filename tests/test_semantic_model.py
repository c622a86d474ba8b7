"""The semantic model of a file: each function's own nodes, bindings and returns, computed once
and shared by the rules and layers that ask."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from backbone.review import semantic
from backbone.review.checker import _index_nodes
from backbone.review.semantic import Declared, SemanticModel

SOURCE = textwrap.dedent(
    """
    import logging

    def handler(request, *args, limit: int = 10, **options):
        global CACHE
        rows = fetch(request)
        (first, *rest) = rows
        if (size := len(rows)) > limit:
            return {"too_many": size}
        with open("f") as handle:
            pass
        for row in rows:
            row.total += 1
        try:
            pass
        except ValueError as error:
            return None

        def inner():
            hidden = 1
            return hidden

        class Local:
            attribute = 2

        squares = [value * value for value in rows]
        callback = lambda item: item.name
        return rows
    """
)


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == name)


def _reference_own_nodes(function: ast.FunctionDef) -> list[ast.AST]:
    """Every node under the body whose nearest enclosing scope is `function`, in source order,
    but the Load/Store/Del markers."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.expr_context):
            return
        found.append(node)
        if isinstance(node, semantic.NESTED_SCOPES):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in function.body:
        visit(statement)
    return found


def test_own_nodes_stop_at_nested_scopes_and_keep_source_order() -> None:
    tree = ast.parse(SOURCE)
    handler = _function(tree, "handler")
    own = semantic.own_nodes(handler)
    assert own == _reference_own_nodes(handler)
    names = {node.id for node in own if isinstance(node, ast.Name)}
    assert "hidden" not in names  # inside `inner`
    assert "item" not in names  # the lambda's body
    assert any(isinstance(node, ast.FunctionDef) and node.name == "inner" for node in own)
    assert any(isinstance(node, ast.ClassDef) and node.name == "Local" for node in own)


def test_the_model_computes_each_answer_once() -> None:
    tree = ast.parse(SOURCE)
    handler = _function(tree, "handler")
    model = SemanticModel()
    assert model.own_nodes(handler) is model.own_nodes(handler)
    assert model.bindings(handler) is model.bindings(handler)
    assert model.returns(handler) is model.returns(handler)
    assert model.subtree(handler) is model.subtree(handler)
    assert model.typed_bindings(handler) is model.typed_bindings(handler)


def test_bindings_and_returns_of_a_function() -> None:
    tree = ast.parse(SOURCE)
    handler = _function(tree, "handler")
    model = SemanticModel()
    bindings = model.bindings(handler)
    # Parameters, tuple elements, loop and comprehension targets, with and except names: unknown values.
    for name in ("request", "args", "limit", "options", "first", "rest", "handle", "row", "value", "error"):
        assert bindings[name] == [None], name
    assert isinstance(bindings["rows"][0], ast.Call)
    assert isinstance(bindings["size"][0], ast.Call)  # the walrus
    assert "hidden" not in bindings
    # `return None` is a return with a value; the nested function's return is not the handler's.
    returned = [ast.unparse(statement.value) for statement in model.returns(handler) if statement.value is not None]
    assert returned == ["{'too_many': size}", "None", "rows"]


def test_typed_bindings_keep_declared_types_and_follow_global() -> None:
    tree = ast.parse(SOURCE)
    handler = _function(tree, "handler")
    typed = SemanticModel().typed_bindings(handler)
    limit = typed["limit"][0]
    assert isinstance(limit, Declared) and ast.unparse(limit.annotation) == "int"
    assert typed["request"] == [None]
    assert "CACHE" not in typed  # declared global: looked up at module level
    assert "size" in typed  # a walrus in an `if` test
    assert typed["inner"] == [None] and typed["Local"] == [None]
    module = SemanticModel().typed_bindings(tree)
    assert module["logging"] == [None] and module["handler"] == [None]


def test_class_bindings_read_self_attributes_of_every_method() -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            class Client:
                timeout = 5
                session: Session

                def __init__(self):
                    self.http = make_client()
                    self.retries: int
                    self.count += 1
            """
        )
    )
    owner = next(node for node in tree.body if isinstance(node, ast.ClassDef))
    found = SemanticModel().class_bindings(owner)
    assert isinstance(found["timeout"][0], ast.Constant)
    assert isinstance(found["session"][0], Declared)
    assert isinstance(found["http"][0], ast.Call)
    assert isinstance(found["retries"][0], Declared)
    assert found["count"] == [None]


def test_child_nodes_and_subtree_match_the_ast_module_on_real_code() -> None:
    tree = ast.parse(Path(semantic.__file__).read_text())
    def real(nodes: object) -> list[ast.AST]:
        return [node for node in nodes if not isinstance(node, ast.expr_context)]  # type: ignore[attr-defined]

    for node in ast.walk(tree):
        assert semantic.child_nodes(node) == real(ast.iter_child_nodes(node))
    everything = semantic.subtree(tree)
    assert not any(isinstance(node, ast.expr_context) for node in everything)
    assert len(everything) == len(real(ast.walk(tree)))
    # Source (pre-)order: each node comes after its parent.
    position = {id(node): index for index, node in enumerate(everything) if not isinstance(node, ast.expr_context)}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr_context):
                assert position[id(child)] > position[id(node)]


def test_the_node_index_leaves_out_the_shared_load_and_store_markers() -> None:
    tree = ast.parse(SOURCE)
    parents, nodes = _index_nodes(tree)
    assert not any(isinstance(node, ast.expr_context) for node in nodes)
    assert not any(isinstance(node, ast.expr_context) for node in parents)
    expected = [node for node in ast.walk(tree) if not isinstance(node, ast.expr_context)]
    assert sorted(map(id, nodes)) == sorted(map(id, expected))



def test_the_node_index_reads_only_the_fields_that_hold_nodes_and_misses_none() -> None:
    # `{**rest}` and `def f(*, a)` leave None in a list; names, constants and operators have
    # no children; a pattern's names and a `global` statement's names are strings.
    tree = ast.parse(SOURCE + textwrap.dedent(
        """
        def shapes(*, first, second=1, **rest):
            global COUNTER
            merged = {**rest, "a": 1, **{"b": -first}}
            match merged:
                case {"a": 1, **others}:
                    return others
                case Point(x=0, y=[1, *tail]) as point if not tail:
                    return point
            return f"{first!r:>{second}}" + b"raw".decode()
        """
    ))
    parents, nodes = _index_nodes(tree)
    expected = [node for node in ast.walk(tree) if not isinstance(node, ast.expr_context)]
    assert sorted(map(id, nodes)) == sorted(map(id, expected))
    for node in expected:
        assert semantic.child_nodes(node) == [
            child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr_context)
        ]
        for child in semantic.child_nodes(node):
            if not isinstance(child, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
                assert parents[child] is node



def test_nodes_of_types_come_off_the_index_in_source_order() -> None:
    tree = ast.parse(Path(semantic.__file__).read_text() + SOURCE)
    parents, nodes = _index_nodes(tree)
    indexed = SemanticModel(nodes, parents)
    for types in ((ast.Call,), (ast.Import, ast.ImportFrom), (ast.Call, ast.Assign, ast.Dict), (ast.Add, ast.Name)):
        assert indexed.nodes_of(*types) == [node for node in nodes if type(node) in types], types
    assert indexed.indexes(nodes) and not indexed.indexes(list(nodes))


def test_returns_read_off_the_node_index_match_each_functions_own_returns() -> None:
    tree = ast.parse(Path(semantic.__file__).read_text() + SOURCE)
    parents, nodes = _index_nodes(tree)
    indexed, walked = SemanticModel(nodes, parents), SemanticModel()
    functions = [node for node in nodes if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert len(functions) >= 20
    for function in functions:
        assert indexed.returns(function) == walked.returns(function), function.name
    assert [ast.unparse(r) for r in indexed.returns(_function(tree, "inner"))] == ["return hidden"]



def test_subtrees_and_own_nodes_sliced_off_the_node_index_match_the_walks() -> None:
    # Operators (`+`, `not`, `==`) are one node shared by the whole tree: they stand in many
    # places of the index, and no slice may end or start wrong because of them.
    source = Path(semantic.__file__).read_text() + SOURCE + textwrap.dedent(
        """
        def scopes(a, b=lambda: 1 + 2):
            @decorate(lambda x: x + 1)
            def first(c=a + b):
                return lambda: not c
            class Inner:
                def method(self):
                    return self.value == 1
            return [first() + b for _ in range(a)] or (lambda: a - b)
        """
    )
    tree = ast.parse(source)
    parents, nodes = _index_nodes(tree)
    indexed = SemanticModel(nodes, parents)
    for node in nodes:
        assert indexed.walk(node) == semantic.subtree(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            assert indexed.own_nodes(node) == semantic.own_nodes(node)
    # A node from another tree is walked.
    elsewhere = ast.parse("f(x + 1)").body[0]
    assert indexed.walk(elsewhere) == semantic.subtree(elsewhere)


DATA_SOURCE = textwrap.dedent(
    """
    from django.db import models

    class Post(models.Model):
        title = models.CharField(max_length=10)

    def titles():
        return [post.title for post in Post.objects.all()]
    """
)


def test_the_files_model_keeps_its_data_flows_for_every_rule_of_the_file() -> None:
    from backbone.review.context import FileContext
    from backbone.review.extraction import extract_module_facts
    from backbone.review.orm import module_flows
    from backbone.review.project import ProjectIndex

    tree = ast.parse(DATA_SOURCE)
    parents, nodes = _index_nodes(tree)
    model = SemanticModel(nodes, parents)
    facts = extract_module_facts(tree, "blog/views.py", "blog.views", False, nodes, model)
    walked = model.data_flows
    assert walked is not None and walked.tree is tree
    index = ProjectIndex.build([facts])
    for project in (None, index):
        context = FileContext("blog/views.py", DATA_SOURCE, tree, facts, parents, frozenset(), project, nodes, model)
        assert module_flows(context) is walked
    # A context without the extraction's model makes its own walk and keeps it there, not
    # anywhere another file's context could find it.
    alone = FileContext("blog/views.py", DATA_SOURCE, tree, facts, parents, frozenset(), index, nodes)
    flows = module_flows(alone)
    assert flows is not walked and alone.semantic.data_flows is flows and module_flows(alone) is flows
    function = next(node for node in nodes if isinstance(node, ast.FunctionDef))
    assert [event.kind.value for event in flows.flow(function).events()] == [
        event.kind.value for event in walked.flow(function).events()
    ]


def test_constant_truth_of_branch_tests() -> None:
    from backbone.review.semantic import constant_truth

    def truth(source: str) -> bool | None:
        expression = ast.parse(source, mode="eval").body
        return constant_truth(expression)

    assert truth("False") is False
    assert truth("0") is False
    assert truth("None") is False
    assert truth("not True") is False
    assert truth("flag and False") is False
    assert truth("model.kind == 'openai' and False") is False
    assert truth("True or flag") is True
    assert truth("True") is True
    assert truth("flag") is None
    assert truth("flag or False") is None
    assert truth("in_debug_mode()") is None


def test_parameters_in_one_order_for_every_rule() -> None:
    function = ast.parse("def f(a, /, b, *args, c, d=1, **options): pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    assert [argument.arg for argument in semantic.parameters(function)] == ["a", "b", "c", "d", "args", "options"]
    assert semantic.parameter_names(function) == {"a", "b", "c", "d", "args", "options"}
    assert list(semantic.function_bindings(function)) == ["a", "b", "c", "d", "args", "options"]
    lam = ast.parse("lambda x, *, y: x").body[0]
    assert isinstance(lam, ast.Expr) and isinstance(lam.value, ast.Lambda)
    assert semantic.parameter_names(lam.value) == {"x", "y"}


def test_a_methods_self_is_no_position_of_a_call_but_a_plain_functions_first_parameter_is() -> None:
    method = ast.parse("def save(self, row, /, key=None, *rest, session, **extra): pass").body[0]
    assert isinstance(method, ast.FunctionDef)
    assert semantic.positional_parameters(method, is_method=True) == ["row", "key"]
    assert semantic.parameter_positions(method, is_method=True) == {"row": 0, "key": 1, "session": -1}
    # Outside a class, a first parameter called `self` is what the call's first argument binds.
    assert semantic.positional_parameters(method, is_method=False) == ["self", "row", "key"]
    assert semantic.parameter_positions(method, is_method=False) == {"self": 0, "row": 1, "key": 2, "session": -1}
    static = ast.parse("def build(name, value): pass").body[0]
    assert isinstance(static, ast.FunctionDef)
    assert semantic.parameter_positions(static, is_method=True) == {"name": 0, "value": 1}


def test_a_definitions_qualified_name_is_the_project_indexs() -> None:
    from backbone.review.context import FileContext
    from backbone.review.extraction import extract_module_facts

    source = "class Orders:\n    def list(self):\n        def page():\n            pass\n"
    seen: list[str] = []
    tree = ast.parse(source)
    facts = extract_module_facts(tree, "shop/views.py", "shop.views", False)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    context = FileContext("shop/views.py", source, tree, facts, parents, frozenset(), None)
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            seen.append(context.qualname_of(node))
    assert seen == ["shop.views.Orders", "shop.views.Orders.list", "shop.views.Orders.list.page"]
    assert {"shop.views.Orders.list", "shop.views.Orders.list.page"} <= set(facts.functions)
