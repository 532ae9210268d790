"""One record per profiling option (attnprof/profile_options.py): every command that takes an
option lists it in its --help, the docs' table is the records' table, every command takes the
global flags, and a new record reaches the CLI with no other change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fresh import fresh_python

from attnprof.profile_options import OPTIONS, markdown_table

COMMANDS = ("list", "show", "stat", "compare", "sweep", "run", "check", "calibrate", "env",
            "model")


def _help(cli, command: str) -> str:
    r = cli(command, "--help")
    assert r.exit_code == 0, r.output
    return r.output


def _flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", text))


@pytest.mark.parametrize("command", sorted({c for o in OPTIONS for c in o.commands}))
def test_every_command_lists_every_option_it_takes(cli, command):
    shown = _flags(_help(cli, command))
    for option in OPTIONS:
        flags = {f for spec in option.flags for f in spec.split("/")}
        if command in option.commands:
            assert flags <= shown, (command, option.name)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_global_flags(cli, command):
    assert {"--debug", "--verbose"} <= _flags(_help(cli, command))


def test_the_docs_option_table_is_the_records_table():
    """docs/contract.md's profile option table, header to the blank line after it, is
    :func:`markdown_table`: a record without its row, or a row without its record, fails."""
    text = (Path(__file__).parents[1] / "docs" / "contract.md").read_text()
    start = text.index("| option | default | meaning |")
    table = text[start:text.index("\n\n", start)]
    assert table == markdown_table(), "run: python -m attnprof.profile_options docs/contract.md"
    documented = [o for o in OPTIONS if o.doc]
    assert len(table.splitlines()) == 2 + len(documented)
    for option in OPTIONS:  # those outside the table (--format, --json, ...) are documented
        flags = {f for spec in option.flags for f in spec.split("/")}
        assert flags <= _flags(text), option.name


def test_host_help_names_every_host(cli):
    from attnprof.hosts import host_names

    text = " ".join(_help(cli, "stat").split())
    assert host_names() and all(h in text for h in host_names())


def test_the_global_verbose_reaches_run(cli, tmp_path, monkeypatch):
    """``run`` reads --verbose given before its name as after it."""
    import attnprof.runner as runner_mod

    seen = []

    def fake_profile_many(requests, **kw):
        seen.extend(r.verbose for r in requests)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_mod, "profile_many", fake_profile_many)
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nblock = "se"\nchannels = 8\nsize = 8\n')
    for argv in (("--verbose", "run", str(suite)), ("run", str(suite), "--verbose"),
                 ("run", str(suite))):
        from attnprof.cli import STATE

        STATE.verbose = False
        seen.clear()
        r = cli(*argv)
        assert r.exit_code == 130, r.output
        assert seen == [argv != ("run", str(suite))], argv


def test_a_new_record_is_one_entry(tmp_path):
    """A record added to OPTIONS (and nothing else) is a flag of every command it names, with
    its help, and a field of ProfilingOptions."""
    code = (
        "import dataclasses, sys\n"
        "import attnprof.profile_options as po\n"
        "new = po.ProfileOption('spin', ('--spin',), int, 3, 'Spins per call.', 'N',\n"
        "                       commands=('stat', 'sweep'))\n"
        "po.OPTIONS = (*po.OPTIONS, new); po.BY_NAME['spin'] = new\n"
        "from typer.main import get_command\n"
        "from attnprof.cli import app\n"
        "from attnprof.cli.options import ProfilingOptions\n"
        "assert 'spin' in {f.name for f in dataclasses.fields(ProfilingOptions)}\n"
        "cmds = get_command(app).commands\n"
        "for name in ('stat', 'sweep', 'compare'):\n"
        "    p = [p for p in cmds[name].params if p.name == 'spin']\n"
        "    print(name, p[0].opts, p[0].default, p[0].help) if p else print(name, None)\n")
    out = fresh_python(code, timeout=120)
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["stat"] == "['--spin'] 3 Spins per call."
    assert lines["sweep"] == lines["stat"]
    assert lines["compare"] == "None"


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.suite], ids=lambda o: o.name)
def test_a_suite_takes_and_checks_every_option_its_record_gives_it(tmp_path, option):
    from attnprof.suite import SuiteError, load

    suite = tmp_path / "s.toml"
    suite.write_text(f'[[case]]\nblock = "se"\n{option.suite} = [{{}}]\n')
    with pytest.raises(SuiteError) as err:
        load(str(suite))
    assert f"{option.suite} in [[case]] must be" in str(err.value)


#: the library's function for a command's request, and its parameters outside the keywords
LIBRARY = {"stat": ("profile", ("block", "channels", "size", "batch", "options")),
           "model": ("model", ("network", "block", "options", "match", "size", "batch"))}


@pytest.mark.parametrize(("command", "option"), [
    (c, o) for c in LIBRARY for o in OPTIONS
    if c in o.commands and o.request and o.request not in LIBRARY[c][1]
    and o.value in ("bool", "text")], ids=lambda x: getattr(x, "name", x))
def test_the_library_checks_every_option_by_its_records_kind(command, option):
    """attnprof.profile takes every request field of stat's options as a keyword, and
    attnprof.model every one of model's; a value of the wrong kind is BadInput, before
    anything is built (the network's name is checked after)."""
    import attnprof
    from attnprof.errors import BadInput

    with pytest.raises(BadInput) as err:
        if command == "stat":
            attnprof.profile("se", 8, 8, **{option.request: 7})
        else:
            attnprof.model("no-such-network", **{option.request: 7})
    words = "True or False" if option.value == "bool" else "a string"
    assert str(err.value) == f"{option.request} must be {words}, got 7"


@pytest.mark.parametrize("command", LIBRARY)
def test_the_library_takes_every_request_field_and_no_other(command):
    """The keywords the library's function refuses are exactly those outside the request:
    an unknown keyword is one line naming the known ones, each known one is accepted (no
    'takes no argument' error, whatever else its value makes of it)."""
    import dataclasses

    import attnprof
    from attnprof.errors import AttnprofError, BadInput
    from attnprof.request import NetworkRequest, ProfileRequest

    function, positional = LIBRARY[command]
    call = getattr(attnprof, function)
    first = ("se", 8, 8) if command == "stat" else ("no-such-network",)
    with pytest.raises(BadInput, match=r"takes no argument 'spin'"):
        call(*first, spin=1)
    request = ProfileRequest if command == "stat" else NetworkRequest
    for f in dataclasses.fields(request):
        if f.name in positional:
            continue
        try:
            call(*first, **{f.name: object()})
        except AttnprofError as exc:
            assert "takes no argument" not in str(exc), f.name
        except Exception as exc:  # a value of the wrong kind must still be attnprof's error
            raise AssertionError(f"{f.name}: {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize("command", LIBRARY)
def test_the_requests_fields_and_defaults_are_the_records(command):
    """ProfileRequest (stat's, the library's and a suite's) and NetworkRequest (model's) have
    one field per option of their command that names a request field, defaulted as that
    command declares it (model's --budget 1 s, stat's 0.3 s), and a plan of the defaults
    holds each record's check of its default."""
    import dataclasses

    from attnprof.request import NetworkRequest, ProfileRequest

    request = ProfileRequest if command == "stat" else NetworkRequest
    fields = {f.name: f for f in dataclasses.fields(request)}
    records = {o.request: o for o in OPTIONS if o.request and command in o.commands}
    assert set(fields) - set(records) == ({"block", "verbose", "name"} if command == "stat"
                                          else {"network", "verbose"})
    for key, option in records.items():
        default = option.declaration(command)["default"]
        f = fields[key]
        given = f.default_factory() if f.default is dataclasses.MISSING else f.default
        assert given == (default if option.value != "options" else {}), key
    plan = (request("se") if command == "stat" else request("resnet18")).validated()
    for key, option in records.items():
        check = option.declaration(command)["check"]
        if check is not None:
            assert getattr(plan, key) == check(option.declaration(command)["default"]), key
    assert ProfileRequest("se").validated().budget_s == 0.3
    assert NetworkRequest("resnet18").validated().budget_s == 1.0


def test_warmup_reaches_the_timer_and_is_checked(cli):
    """--warmup (one record in profile_options plus its use in the runner): the timer makes
    that many untimed calls first, and a count other than 3 is named in the latency's method;
    a count outside 1..1000 is one line and exit 2, on the command line, the library and in
    a suite."""
    import attnprof
    from attnprof.errors import BadInput
    from attnprof.measure import latency

    made = []
    real = latency.TimedCall.__init__

    def spy(self, *args, **kwargs):
        made.append(kwargs.get("warmup"))
        real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(latency.TimedCall, "__init__", spy)
        p = attnprof.profile("se", 8, 8, warmup=5, backends="attnprof", budget_s=0.01)
    assert made == [5]
    assert "5 warm-up calls" in p.latency.method
    q = attnprof.profile("se", 8, 8, backends="attnprof", budget_s=0.01)
    assert "warm-up" not in q.latency.method
    for bad in (0, 1001):
        with pytest.raises(BadInput, match="--warmup must be"):
            attnprof.profile("se", 8, 8, warmup=bad)
    r = cli("stat", "se", "-c", "8", "-s", "8", "--warmup", "0")
    assert r.exit_code == 2 and "--warmup must be" in r.output and "Traceback" not in r.output
