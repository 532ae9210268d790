"""The shipped JSON Schemas validate real documents on their own: a plain
``jsonschema.validate(doc, schema)``, no registry."""

import copy
import json
import re
from importlib import resources

import jsonschema
import pytest
from docedit import change_count, set_count

import attnprof
from attnprof.schemas import FILES, schema

FAST = ["-c", "8", "-s", "8", "--budget", "0.01"]
SUITE = """
[defaults]
channels = 8
size = 8
budget = 0.01

[[case]]
name = "se"
block = "se"

[[case]]
name = "eca"
block = "eca"

[[budget]]
case = "eca"
max_params = 3
"""


def _no_infinity(name):
    raise AssertionError(f"not JSON: {name}")


def _json(result):
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout, parse_constant=_no_infinity)


def test_every_shipped_schema_is_listed_and_a_valid_draft_2020_12_schema():
    shipped = {p.name for p in resources.files("attnprof.schemas").iterdir()
               if p.name.endswith(".json")}
    assert shipped == set(FILES.values())
    for name, file in FILES.items():
        s = schema(name)
        jsonschema.Draft202012Validator.check_schema(s)
        assert s["properties"]["schema"] == {"const": name}, file


def test_the_results_schema_carries_the_profile_schema_verbatim():
    assert schema("attnprof.results/1")["$defs"]["profile"] == schema("attnprof.profile/1")


def test_profile_documents_validate(cli):
    doc = _json(cli("stat", "cbam", *FAST, "--format", "json"))
    jsonschema.validate(doc, schema("attnprof.profile/1"))
    assert doc["latency"] is not None  # the latency section was there to be checked
    lib = attnprof.profile("eca", channels=8, size=8, mode="train", latency=False).to_dict()
    jsonschema.validate(lib, schema("attnprof.profile/1"))


def test_results_documents_of_compare_sweep_and_run_validate(cli, tmp_path):
    compare = _json(cli("compare", "se", "eca", *FAST, "--rounds", "1", "--baseline", "se",
                        "--format", "json", "--quiet"))
    sweep = _json(cli("sweep", "se", "-c", "8,16", "-s", "8", "--budget", "0.01",
                      "--format", "json", "--quiet"))
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    run = _json(cli("run", str(suite), "--format", "json", "--quiet"))
    # each document has the section of its command, so the schema had it to check
    assert compare["comparison"]["baseline"] == "se" and sweep["scaling"] and run["budgets"]
    for doc in (compare, sweep, run):
        jsonschema.validate(doc, schema("attnprof.results/1"))


def test_check_documents_validate_and_are_strict_json(cli, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    base = tmp_path / "base.json"
    assert cli("run", str(suite), "--json", str(base), "--quiet").exit_code == 0
    doc = json.loads(base.read_text())
    worse = copy.deepcopy(doc)
    change_count(worse["results"][0], "flops", 100)  # se got more expensive
    set_count(doc["results"][1], "transcendentals", 0)  # a baseline of 0
    base.write_text(json.dumps(doc))
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    r = cli("check", str(tmp_path / "worse.json"), "--baseline", str(base), "-f", "json")
    assert r.exit_code == 1
    out = _json(r)
    jsonschema.validate(out, schema("attnprof.check/1"))
    assert out["regressions"] == sum(d["failed"] for d in out["diffs"]) == 2
    from_zero = [d for d in out["diffs"] if d["case"] == "eca" and d["metric"] ==
                 "transcendentals"]
    assert from_zero == [{"case": "eca", "metric": "transcendentals", "baseline": 0,
                          "value": worse["results"][1]["counters"]["attnprof"]
                          ["transcendentals"], "change": None, "verdict": "higher",
                          "failed": True}]


def _profile_doc():
    return attnprof.profile("se", channels=8, size=8, latency=False,
                            backends=("torchinfo", "attnprof")).to_dict()


def test_the_schemas_reject_malformed_documents():
    doc = _profile_doc()
    bad_profile = copy.deepcopy(doc)
    bad_profile["counters"]["attnprof"]["macs"] = "128"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_profile, schema("attnprof.profile/1"))
    # inside a results document the profile schema applies too
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "attnprof.results/1", "results": [bad_profile]},
                            schema("attnprof.results/1"))
    jsonschema.validate({"schema": "attnprof.results/1", "results": [doc]},
                        schema("attnprof.results/1"))
    failed_without_error = copy.deepcopy(doc)
    failed_without_error["counters"]["torchinfo"].update(status="failed", error=None)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(failed_without_error, schema("attnprof.profile/1"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "attnprof.check/1", "results": "a.json",
                             "baseline": "b.json", "diffs": [], "regressions": -1},
                            schema("attnprof.check/1"))


def test_new_backends_statuses_and_dtypes_keep_the_version():
    """docs/json-schema.md: adding a backend, a status or a dtype is not a new version."""
    doc = _profile_doc()
    newer = copy.deepcopy(doc["counters"]["torchinfo"])
    newer.update(backend="newlib", status="partial", error="counted the forward only")
    doc["counters"]["newlib"] = newer
    doc["input"]["dtype"] = "float8_e4m3fn"
    jsonschema.validate(doc, schema("attnprof.profile/1"))


# -- attnprof.model/1 ----------------------------------------------------------------------------

def test_the_model_schema_carries_the_profile_schemas_count_and_latency():
    model, profile = schema("attnprof.model/1"), schema("attnprof.profile/1")
    for key in ("count", "latency"):
        assert model["$defs"][key] == profile["$defs"][key]


def test_model_documents_validate(cli, tmp_path):
    """Timed (the network, its own time, the removal), untimed, with a block, and read back
    from the library: each a plain jsonschema.validate against the shipped schema."""
    s = schema("attnprof.model/1")
    timed = _json(cli("model", "resnet18", "--block", "eca", "-s", "32", "--budget", "0.03",
                      "--time-cap", "0.5", "--threads", "1", "-f", "json"))
    jsonschema.validate(timed, s)
    assert timed["timing"]["removal"] is not None and timed["timing"]["own"] is not None
    untimed = _json(cli("model", "mobilenetv2", "--no-latency", "-s", "32",
                        "--backends", "attnprof", "-f", "json"))
    jsonschema.validate(untimed, s)
    assert untimed["timing"] is None
    lib = attnprof.model("resnet18", block="se", size=32, latency=False).to_dict()
    jsonschema.validate(json.loads(json.dumps(lib)), s)


def test_the_model_schema_rejects_malformed_documents():
    from pathlib import Path

    good = json.loads((Path(__file__).parent / "fixtures" / "model_se_in_resnet18.json")
                      .read_text(encoding="utf-8"))
    s = schema("attnprof.model/1")
    jsonschema.validate(good, s)
    for mutate in (lambda d: d.pop("modules"),
                   lambda d: d["network"].update(params="many"),
                   lambda d: d["timing"]["removal"].update(verdict=3),
                   lambda d: d["timing"].update(network_ms_ci=[1.0]),
                   lambda d: d.update(schema="attnprof.model/2")):
        bad = copy.deepcopy(good)
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, s)


@pytest.mark.parametrize(("word", "limit", "inside", "beyond", "message"), [
    ("minimum", 0, 0, -1, "must be >= 0, got -1"),
    ("exclusiveMinimum", 0, 0.5, 0, "must be > 0, got 0"),
    ("maximum", 1.5, 1.5, 2, "must be <= 1.5, got 2"),
])
def test_each_bound_on_a_number_refuses_beyond_it_only(word, limit, inside, beyond, message):
    # attnprof's own schema interpreter (attnprof.validate), one bound at a time
    from attnprof.validate import Invalid, _Compiler

    check = _Compiler().compile({"type": "number", word: limit}, {})
    check(inside)
    with pytest.raises(Invalid, match=f"^{re.escape(message)}$"):
        check(beyond)
