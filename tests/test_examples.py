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
