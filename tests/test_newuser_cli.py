"""What a new user of the ``structsparse`` command meets first: --help texts and the first lines of output."""

import subprocess
import sys

import pytest

from structsparse.cli import build_parser, main


def _subparsers():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sub.choices


COMMANDS = sorted(_subparsers())


@pytest.mark.parametrize("command", COMMANDS)
def test_descriptions_are_plain_text(command):
    # docstring-derived descriptions used to show reST markup: "``structsparse demo``: a tour ..."
    description = _subparsers()[command].description
    assert description, f"{command} has no description"
    assert "``" not in description
    assert not description.lower().startswith("structsparse ")
    assert description[0].isupper()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_explained(command):
    sub = _subparsers()[command]
    missing = [a.option_strings[0] if a.option_strings else a.dest
               for a in sub._actions if a.help is None]
    assert not missing, f"structsparse {command}: options without help text: {missing}"


@pytest.mark.parametrize("command", ["phase", "rip"])
def test_k_help_names_no_option_the_command_lacks(command):
    sub = _subparsers()[command]
    options = {s for a in sub._actions for s in a.option_strings}
    assert "--signal" not in options
    (k,) = [a for a in sub._actions if "--k" in a.option_strings]
    assert "--signal" not in k.help and "--image" not in k.help


def test_recover_help_keeps_the_real_signal_default():
    (k,) = [a for a in _subparsers()["recover"]._actions if "--k" in a.option_strings]
    assert "--signal" in k.help


def test_recover_signal_header_names_the_length_once(capsys):
    # used to print "ecg: N=1024 1024, M=256 ..." for a 1-D signal
    assert main(["recover", "--signal", "ecg", "--method", "cosamp"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("ecg: N=1024, M=256"), first


def test_closed_pipe_is_not_reported_as_an_error():
    # `structsparse rip ... | head -1` used to end with "structsparse rip: error: [Errno 32] Broken pipe"
    proc = subprocess.Popen(
        [sys.executable, "-m", "structsparse", "rip", "--n", "64", "--block-size", "4", "--k", "2", "--m", "30",
         "--samples", "3", "--search", "random"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    _, err = proc.communicate(timeout=120)
    assert b"Broken pipe" not in err, err.decode()
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 141


def test_version_agrees_with_pyproject_and_the_changelog(capsys):
    # --version printed 0.1.0 while errors said the string forms were "removed in 0.2.0"; the changelog's newest
    # section is the current version, and pyproject.toml, structsparse.__version__ and --version must say it
    import re
    from pathlib import Path

    import structsparse

    root = Path(__file__).resolve().parents[1]
    pyproject = re.search(r'^version = "([^"]+)"$', (root / "pyproject.toml").read_text(), re.M).group(1)
    changelog = re.search(r"^(\d+\.\d+\.\d+)\b", (root / "docs" / "changelog.rst").read_text(), re.M).group(1)
    assert structsparse.__version__ == pyproject == changelog
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"structsparse {changelog}"
