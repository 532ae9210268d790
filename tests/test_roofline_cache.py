"""The roofline says when a block's working set fits in the last-level cache, where the
DRAM bandwidth of its floor does not bound it (issue 21). Torch-free."""

from pathlib import Path

from attnprof.measure.roofline import last_level_cache, roofline
from attnprof.report.block_views import roofline_notes
from attnprof.results import Roofline


def _cache(root: Path, index: int, level: int, kind: str, size: str) -> None:
    d = root / f"index{index}"
    d.mkdir(parents=True)
    (d / "level").write_text(f"{level}\n")
    (d / "type").write_text(f"{kind}\n")
    (d / "size").write_text(f"{size}\n")


def test_the_last_level_cache_is_read_from_sysfs(tmp_path):
    _cache(tmp_path, 0, 1, "Data", "32K")
    _cache(tmp_path, 1, 1, "Instruction", "32K")
    _cache(tmp_path, 2, 2, "Unified", "512K")
    _cache(tmp_path, 3, 3, "Unified", "32768K")
    size, where = last_level_cache("cpu", root=tmp_path)
    assert size == 32768 * 1024 and where.startswith("L3")
    # no L3: the L2 is the last level; an instruction cache never is
    for f in (tmp_path / "index3").iterdir():
        f.unlink()
    (tmp_path / "index3").rmdir()
    assert last_level_cache("cpu", root=tmp_path)[0] == 512 * 1024


CALIBRATION = {"device": "cpu", "bandwidth_bytes_per_s": 10e9,
               "matmul_flops_per_s": {"float32": 100e9}, "llc_bytes": 2**20}


def test_a_working_set_in_cache_is_said_not_bound_by_dram():
    # 1 MFLOP and 10 MB: memory-bound, floor 10 MB / 10 GB/s = 1 ms
    inside = roofline(CALIBRATION, 10**6, 10**7, 2e-3, "float32", working_set=2**19)
    assert inside["floor_ms"] == 1.0 and inside["bound"] == "memory"
    assert inside["cache_resident"] is True and inside["llc_bytes"] == 2**20
    outside = roofline(CALIBRATION, 10**6, 10**7, 2e-3, "float32", working_set=2**21)
    assert outside["cache_resident"] is False
    unknown = roofline(CALIBRATION, 10**6, 10**7, 2e-3, "float32")
    assert unknown["cache_resident"] is None
    notes = roofline_notes(Roofline.from_dict(inside))
    assert notes and "fits in the 1.00 MiB last-level cache" in notes[0]
    assert "512.00 KiB" in notes[0]
    assert roofline_notes(Roofline.from_dict(outside)) == []
