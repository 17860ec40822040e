"""``gfref bench`` runs end to end (tiny repeats) and its bench.json feeds the report.

Speed goals are not asserted here: timings on a shared CI machine are noise. These tests
check that the benchmark measures what it says (every scheme, ratios to SGD, memory) and
that the report reads its output.
"""

from __future__ import annotations

import json

from gfref.bench import BENCH_RUNS, bench_gram_vs_explicit, run_bench


def test_bench_writes_ratios_memory_and_feeds_the_report(tmp_path, monkeypatch):
    import gfref.bench as bench

    # the explicit-Jacobian MNIST step at batch 256 needs ~2 GB and minutes: use batch 4 here
    monkeypatch.setattr(bench, "bench_gram_vs_explicit", lambda batch_size, repeats: bench_gram_vs_explicit(4, 1))
    monkeypatch.setattr(bench, "bench_torch", lambda dtype, threads=None: None)  # PyTorch is optional; not timed here
    lines = []
    result = run_bench(out_dir=tmp_path, repeats=1, quick=True, log=lines.append)
    steps = result["steps"]
    assert set(steps["per_step_s"]) == set(BENCH_RUNS)
    assert steps["ratio_to_sgd"]["sgd"] == 1.0
    assert all(t > 0 for t in steps["per_step_s"].values())
    # Adam keeps two moment vectors of n float64 numbers between steps; SGD keeps nothing
    assert steps["aux_memory_bytes"]["adam"] >= 2 * 8 * steps["n_params"]
    assert steps["aux_memory_bytes"]["sgd"] == 0
    assert result["gram"]["system_size"] == 40 and result["gram"]["speedup"] > 0
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["per_step_s"].keys() == steps["per_step_s"].keys()
    assert saved["blas_threads"] == 1  # the default, named in the report's fair Table 3.8
    assert any("× SGD" in line for line in lines)
    assert any("PyTorch is not installed" in line for line in lines)

    from gfref.report import build_report

    report = build_report(tmp_path).read_text()
    assert "run `gfref bench" not in report.split("(b) The fair measure")[1].split("##")[0]
