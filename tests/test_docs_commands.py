"""Every ``hepml-nb ...`` command quoted in README.md, tutorials/**/*.md and docs/**/*.md parses with the CLI's own
parser, and ``run`` / ``sweep`` commands name a valid topic, profile and parameters (checked with
``prepare_run``, which starts nothing).

Explicit rules (nothing is skipped silently):

- A command is a shell segment (split at ``&&``, ``||``, ``;``, ``|``) whose first word is ``hepml-nb``,
  in a fenced code block (``\\`` continuations joined, ``# comments`` dropped) or in inline code.
- MENTIONS: inline code that is only ``hepml-nb`` or ``hepml-nb SUBCOMMAND`` (no arguments) names the
  command in prose; it is reported as skipped.
- PLACEHOLDERS: a word in capitals (``TOPIC``, ``DIR``, ``NAME``) or containing ``...`` or ``<...>``
  stands for the reader's choice: the command is still parsed, then reported as skipped instead of
  validating a topic or parameter that is a placeholder.
- Input-file parameters (``data_path``) name the reader's own files: their type is checked, but
  their existence is not (the catalog's file validator is not run).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest

from hepml_nb.course.catalog import TOPICS, get_topic
from hepml_nb.course.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "tutorials").rglob("*.md"), *(ROOT / "docs").rglob("*.md")])
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$|\.\.\.|<[^>]*>")
_SEPARATORS = {"&&", "||", ";", "|", "&"}


class Command(NamedTuple):
    where: str  # file:line
    words: tuple[str, ...]  # after "hepml-nb"
    inline: bool

    @property
    def mention(self) -> bool:
        return self.inline and (not self.words or (len(self.words) == 1 and self.words[0] != "list"))

    def __str__(self) -> str:
        return f"{self.where}: hepml-nb {shlex.join(self.words)}"


def _segments(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in _SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s[1:] if s and s[0] == "$" else s for s in segments]


def _logical_lines(path: Path) -> list[tuple[int, str, bool]]:
    """(line number, text, in a code block) with backslash continuations joined inside code blocks."""
    out, fenced, pending, start = [], False, "", 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced and line.rstrip().endswith("\\"):
            pending, start = pending + line.rstrip()[:-1] + " ", start or number
            continue
        out.append((start or number, pending + line, fenced))
        pending, start = "", 0
    return out


def doc_commands() -> list[Command]:
    commands = []
    for path in DOCS:
        for number, text, fenced in _logical_lines(path):
            snippets = [text] if fenced else _INLINE.findall(text)
            for snippet in snippets:
                if "hepml-nb" not in snippet:
                    continue
                for words in _segments(snippet):
                    if words and words[0] == "hepml-nb":
                        commands.append(Command(f"{path.relative_to(ROOT)}:{number}", tuple(words[1:]), not fenced))
    return commands


def _placeholder(word: str) -> bool:
    return bool(_PLACEHOLDER.search(word))


def _parse(command: Command) -> argparse.Namespace:
    try:
        return _parser().parse_args(list(command.words))
    except SystemExit:
        pytest.fail(f"{command}: the CLI's parser rejects it (see the usage message above)")


@pytest.fixture
def no_input_file_checks(monkeypatch):
    """Rule: input-file parameters in the docs are the reader's own files; do not check that they exist."""
    import hepml_nb.course.runner as runner

    real = runner.topic_rules

    def rules_without_file_validators(key):
        return {
            name: dataclasses.replace(rule, validator=None) if rule.validator else rule
            for name, rule in real(key).items()
        }

    monkeypatch.setattr(runner, "topic_rules", rules_without_file_validators)


def _validate_run(command: Command, topic: str, profile: str, params: dict[str, str]) -> None:
    from hepml_nb.core.errors import HepmlError
    from hepml_nb.course.runner import prepare_run

    if _placeholder(topic) or any(_placeholder(k) or _placeholder(v) for k, v in params.items()):
        pytest.skip(f"{command}: placeholder, parsed only")
    for key in list(TOPICS) if topic == "all" else [topic]:
        try:
            prepare_run(get_topic(key).key, profile, params)
        except HepmlError as exc:
            pytest.fail(f"{command}: {exc}")


COMMANDS = doc_commands()


def test_docs_quote_commands():
    assert len(COMMANDS) >= 30, [str(c) for c in COMMANDS]
    assert {c.words[0] for c in COMMANDS if c.words} >= {"list", "params", "run", "sweep", "student"}


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_doc_command_is_valid(command, no_input_file_checks):
    if command.mention:
        pytest.skip(f"{command}: names the command in prose, not a command")
    args = _parse(command)
    if args.command == "params":
        if _placeholder(args.topic):
            pytest.skip(f"{command}: placeholder, parsed only")
        get_topic(args.topic)
    elif args.command == "run":
        _validate_run(command, args.topic, args.profile, dict(args.param or []))
    elif args.command == "sweep":
        assert args.param, f"{command}: a sweep needs at least one -p NAME V1 V2 ..."
        for name, *values in args.param:
            assert values, f"{command}: -p {name} has no values"
            for value in values:
                _validate_run(command, args.topic, args.profile, {name: value})
    elif args.command == "student":
        target = args.notebook
        assert target == "all" or target in TOPICS or target.endswith(".ipynb"), (
            f"{command}: give a topic key, 'all' or a notebook path"
        )


def test_placeholders_and_mentions_are_recognised():
    assert _placeholder("TOPIC") and _placeholder("V1") and _placeholder("...") and _placeholder("<name>")
    assert not _placeholder("particlenet") and not _placeholder("[10, 12]") and not _placeholder("runs/pn-gpu")
    assert Command("x", ("run",), True).mention and Command("x", (), True).mention
    assert not Command("x", ("run",), False).mention and not Command("x", ("list",), True).mention


def test_wrongly_quoted_string_parameter_is_rejected():
    """A shell-quoted ``'"particlenet"'`` reaches the runner with its quotes: not a valid model name."""
    from hepml_nb.core.errors import ParameterError
    from hepml_nb.course.runner import prepare_run

    args = _parser().parse_args(shlex.split("""run particlenet -p task '"top"'"""))
    with pytest.raises(ParameterError, match="task"):
        prepare_run(args.topic, args.profile, dict(args.param))
    prepare_run("particlenet", "default", {"task": "top"})


@pytest.mark.parametrize(
    "line,expected",
    [
        ("a && hepml-nb run qml --profile ci  # comment", [["a"], ["hepml-nb", "run", "qml", "--profile", "ci"]]),
        ('$ hepml-nb run fpga -p widths "[10, 12]"', [["hepml-nb", "run", "fpga", "-p", "widths", "[10, 12]"]]),
    ],
)
def test_segments_split_like_a_shell(line, expected):
    assert _segments(line) == expected
