"""What the workers and the engine send each other travels as equal values (jobs.dumps)."""

from __future__ import annotations

import ast
import pickle
from dataclasses import dataclass, field

from backbone.review import jobs
from backbone.review.checker import check_source
from backbone.review.extraction import extract_module_facts
from backbone.review.project import ProjectIndex
from backbone.review.source import parse

SOURCE = '''
from django.db import models

class Author(models.Model):
    name = models.CharField(max_length=10)

class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

def titles(request):
    return [post.author.name for post in Post.objects.all()]
'''


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    items: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Checked:
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name + "!")


@dataclass(frozen=True, slots=True)
class _KeywordOnly:
    name: str = field(kw_only=True)


@dataclass
class _WithDict:
    name: str


def test_facts_and_findings_come_back_equal() -> None:
    tree = parse(SOURCE, "shop/views.py")
    assert isinstance(tree, ast.Module)
    facts = extract_module_facts(tree, "shop/views.py", "shop.views", is_package=False)
    index = ProjectIndex.build([facts])
    findings = check_source(SOURCE, ("BB201",))
    back = pickle.loads(jobs.dumps((facts, index.modules, findings)))
    assert back == (facts, index.modules, findings)


def test_shared_values_stay_shared() -> None:
    shared = _Plain("a", (1, 2))
    first, second = pickle.loads(jobs.dumps([shared, shared]))
    assert first is second and first == shared


def test_a_class_its_init_would_not_rebuild_is_pickled_as_pickle_does() -> None:
    # __post_init__ would change the value again; a keyword-only field cannot be passed in order;
    # an instance with a __dict__ may hold more than its fields.
    assert not jobs._rebuilt_by_init(_Checked)
    assert not jobs._rebuilt_by_init(_KeywordOnly)
    assert not jobs._rebuilt_by_init(_WithDict)
    assert jobs._rebuilt_by_init(_Plain)
    with_dict = _WithDict("x")
    with_dict.extra = 1  # type: ignore[attr-defined]
    checked, keyword, kept = pickle.loads(jobs.dumps([_Checked("x"), _KeywordOnly(name="y"), with_dict]))
    assert (checked.name, keyword.name, kept.name, kept.extra) == ("x!", "y", "x", 1)
