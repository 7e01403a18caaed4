"""A real editor: headless Neovim 0.7, set up as the README says, drives ``colearner serve`` (recipe: neovim.md in the design notes)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.instances import Pair, sync
from tests.server.scenario import FILE, assign, coach_sees, start_session

SCRIPTS = Path(__file__).parent / "nvim"
README = Path(__file__).parents[2] / "README.md"


def readme_setup() -> str:
    """The README's Neovim setup, as a user copies it into init.lua."""
    section = README.read_text().split("### Neovim", 1)[1]
    return section.split("```lua\n", 1)[1].split("```", 1)[0]


def run_nvim(script: Path, init: Path, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.fail("Neovim is not installed: run ./dev setup (it installs Debian's neovim)")
    return subprocess.run(
        ["timeout", "90", nvim, "--headless", "-u", str(init), "-i", "NONE", "-n", "-c", f"luafile {script}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
    )


async def neovim_in(root: Path, script: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``nvim/<script>`` in a headless Neovim whose init.lua is the README's setup, on ``FILE`` of ``root``; what it wrote."""
    home, out = tmp_path / "home", tmp_path / "nvim.json"
    home.mkdir()
    init = home / "init.lua"
    init.write_text(readme_setup())
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `colearner`, as the README runs it
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "COLEARNER_NVIM_ROOT": str(root),
        "COLEARNER_NVIM_FILE": FILE,
        "COLEARNER_NVIM_OUT": str(out),
    }
    done = await asyncio.to_thread(run_nvim, SCRIPTS / script, init, env, home)
    log = home / ".cache" / "nvim" / "lsp.log"
    details = f"nvim exit {done.returncode}\nstderr: {done.stderr}\nlsp.log: {log.read_text()[-4000:] if log.exists() else '(none)'}"
    assert done.returncode == 0 and out.exists(), details
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def test_neovim_acknowledges_an_assignment(pair: Pair, tmp_path: Path) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    await asyncio.to_thread(sync, pair.student())
    result = await neovim_in(pair.student_root, "acknowledge.lua", tmp_path)
    assert result["diagnostic"]["lnum"] == 11 and result["diagnostic"]["end_lnum"] == 15, result
    assert result["diagnostic"]["source"] == "colearner" and result["diagnostic"]["code"] == "exercise"
    assert result["diagnostic"]["severity"] == 3  # information: a new exercise, not a lint warning
    assert result["diagnostic"]["message"] == "loops · new from carol · next: Acknowledge — total_value ignores discounts"
    # The hover's float: the exercise's text first, then its expectation, and a short id, never the UUID.
    hover = "\n".join(result["hover"])
    assert "loops — new · next: Acknowledge" in hover and "total_value ignores discounts" in hover, hover
    assert hover.index("total_value ignores discounts") < hover.index("Expected:") and exercise_id[:8] in hover and exercise_id not in hover
    # <leader>a lists the actions of their own kind (not quick fixes), the next one first, and runs the one chosen.
    assert result["actions"][:2] == ["Acknowledge 'loops'", "Respond to 'loops'"], result["actions"]
    assert set(result["kinds"]) == {"colearner"}, result["kinds"]
    assert result["acknowledged"] == "Acknowledge 'loops'" and result["hint"] is True

    _, ex = await coach_sees(pair, exercise_id)
    assert ex.state == "acknowledged"


async def test_neovim_coach_opens_the_students_change_through_a_code_action(pair: Pair, tmp_path: Path) -> None:
    from colearner_lsp.core import actions
    from tests.repos import git
    from tests.server.scenario import cli

    session_id = await asyncio.to_thread(cli, pair, "coach", "session", "start", "--student", pair.student_id)
    await asyncio.to_thread(cli, pair, "coach", "scope", session_id, "--allow", "**", "--share", "diff")
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    student = pair.student()
    await asyncio.to_thread(sync, student)
    lines = (pair.student_root / FILE).read_text().splitlines(keepends=True)
    lines.insert(13, "        # the student's added line\n")
    (pair.student_root / FILE).write_text("".join(lines))
    actions.respond(student, exercise_id, "added it", evidence=[FILE])
    await asyncio.to_thread(sync, student)
    student.close()

    result = await neovim_in(pair.coach_root, "review.lua", tmp_path)
    assert f"Show the student's change: {FILE} (sam)" in result["actions"]
    base, theirs = result["buffers"]
    assert "/.colearner/review/" in base["name"] and "/.colearner/review/sam/" in theirs["name"]
    assert "\n".join(base["lines"]) + "\n" == git(pair.coach_root, "show", f"HEAD:{FILE}")
    assert "\n".join(theirs["lines"]) + "\n" == (pair.student_root / FILE).read_text()
    assert base["readonly"] and theirs["readonly"] and base["diff"] and theirs["diff"]
