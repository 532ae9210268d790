"""The CI example works when copied: valid YAML, the files it names exist, torch pinned to
the version the shipped baseline was made with, and the check runs after a failed budget."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "github-actions.yml"


def steps():
    doc = yaml.safe_load(EXAMPLE.read_text())
    return doc, {s.get("name"): s for s in doc["jobs"]["cost"]["steps"]}


def test_the_files_the_workflow_names_exist():
    text = EXAMPLE.read_text()
    named = set(re.findall(r"configs/[\w./-]+\.(?:toml|json)", text))
    assert named, "the example names its suite and baseline"
    for path in named:
        assert (ROOT / path).is_file(), path


def test_torch_is_pinned_to_the_baselines_version():
    doc, _ = steps()
    baseline = json.loads((ROOT / "configs/baselines/se-vs-eca.json").read_text())
    made_with = baseline["results"][0]["environment"]["torch"].split("+")[0]
    assert doc["env"]["TORCH_VERSION"] == made_with
    install = steps()[1]["Install attnprof (CPU torch, pinned)"]["run"]
    assert "torch==${TORCH_VERSION}" in install
    assert "git+" in install  # attnprof installs from its repository


def test_the_check_runs_even_after_a_failed_budget():
    _, by_name = steps()
    check = by_name["Check against the baseline"]
    assert "!cancelled()" in check["if"]  # not skipped when the suite step exited 1
    assert "attnprof check results.json" in check["run"]
    assert by_name["Upload the profile"]["if"] == "always()"


def test_ci_runs_the_readmes_test_command():
    """.ci/run runs the README's set-up-and-test command as written, so what a new user
    copies is what CI checks."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    command = next(line for b in blocks for line in b.splitlines()
                   if "python -m pytest" in line and line.startswith("python3 -m venv"))
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command.strip() in [line.strip() for line in ci_lines]


# -- every command the README shows runs as written (issue 21) --------------------------------

MYPKG = '''
import torch
import torch.nn.functional as F
from torch import nn


class MyGate(nn.Module):
    """A squeeze-and-excite gate with a tuple, a fraction and a class among its options."""

    def __init__(self, channels: int, feat_size: tuple[int, int] = (7, 7),
                 rd_ratio: float = 1 / 8, norm_layer: type[nn.Module] = nn.Identity):
        super().__init__()
        hidden = max(1, int(channels * rd_ratio))
        self.feat_size = tuple(feat_size)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.norm = norm_layer(hidden)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(torch.relu(self.norm(self.fc1(s)))))
'''


def readme_commands() -> list[str]:
    """Every ``attnprof ...`` line of the README's bash blocks, without its comment."""
    readme = (ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            if line.startswith("attnprof "):
                out.append(re.split(r"\s+#\s", line)[0].strip())
    return out


def quick(argv: list[str]) -> list[str]:
    """The command as written, made quicker where that changes no option it shows: a short
    timing budget where it times; on a whole network (``--host``, ``model``), attnprof's own
    counter alone and no timing (the wrapped counters run a 224x224 ResNet-50 for real, a
    minute on a busy 2-core machine; their tables are tested on blocks elsewhere)."""
    network = "--host" in argv or argv[0] == "model"
    timed = argv[0] in ("stat", "compare", "sweep") and "--no-latency" not in argv
    extra = ["--budget", "0.02"] if timed and not network else []
    if argv[0] == "compare" and "--baseline" in argv:
        extra += ["--time-cap", "2"]
    if argv[0] == "calibrate":
        extra = ["--budget", "0.1"]
    if network:
        extra += ["--no-latency"] if "--no-latency" not in argv else []
        extra += ["--backends", "attnprof"] if argv[0] != "model" else []
    return argv + extra


def test_every_readme_command_runs(cli, tmp_path, monkeypatch):
    import shlex
    import shutil

    commands = readme_commands()
    assert len(commands) >= 30, commands
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "blocks.py").write_text(MYPKG)
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # the files the commands write land here
    monkeypatch.setenv("ATTNPROF_CACHE_DIR", str(tmp_path / "cache"))
    failed = []
    for command in commands:
        argv = shlex.split(command)[1:]
        r = cli(*quick(argv))
        # run and check may fail a budget or a regression (exit 1) on a busy machine;
        # every other command must succeed, and none may be refused or crash
        allowed = (0, 1) if argv[0] in ("run", "check") else (0,)
        if r.exit_code not in allowed:
            failed.append(f"{command}: exit {r.exit_code}: {r.output[-400:]}")
    assert not failed, "\n".join(failed)
    for written in ("cbam.csv", "size.png", "sweep.csv", "sweep.json", "cost.csv", "cost.json",
                    "results.json"):
        assert (tmp_path / written).stat().st_size > 0, written
