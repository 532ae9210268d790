"""Sweeps: the product of axes, outputs written as cases finish, plots, resuming."""

import csv
import json

import pytest

from attnprof.sweep import scaling_exponent


def test_two_blocks_two_channels_two_sizes(cli, tmp_path):
    j, c, png = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.png"
    r = cli("sweep", "se", "cbam", "-c", "8,16", "-s", "8,16", "--budget", "0.02", "--json",
            str(j), "--csv", str(c), "--plot", str(png))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(c.open()))
    assert len(rows) == 8
    doc = json.loads(j.read_text())
    assert doc["schema"] == "attnprof.results/1" and len(doc["results"]) == 8
    shapes = {tuple(p["input"]["shape"]) for p in doc["results"]}
    assert shapes == {(1, ch, s, s) for ch in (8, 16) for s in (8, 16)}
    assert {r_["block"] for r_ in rows} == {"se", "cbam"}
    assert png.stat().st_size > 10_000
    assert oct(png.stat().st_mode & 0o777) != oct(0o600)


def test_plot_is_a_real_image(tmp_path, cli):
    import matplotlib.image as mpimg

    png = tmp_path / "p.png"
    r = cli("sweep", "se", "eca", "-c", "16", "-s", "8,16,32", "--no-latency",
            "--backends", "attnprof", "--plot", str(png))
    assert r.exit_code == 0, r.output
    img = mpimg.imread(str(png))
    assert img.shape[0] == 935 and img.shape[1] == 1320  # 12x8.5 inches at 110 dpi
    pixels = img[..., :3].reshape(-1, 3)
    assert (pixels.std(axis=0) > 0.05).all()  # not blank: lines, text, grid
    assert (pixels < 0.5).any()  # dark text and axes


def test_scaling_exponents_follow_the_math(cli, tmp_path):
    j = tmp_path / "s.json"
    r = cli("sweep", "se", "-c", "32", "-s", "8,16,32,64", "--no-latency", "--backends",
            "attnprof", "--json", str(j))
    assert r.exit_code == 0, r.output
    doc = json.loads(j.read_text())
    fit = doc["scaling"][0]
    assert fit["axis"] == "size"
    # SE's FLOPs: pool + gate 2·C·S², the MLP 4·C·h + relu h + sigmoid C (C=32, h=8)
    sizes = [8, 16, 32, 64]
    flops = [2 * 32 * s * s + 4 * 32 * 8 + 8 + 32 for s in sizes]
    assert [p["counters"]["attnprof"]["flops"] for p in doc["results"]] == flops
    assert fit["flops"] == pytest.approx(scaling_exponent(sizes, flops), rel=1e-12)
    assert 1.8 < fit["flops"] < 2.0  # tends to 2 as the S² terms dominate
    assert fit["params"] == pytest.approx(0.0, abs=1e-9)
    assert "flops ∝ size^" in r.stdout


def test_scaling_exponent_by_formula():
    xs = [1, 2, 4, 8]
    assert scaling_exponent(xs, [3 * x**1.5 for x in xs]) == pytest.approx(1.5)
    assert scaling_exponent([2, 2], [1, 5]) is None


def test_counting_only_sweep_of_100_cases(cli, tmp_path):
    c = tmp_path / "s.csv"
    r = cli("sweep", "se", "eca", "cbam", "cbam_channel", "cbam_spatial", "-c",
            "8,16,32,64,128", "-s", "14,28,56,112", "--no-latency", "--backends", "attnprof",
            "--csv", str(c))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(c.open()))
    assert len(rows) == 100
    row = next(x for x in rows if x["name"] == "cbam c=128 112x112 b=1 float32")
    assert int(row["macs"]) == 4 * 128 * 32 + 2 * 49 * 112 * 112
    assert all(x["latency_ms"] == "" for x in rows)


def test_interrupted_sweep_keeps_finished_cases_and_resumes(cli, tmp_path, monkeypatch):
    import attnprof.runner

    real = attnprof.runner.profile
    calls = {"n": 0}

    def flaky(request, progress=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(request, progress)

    monkeypatch.setattr(attnprof.runner, "profile", flaky)
    j, c = tmp_path / "s.json", tmp_path / "s.csv"
    args = ("sweep", "se", "eca", "-c", "8,16", "-s", "8", "--no-latency", "--backends",
            "attnprof", "--json", str(j), "--csv", str(c))
    r = cli(*args)
    assert r.exit_code == 130, r.output
    assert "--resume" in r.stderr and "2 of 4" in r.stderr
    assert len(json.loads(j.read_text())["results"]) == 2
    assert len(list(csv.DictReader(c.open()))) == 2
    monkeypatch.setattr(attnprof.runner, "profile", real)
    r = cli(*args, "--resume")
    assert r.exit_code == 0, r.output
    assert "2 of 4 cases already done" in r.stderr
    names = [p["name"] for p in json.loads(j.read_text())["results"]]
    assert len(names) == 4 == len(set(names))
    assert len(list(csv.DictReader(c.open()))) == 4


def test_resume_from_csv_only(cli, tmp_path):
    c = tmp_path / "s.csv"
    base = ("sweep", "se", "-c", "8", "-s", "8", "--no-latency", "--backends", "attnprof",
            "--csv", str(c))
    assert cli(*base).exit_code == 0
    r = cli("sweep", "se", "-c", "8,16", "-s", "8", "--no-latency", "--backends", "attnprof",
            "--csv", str(c), "--resume")
    assert r.exit_code == 0 and "1 of 2 cases already done" in r.stderr, r.output
    assert [x["channels"] for x in csv.DictReader(c.open())] == ["8", "16"]


def test_suite_sweep_table(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(
        '[defaults]\nlatency = false\nbackends = ["attnprof"]\n'
        '[sweep]\nblocks = ["se", "eca"]\nchannels = [8, 16]\nsize = [8, [16, 8]]\n'
        'csv = "out.csv"\n')
    r = cli("run", "s.toml")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert len(rows) == 8 and {(x["height"], x["width"]) for x in rows} == {("8", "8"),
                                                                          ("16", "8")}


@pytest.mark.parametrize("args,needle", [
    (["sweep", "se", "-c", "8,x"], "not an integer"),
    (["sweep", "se", "-c", "0"], "positive"),
    (["sweep", "se", "-s", "8,0x3"], "size"),
    (["sweep", "se", "--dtype", "float32,int8"], "unknown dtype"),
    (["sweep", "se", "--resume"], "--resume needs"),
    (["sweep", "se", "se"], "repeats a case"),
    (["sweep", "se", "--plot", "/no/dir/p.png"], "does not exist"),
])
def test_sweep_bad_input(cli, args, needle):
    r = cli(*args, "--no-latency")
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output


def test_plot_without_matplotlib_says_how_to_install(cli, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mpl(name, *a, **k):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    r = cli("sweep", "se", "--no-latency", "--plot", str(tmp_path / "p.png"))
    assert r.exit_code == 2 and "attnprof[plot]" in r.stderr, r.output


def _cases(blocks="se", channels="8,16,32"):
    from attnprof.request import ProfileRequest
    from attnprof.sweep import plan

    return plan(blocks.split(","), channels, "8", "1", "float32",
                ProfileRequest(block="se", latency=False, backends="attnprof"))


def test_the_engine_saves_after_each_case_and_skips_what_was_done(monkeypatch, capsys):
    """run_sweep runs, saves and skips; it prints nothing and leaves exiting to its caller."""
    import attnprof.runner
    from attnprof.sweep import run_sweep

    monkeypatch.setattr(attnprof.runner, "profile", lambda case, progress=None: case.name)
    cases = _cases()
    saved, told = [], []
    out = run_sweep(cases, prior=["earlier"], skip={cases[0].name},
                    save=lambda finished: saved.append(list(finished)),
                    progress=lambda message, done, total: told.append((message, done, total)))
    names = [c.name for c in cases]
    assert out == ["earlier", names[1], names[2]]
    assert saved == [["earlier", names[1]], ["earlier", names[1], names[2]]]
    assert told == [(f"{names[1]} (1/2)", 0, 2), (f"{names[2]} (2/2)", 1, 2)]
    assert capsys.readouterr() == ("", "")


def test_the_engine_keeps_finished_cases_on_ctrl_c(monkeypatch, capsys):
    import attnprof.runner
    from attnprof.errors import BadInput
    from attnprof.sweep import SweepInterrupted, run_sweep

    def second_interrupts(case, progress=None):
        if case.channels == 16:
            raise KeyboardInterrupt
        return case.name

    monkeypatch.setattr(attnprof.runner, "profile", second_interrupts)
    cases = _cases()
    saved = []
    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(cases, save=lambda finished: saved.append(list(finished)))
    assert isinstance(stop.value, KeyboardInterrupt)
    assert stop.value.finished == [cases[0].name] and stop.value.total == 3
    assert saved == [[cases[0].name], [cases[0].name]]  # after the case, and once more
    assert capsys.readouterr() == ("", "")
    with pytest.raises(BadInput, match="repeats a case"):
        run_sweep(_cases("se,se", "8"))
