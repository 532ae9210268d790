"""Markdown for one profile: what ``--format markdown`` prints and CI summaries embed."""

from __future__ import annotations

from attnprof.reconcile import missed_ops, missed_text
from attnprof.report import fmt
from attnprof.results import Profile


def md_table(head: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return lines


def profile_markdown(p: Profile, *, layers: bool = False, ops: bool = False) -> str:
    shape = p.input.text
    out = [f"### {p.block.name}: {shape} {p.input.dtype} on {p.input.device}, "
           f"mode {p.mode}", "",
           f"Options: {fmt.option_text(p.block.options)}. Parameters: "
           f"{fmt.count(p.params)} ({fmt.nbytes(p.parameters.bytes)}).", ""]
    own = p.counters.get("attnprof")
    rows = []
    for name, c in p.counters.items():
        if not c.ok:
            rows.append([name, c.status, "", "", "", c.error or ""])
            continue
        missed = "-" if name == "attnprof" or own is None else missed_text(missed_ops(c, own))
        rows.append([name, fmt.count(c.reported), c.unit or "", fmt.count(c.macs),
                     fmt.count(c.flops), missed])
    out += md_table(["backend", "reports", "unit", "MACs", "FLOPs", "not counted"], rows, {1, 3, 4})
    m, lat = p.memory, p.latency
    out += ["", f"Peak memory {fmt.nbytes(m.peak_bytes)} ({m.peak_method or 'n/a'}); "
                f"activations {fmt.nbytes(m.activations_bytes)}."]
    if lat is not None:
        out.append(f"Latency median {fmt.ms(lat.median_ms)} (IQR {fmt.ms(lat.iqr_ms)}, "
                   f"{lat.samples} samples, {lat.threads} threads, {lat.mode}).")
    if layers:
        names = list(p.counters)
        out += ["", *md_table(
            ["module", "type", "params", *names],
            [[r.path or "(block)", r.type, fmt.count(r.params),
              *[fmt.count(r.macs.get(b)) for b in names]] for r in p.layers],
            set(range(2, 3 + len(names))))]
    if ops and own is not None and own.ok:
        out += ["", *md_table(
            ["op", "calls", "MACs", "FLOPs", "transcendentals", "bytes"],
            [[r.op, str(r.calls), fmt.count(r.macs), fmt.count(r.flops),
              fmt.count(r.transcendentals), fmt.count(r.bytes)]
             for r in own.ops], {1, 2, 3, 4, 5})]
    return "\n".join(out) + "\n"
