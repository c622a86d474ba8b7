"""BB304 across a project: what a GET handler reaches through other files' functions."""

from __future__ import annotations

from pathlib import Path

from helpers import review_tree_with

SERVICE = {
    "app/__init__.py": "",
    "app/db.py": """\
        import sqlalchemy
        from sqlalchemy import orm

        engine = sqlalchemy.create_engine("sqlite://")
        metadata = sqlalchemy.MetaData()
        users = sqlalchemy.Table("users", metadata, sqlalchemy.Column("id", sqlalchemy.Text, primary_key=True))


        def add_user(user_id):
            with orm.Session(engine) as session:
                session.execute(sqlalchemy.insert(users).values(id=user_id))
                session.commit()
        """,
    "app/queue.py": """\
        from app import db


        def prepare(request_id, body, is_system=False):
            user_id = body["user"]
            if is_system:
                user_id = "system"
                db.add_user(user_id)
            return {"id": request_id, "user": user_id}


        def prepare_always(request_id, body):
            db.add_user(body["user"])
            return {"id": request_id}


        async def schedule(request_id, body, is_system: bool = False):
            return prepare(request_id, body, is_system)
        """,
    "app/main.py": """\
        from fastapi import FastAPI

        from app import queue

        app = FastAPI()


        @app.get("/status")
        async def status():
            return await queue.schedule("r1", {"user": "u"})


        @app.get("/status/system")
        async def system_status():
            return await queue.schedule("r2", {"user": "u"}, is_system=True)


        @app.get("/status/plain")
        async def plain_status():
            return queue.prepare("r3", {"user": "u"}, is_system=False)


        @app.get("/status/always")
        async def always_status():
            return queue.prepare_always("r4", {"user": "u"})
        """,
}


def test_a_write_under_a_flag_parameter_no_get_handler_sets_is_not_reached(tmp_path: Path) -> None:
    """`if is_system: add_user(...)` in another file's function: a handler that leaves
    `is_system` at its false default (passed on positionally) or passes False never runs it;
    one passing True, or a function writing unconditionally, still does."""
    findings = review_tree_with(tmp_path, SERVICE, "BB304")
    assert [(finding.path, finding.line) for finding in findings] == [("app/main.py", 15), ("app/main.py", 25)]


def test_a_write_under_a_test_of_none_the_call_rules_out_is_not_reached(tmp_path: Path) -> None:
    """`if owner is None: add_user(...)` in another file's function: a handler passing an owner
    (a constant, or a value of its own for the optional parameter) never runs it; one leaving
    `owner` at its None default does."""
    service = {
        "app/__init__.py": "",
        "app/db.py": SERVICE["app/db.py"],
        "app/queue.py": """\
            from app import db


            def claim(request_id, owner=None):
                if owner is None:
                    db.add_user("anonymous")
                    return {"id": request_id, "owner": "anonymous"}
                return {"id": request_id, "owner": owner}
            """,
        "app/main.py": """\
            from fastapi import FastAPI

            from app import queue

            app = FastAPI()


            @app.get("/claim")
            async def claim():
                return queue.claim("r1")


            @app.get("/claim/admin")
            async def admin_claim():
                return queue.claim("r2", owner="admin")


            @app.get("/claim/{user}")
            async def user_claim(user: str):
                return queue.claim("r3", user)
            """,
    }
    findings = review_tree_with(tmp_path, service, "BB304")
    assert [(finding.path, finding.line) for finding in findings] == [("app/main.py", 10)]
