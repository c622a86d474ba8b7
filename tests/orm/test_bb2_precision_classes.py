"""BB203 and BB207 on patterns where the rows do not cost a query each, through the real engine.

Each project marks its expected findings with `# expect: BB2xx` on the reported line; the
review must report exactly those. Every project also keeps a near miss that is still an N+1,
so the exemption stays as narrow as the framework's behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from orm_test_support import expected, located, review_project, write_project

CODES = ("BB203", "BB207")


# The rows of a queryset already iterated: Django keeps the instances in the queryset's result
# cache, with every relation the first loop read on them.
ITERATED_AGAIN = {
    "polls/__init__.py": "",
    "polls/models.py": """
        from django.contrib.auth.models import User
        from django.db import models


        class Poll(models.Model):
            title = models.CharField(max_length=80)


        class Candidate(models.Model):
            poll = models.ForeignKey(Poll, on_delete=models.CASCADE)
            user = models.ForeignKey(User, on_delete=models.CASCADE)
            weight = models.IntegerField()
    """,
    "polls/services.py": """
        from polls.models import Candidate


        def ballot(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            if announce:
                for candidate in candidates:
                    announce(candidate.user.email, candidate.weight)
            return names


        def ballot_again(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            # `.all()` is a new queryset: its rows are fetched again, without the users.
            for candidate in candidates.all():
                announce(candidate.user.email)  # expect: BB203
            # Rebound to another query: other instances.
            candidates = Candidate.objects.filter(weight__gt=0)
            for candidate in candidates:
                announce(candidate.user.email)  # expect: BB203
            return names


        def ballot_polls(poll_id, announce):
            candidates = Candidate.objects.filter(poll_id=poll_id)
            names = [candidate.user.username for candidate in candidates]  # expect: BB203
            for candidate in candidates:
                announce(candidate.poll.title)  # expect: BB203
            return names
    """,
}


PROJECTS = {
    "iterated-again": ITERATED_AGAIN,
}


@pytest.mark.parametrize("files", list(PROJECTS.values()), ids=list(PROJECTS))
def test_projects_get_exactly_the_marked_findings(tmp_path: Path, files: dict[str, str]) -> None:
    root = write_project(tmp_path, files)
    assert located(review_project(root, CODES)) == expected(files, CODES)
