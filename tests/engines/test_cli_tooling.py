"""Finding or building the real pulumi CLI, and what the CLI tier does without one."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from fake_elb.engine import locate as cli_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import pulumi_cli


def _no_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli_engine.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))


def test_without_a_cli_the_tier_skips_with_one_line_saying_how(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_cli(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        cli_engine.require_cli()
    assert "pulumi CLI" in str(skipped.value) and "dev.py test" in str(skipped.value)


def test_without_a_cli_ci_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    _no_cli(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        cli_engine.require_cli()


def test_an_official_cli_on_path_is_used_instead_of_building(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    official = tmp_path / "official"
    official.mkdir()
    cli = official / "pulumi"
    cli.write_text("#!/bin/sh\n")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{official}{os.pathsep}{os.environ['PATH']}")
    assert pulumi_cli.ensure(tmp_path / "venv-bin") == cli
    assert not (tmp_path / "venv-bin").exists()  # nothing built


def test_neither_go_nor_a_cli_is_one_line_and_no_build(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pulumi_cli.ensure(tmp_path / "bin") is None
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no pulumi CLI and no Go" in err


def test_a_built_cli_is_reused_while_the_pins_are_unchanged(tmp_path: Path) -> None:
    for name in ("pulumi", *pulumi_cli.SCRIPTS):
        (tmp_path / name).write_text("")
    assert pulumi_cli.built_cli(tmp_path) is None  # no stamp: not ours
    (tmp_path / pulumi_cli.STAMP).write_text(pulumi_cli._fingerprint())
    assert pulumi_cli.built_cli(tmp_path) == tmp_path / "pulumi"
    (tmp_path / pulumi_cli.STAMP).write_text("another pin")
    assert pulumi_cli.built_cli(tmp_path) is None  # go.mod or go.sum changed: rebuild


def test_the_pinned_version_is_one_release_for_cli_and_sdk() -> None:
    version = pulumi_cli.pinned_version()
    go_mod = (pulumi_cli.MODULE_DIR / "go.mod").read_text()
    assert f"github.com/pulumi/pulumi/sdk/v3 {version}" in go_mod
    assert (pulumi_cli.MODULE_DIR / "go.sum").exists()


# -- the Python language host ---------------------------------------------------------------
def test_without_the_host_source_the_host_is_one_line_and_no_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pulumi_cli.ensure_language_host(tmp_path / "bin", source=tmp_path / "nowhere") \
        is None
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no Python language host" in err
    assert not (tmp_path / "bin").exists()


def test_a_built_host_is_reused_while_its_source_is_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The host is stamped with its source: no Go needed while the stamp holds, a rebuild
    (which needs Go) once the source changes."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "main.go").write_text("package main\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / pulumi_cli.LANGUAGE_HOST).write_text("built")
    (bin_dir / pulumi_cli.LANGUAGE_HOST_STAMP).write_text(
        pulumi_cli._source_fingerprint(source))
    monkeypatch.setenv("PATH", str(tmp_path))  # no Go
    assert pulumi_cli.ensure_language_host(bin_dir, source=source) == \
        bin_dir / pulumi_cli.LANGUAGE_HOST
    (source / "main.go").write_text("package main // changed\n")
    assert pulumi_cli.ensure_language_host(bin_dir, source=source) is None  # needs Go now


def test_the_cli_here_has_its_language_host() -> None:
    """Where the host's source is beside the clone, ``dev.py setup`` built the host next to
    the CLI (with CI=true a missing host already failed the run before pytest)."""
    cli = cli_engine.require_cli()
    if not pulumi_cli.LANGUAGE_HOST_SOURCE.is_dir() and \
            os.environ.get("CI", "").lower() != "true":
        pytest.skip("no language host source beside this clone")
    assert cli_engine.find_language_host(cli) is not None
