"""BB302 across modules: which imported schemas count as responses."""

from __future__ import annotations

import textwrap
from pathlib import Path

from backbone.api import ReviewRequest, review

MODELS = """\
from pydantic import BaseModel


class DeleteAccessControlList(BaseModel):
    id: str
    password: str


class UserRead(BaseModel):
    id: str
    password_hash: str
"""

VIEWS = """\
from fastapi import APIRouter

from app.models import DeleteAccessControlList, UserRead

router = APIRouter()


@router.delete("/acl")
async def delete_acl(data: DeleteAccessControlList):
    remove_acl(data.id, data.password)


@router.get("/users/{user_id}")
async def read_user(user_id: str):
    return load_user(user_id)
"""


def test_the_body_of_a_delete_is_input_and_a_read_model_is_output(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.backbone]\nselect = ["BB302"]\n',
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/views.py": textwrap.dedent(VIEWS),
    }
    for relative, content in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(tmp_path),), use_cache=False, jobs=1))
    assert result.internal_errors == []
    found = [(finding.path, finding.line, finding.confidence.value) for finding in result.findings]
    assert found == [("app/models.py", 11, "medium")]
