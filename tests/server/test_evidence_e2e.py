"""Evidence from the student's editor: every withheld file named with its reason, git-ignored ones only with consent."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from tests.instances import Pair
from tests.server.editor import editor
from tests.server.scenario import FILE, assign, coach_sees, of_kind, start_session


async def test_results_list_withheld_files_and_ignored_files_need_consent(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)  # the scope allows **/*.py
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    root = pair.student_root
    async with editor(root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        (root / FILE).write_text((root / FILE).read_text() + "# tried\n")
        (root / "README.md").write_text("# changed, but not Python\n")

        # No paths: the changed files; what the scope keeps back is named in the result.
        result = await asyncio.wait_for(ed.run("colearner.attachEvidence", {"exercise_id": exercise_id}), 30)
        assert result["ok"] and result["files"] == 1 and result["shared"] == [FILE]
        assert result["withheld"] == [{"path": "README.md", "reason": "not in the coach's allow list"}]

        # A git-ignored file named by the student: refused, named, with the way to consent.
        (root / ".git" / "info" / "exclude").write_text("local_settings.py\n")
        (root / "local_settings.py").write_text("TOKEN = 'abc'\n")
        for command, argument in (
            ("colearner.respond", {"exercise_id": exercise_id, "text": "done", "evidence": ["local_settings.py", "nope.py"]}),
            ("colearner.attachEvidence", {"exercise_id": exercise_id, "paths": ["local_settings.py", "nope.py"]}),
        ):
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wait_for(ed.run(command, argument), 30)
            message = caught.value.message
            assert "local_settings.py: git-ignored" in message and "nope.py: does not exist" in message, message
            assert "include_ignored" in message and "\n" not in message

        # With consent it goes, hash and all; the answer's evidence lists what went and what stayed.
        result = await asyncio.wait_for(
            ed.run(
                "colearner.respond",
                {"exercise_id": exercise_id, "text": "done", "evidence": ["local_settings.py"], "include_ignored": True},
            ),
            30,
        )
        assert result["ok"] and result["shared"] == ["local_settings.py"] and result["withheld"] == []
        result = await asyncio.wait_for(ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "again", "evidence": []}), 30)
        assert FILE in result["shared"] and {"path": "README.md", "reason": "not in the coach's allow list"} in result["withheld"]

        _coach, ex = await coach_sees(pair, exercise_id)
        assert any([f.path for f in e.snapshot.files] == ["local_settings.py"] for e in ex.evidence)
        assert all("README" not in str(e.to_json()) and "nope" not in str(e.to_json()) for e in ex.evidence)
