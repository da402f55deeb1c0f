"""The CLI is a set of doors: each command reaches its library function, or says it is not built."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from export_finder.cli import StageNotBuilt, cli, stage_function


def test_every_stage_command_is_registered():
    expected = {"demo", "sample-site", "crawl", "resolve", "extract", "score", "publish", "serve", "refdata", "hs-hint", "hs-eval"}
    assert expected <= set(cli.commands)


def test_stage_function_names_missing_module():
    with pytest.raises(StageNotBuilt) as info:
        stage_function("export_finder.no_such_stage:run")
    assert "not built yet" in info.value.message
    assert info.value.exit_code != 0


def test_stage_function_names_missing_function():
    with pytest.raises(StageNotBuilt) as info:
        stage_function("export_finder.cli:no_such_function")
    assert "export_finder.cli:no_such_function" in info.value.message


def test_stage_function_does_not_hide_real_import_errors(tmp_path, monkeypatch):
    (tmp_path / "broken_stage_mod.py").write_text("import module_that_does_not_exist_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        stage_function("broken_stage_mod:run")


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "export_finder.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "crawl" in result.stdout and "publish" in result.stdout


def test_help_of_each_command():
    runner = CliRunner()
    for name in cli.commands:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
