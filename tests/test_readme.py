"""The README's two quick-start commands stay true: CI runs the test command verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sh_blocks(text: str) -> list[str]:
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside and line.strip() == "```sh"
            continue
        if inside:
            current.append(line)
    return blocks


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = _sh_blocks(readme.split("## Quick start", 1)[1].split("\n## ", 1)[0])
    assert len(blocks) == 2, "Quick start must have exactly two commands"
    demo, test = blocks
    assert "hotloop demo" in demo and "pip install ." in demo
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert test.strip() in ci.splitlines()
