"""The extension's display rule (``editor-client/src/display.ts``) is the server's (``core/display.py``).

The tree, the status bar and the dashboard webview show wire text the server
hands over as it came, so the TypeScript copy of the rule must agree with the
Python one character for character. The file is compiled on its own with the
extension's TypeScript compiler and run by Node over the same corpus: every
code point of the BMP's first planes, the edges of every unsafe range, the tag
characters, and a seeded mix of strings.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from colearner_lsp.core.display import one_line, visible

CLIENT = Path(__file__).resolve().parents[2] / "editor-client"
TSC = CLIENT / "node_modules" / ".bin" / "tsc"

RUNNER = """
const { visible, oneLine } = require(process.argv[1])  // with -e, the first argument is argv[1];
const corpus = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(corpus.map((s) => [visible(s), oneLine(s), oneLine(s, 7)])));
"""


def _corpus() -> list[str]:
    singles = [chr(c) for c in range(0x0, 0x3200) if not 0xD800 <= c <= 0xDFFF]
    edges = [0xFF9F, 0xFFA0, 0xFFA1, 0xFEFF, 0xFFF8, 0xFFF9, 0xFFFB, 0xFFFC, 0xDFFFF, 0xE0000, 0xE0041, 0xE007F, 0xE0080, 0x1F600]
    rng = random.Random(13)
    alphabet = [chr(c) for c in (0x1B, 0x07, 0x00, 0x0A, 0x09, 0x202E, 0x200B, 0x85, 0xE0041, 0x1F600, 0x41, 0x20, 0xE9)]
    mixes = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(500)]
    return singles + [chr(c) for c in edges] + mixes + ["\x1b[2J\x1b]0;owned\x07title", "a\u202eb", "x" * 7, "x" * 8, "😀" * 9]


@pytest.fixture(scope="module")
def display_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or not TSC.exists():
        pytest.fail("node and the extension's node_modules are needed: run ./dev setup")
    out = tmp_path_factory.mktemp("display_js")
    subprocess.run(
        [str(TSC), "--outDir", str(out), "--module", "commonjs", "--target", "ES2022", "--strict", str(CLIENT / "src" / "display.ts")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / "display.js"


def test_typescript_rule_matches_the_python_rule(display_js: Path) -> None:
    corpus = _corpus()
    result = subprocess.run(
        ["node", "-e", RUNNER, str(display_js)], input=json.dumps(corpus), capture_output=True, text=True, check=True, timeout=60
    )
    shown = json.loads(result.stdout)
    differences = [(s, got, want) for s, got in zip(corpus, shown) if got != (want := [visible(s), one_line(s), one_line(s, 7)])]
    assert len(shown) == len(corpus)
    assert differences == [], differences[:5]
    # and the rule does something: the screen-clearing title sequence is shown, not kept
    index = corpus.index("\x1b[2J\x1b]0;owned\x07title")
    assert shown[index][0] == "␛[2J␛]0;owned␇title"


def test_values_that_are_not_text_show_as_their_json(display_js: Path) -> None:
    """Wire values that are not strings (a newer or hostile peer's number, list or object) read as
    their JSON, escapes kept as text, never "[object Object]"; null as nothing."""
    runner = RUNNER.replace("corpus.map((s) =>", "corpus.map((s) => s === 'UNDEFINED' ? undefined : s).map((s) =>")
    values = [None, "UNDEFINED", 42, 1.5, True, {"a": "\x1b[2J", "b": [1, None]}, ["x", 1], {}]
    result = subprocess.run(
        ["node", "-e", runner, str(display_js)], input=json.dumps(values), capture_output=True, text=True, check=True, timeout=60
    )
    shown = [visible_text for visible_text, _line, _cut in json.loads(result.stdout)]
    assert shown == ["", "", "42", "1.5", "true", '{"a":"\\u001b[2J","b":[1,null]}', '["x",1]', "{}"]
