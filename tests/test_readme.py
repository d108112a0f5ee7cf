"""Every ``police-search`` command in the README's fenced ``sh`` blocks runs as written, in README
order, against an index of the bundled samples (from the checkout, as a new user would)."""

from __future__ import annotations

import re
import shlex

from click.testing import CliRunner

from search.cli import main
from tests.conftest import REPO

# Commands that cannot run here, each with the reason. Keep this list short.
NOT_RUN = {
    "police-search serve --host 127.0.0.1 --port 5000": "serves until Ctrl+C (the web tests cover the app)",
    "police-search reindex /data/releases/2026": "names a folder of the reader's own",
    "police-search export --format opensearch --index-name police-releases --output export.ndjson": (
        "would write into the checkout (tests/test_opensearch.py writes with --output in a temp folder)"
    ),
}
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)


def readme_commands() -> list[list[str]]:
    commands = []
    for block in _FENCE.findall((REPO / "README.md").read_text(encoding="utf-8")):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["police-search"] and " ".join(words) not in NOT_RUN:
                commands.append(words)
    return commands


def test_the_readme_names_the_commands_it_does_not_run():
    commands = {" ".join(words) for words in readme_commands()}
    assert len(commands) >= 8
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(skipped in readme for skipped in NOT_RUN)


def test_every_readme_command_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("POLICE_SEARCH_INDEX", str(tmp_path / "index"))
    runner = CliRunner()
    for words in readme_commands():
        result = runner.invoke(main, words[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{shlex.join(words)} → exit {result.exit_code}: {result.stderr}"
        assert "no document" not in result.stderr

