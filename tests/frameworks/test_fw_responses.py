"""What a handler sends back (response payloads), its FastAPI response model, handler_for on a
file context, answers_get, and the route facts as cached values."""

from __future__ import annotations

import ast
import pickle
import textwrap

import pytest
from fw_support import context_of, facts_of, function_named

from backbone.review.frameworks import (
    WebFramework,
    answers_get,
    handler_for,
    qualname_of,
    response_model,
    response_payloads,
    view_class_for,
)


def payloads(source: str, function: str) -> list[tuple[str, tuple[str, ...]]]:
    context = context_of(source)
    found = response_payloads(function_named(context, function), context)
    return [(ast.unparse(item.expression), tuple(step.value for step in item.via)) for item in found]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Django: JsonResponse of a list() of values().
        (
            """
            from django.http import JsonResponse

            def view(request):
                rows = Product.objects.values("id", "name")
                return JsonResponse({"products": list(rows)})
            """,
            [('Product.objects.values(\'id\', \'name\')', ("response", "container", "iterated"))],
        ),
        # DRF: a serializer bound to a name, many=True, and its .data in a Response.
        (
            """
            from rest_framework.response import Response

            def view(request):
                queryset = Product.objects.all()
                serializer = ProductSerializer(queryset, many=True)
                return Response(serializer.data)
            """,
            [("Product.objects.all()", ("response", "serializer"))],
        ),
        # Flask: jsonify of a comprehension over a query, and a (body, status) tuple.
        (
            """
            from flask import jsonify

            def view():
                return jsonify([p.to_dict() for p in Product.query.all()]), 200
            """,
            [("Product.query.all()", ("response", "iterated"))],
        ),
        # FastAPI: a scalars() result returned as it is, through an await.
        (
            """
            async def view(session):
                result = await session.execute(select(Product))
                return result.scalars().all()
            """,
            [("result.scalars().all()", ())],
        ),
        # Templates: the context's values.
        (
            """
            from django.shortcuts import render

            def view(request):
                context = {"products": Product.objects.all(), "title": "All"}
                return render(request, "products.html", context)
            """,
            [("Product.objects.all()", ("template", "container")), ("'All'", ("template", "container"))],
        ),
        (
            """
            from flask import render_template

            def view():
                return render_template("products.html", products=Product.query.all())
            """,
            [("Product.query.all()", ("template",))],
        ),
        # marshmallow: schema(many=True).dump(rows).
        (
            """
            def view():
                schema = ProductSchema(many=True)
                return {"items": schema.dump(Product.query.all())}
            """,
            [("Product.query.all()", ("container", "serializer"))],
        ),
        # A name bound twice is left for the ORM layer to follow.
        (
            """
            from django.http import JsonResponse

            def view(request, q):
                products = Product.objects.all()
                if q:
                    products = products.filter(name__icontains=q)
                return JsonResponse(list(products.values()), safe=False)
            """,
            [("products.values()", ("response", "iterated"))],
        ),
        # A nested function's returns are not the handler's.
        (
            """
            def view():
                def helper():
                    return Secret.query.all()
                return {"ok": True}
            """,
            [("True", ("container",))],
        ),
    ],
)
def test_response_payloads(source: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert payloads(source, "view") == expected


def test_response_payload_keeps_its_return_statement() -> None:
    context = context_of(
        """
        def view():
            if flag:
                return []
            return Product.query.all()
        """
    )
    found = response_payloads(function_named(context, "view"), context)
    # `return []` sends no rows; the query is returned as it is.
    assert [(item.statement.lineno, item.via) for item in found] == [(5, ())]


def test_response_model_from_the_decorator_or_the_return_annotation() -> None:
    context = context_of(
        """
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/a", response_model=list[ProductRead])
        def a() -> list[Product]:
            pass

        @router.get("/b")
        def b() -> list[ProductRead]:
            pass

        @router.get("/c", response_model=None)
        def c() -> Response:
            pass

        @router.get("/d")
        def d():
            pass
        """
    )
    model_a = response_model(function_named(context, "a"), context)
    assert model_a is not None and model_a.from_decorator and ast.unparse(model_a.expression) == "list[ProductRead]"
    model_b = response_model(function_named(context, "b"), context)
    assert model_b is not None and not model_b.from_decorator
    assert response_model(function_named(context, "c"), context) is None
    assert response_model(function_named(context, "d"), context) is None


def test_handler_for_a_def_in_the_file_being_checked() -> None:
    context = context_of(
        """
        from django.views.generic import View
        from fastapi import APIRouter

        router = APIRouter(prefix="/orders")

        @router.get("/{order_id}")
        async def read(order_id: int):
            pass

        @router.post("")
        def create():
            pass

        def helper():
            pass

        class OrderView(View):
            def get(self, request):
                pass
        """,
        module="shop.api",
    )
    read = handler_for(function_named(context, "read"), context)
    assert read is not None and read.qualname == "shop.api.read" and read.route == "/orders/{order_id}"
    assert read.framework is WebFramework.FASTAPI and read.is_async and answers_get(read)
    create = handler_for(function_named(context, "create"), context)
    assert create is not None and not answers_get(create) and create.answers("post")
    assert handler_for(function_named(context, "helper"), context) is None
    get = function_named(context, "get")
    assert qualname_of(get, context) == "shop.api.OrderView.get"
    handler = handler_for(get, context)
    assert handler is not None and handler.class_based and handler.view_class == "shop.api.OrderView"
    view_node = next(node for node in ast.walk(context.tree) if isinstance(node, ast.ClassDef))
    assert view_class_for(view_node, context) is not None


def test_a_view_accepting_any_method_is_not_assumed_to_answer_get() -> None:
    context = context_of(
        """
        from django.urls import path

        def anything(request):
            pass

        urlpatterns = [path("x/", anything)]
        """,
        module="urls",
    )
    handler = handler_for(function_named(context, "anything"), context)
    assert handler is not None and handler.methods == frozenset() and not answers_get(handler)


def test_route_facts_pickle_and_repr_the_same_in_every_run() -> None:
    source = textwrap.dedent(
        """
        from django.urls import include, path
        from fastapi import APIRouter
        from rest_framework import viewsets
        from rest_framework.decorators import action
        from rest_framework.response import Response

        router = APIRouter(prefix="/x")

        @router.get("/y")
        def y():
            return load()

        class Things(viewsets.ModelViewSet):
            pagination_class = None

            @action(detail=True, methods=["post", "get"])
            def touch(self, request, pk=None):
                return Response(self.get_serializer(self.get_queryset(), many=True).data)

        urlpatterns = [path("a/", include("b.urls"))]
        REST_FRAMEWORK = {"PAGE_SIZE": 10}
        """
    )
    [facts] = facts_of({"mod.py": source})
    assert facts.routes
    assert pickle.loads(pickle.dumps(facts.routes)) == facts.routes
    [again] = facts_of({"mod.py": source})
    assert repr(again.routes) == repr(facts.routes)
    kinds = {type(item).__name__ for item in facts.routes}
    assert kinds == {
        "RouterDeclaration", "RouteBinding", "MountDeclaration", "ViewClassDeclaration", "SettingDeclaration",
        "ReturnedCall",
    }
    returned = [item for item in facts.routes if type(item).__name__ == "ReturnedCall"]
    # `load` is neither imported nor defined here: nothing to follow.
    assert [(item.function, item.callee) for item in returned] == [("mod.Things.touch", "mod.Things.get_queryset")]
