"""What the workers and the engine send each other travels in the cache's data-only encoding
and comes back equal; bytes that are not such an encoding decode to None, never to code."""

from __future__ import annotations

import ast
import pickle

from backbone.review import jobs
from backbone.review.incremental import facts_digests
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


def _facts():
    tree = parse(SOURCE, "shop/views.py")
    assert isinstance(tree, ast.Module)
    return extract_module_facts(tree, "shop/views.py", "shop.views", is_package=False)


def test_facts_outcomes_and_answers_come_back_equal() -> None:
    facts = _facts()
    findings = tuple(check_source(SOURCE, ("BB203",)))
    assert findings and findings[0].rule_confidence is not None
    outcome = jobs.FileOutcome("shop/views.py", "digest", facts, findings, ())
    assert jobs.decode_outcomes(jobs.encode_outcomes([outcome])) == [outcome]
    # As a worker sends it: with the digests of its facts.
    digested = jobs.FileOutcome("shop/views.py", "digest", facts, findings, (), (), facts_digests(facts))
    assert jobs.decode_outcomes(jobs.encode_outcomes([digested])) == [digested]
    assert jobs.decode_facts(jobs.encode_facts([facts])) == [facts]
    answer: jobs.ProjectAnswer = ({"shop/views.py": (findings, ("internal error",))}, frozenset({"F\0shop.views"}))
    assert jobs.decode_answer(jobs.encode_answer(answer)) == answer
    assert jobs.decode_answer(jobs.encode_answer(({}, None))) == ({}, None)
    job = jobs.FileJob("/tmp/x.py", "x.py", "x", False, "abc", frozenset({"BB207"}))
    request = jobs.WorkerRequest("project", (job,), facts=jobs.encode_facts([facts]), peers=(b"1", b"2"))
    assert jobs.decode_request(jobs.encode_request(request)) == request


def test_an_index_is_rebuilt_from_the_facts_it_was_built_of() -> None:
    facts = _facts()
    twin = extract_module_facts(parse("def other():\n    pass\n", "b/views.py"), "b/views.py", "shop.views", is_package=False)
    index = ProjectIndex.build([facts, twin])
    # Two files claim one module: the sources keep both, so the functions of both are known.
    rebuilt = ProjectIndex.build(jobs.decode_facts(jobs.encode_facts(list(index.sources))) or [])
    assert rebuilt.modules == index.modules and rebuilt.functions == index.functions


class _Boom:
    def __reduce__(self):  # what a pickle could make the reader run
        return (print, ("ran",))


def test_bytes_of_another_shape_or_a_pickle_decode_to_none() -> None:
    for data in (b"", b"\x93\x01\x02", pickle.dumps(_Boom()), jobs.encode_facts([_facts()])):
        assert jobs.decode_request(data) is None
        assert jobs.decode_answer(data) is None
    assert jobs.decode_outcomes(jobs.encode_request(jobs.WorkerRequest("stop"))) is None


def test_a_path_that_is_not_utf8_travels_as_the_file_system_names_it() -> None:
    job = jobs.FileJob("/srv/app/bad\udcff.py", "bad\\xff.py", "bad\\xff", False)
    back = jobs.decode_request(jobs.encode_request(jobs.WorkerRequest("files", (job,))))
    assert back is not None and back.jobs == (job,)
