"""onnxruntime timings beside tract's (`capsule bench --bundle --json`), same files, same
thread counts, same input shape. Run through scripts/bench-vs-onnxruntime."""

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def time_ort(path: Path, threads: int, shape: list[int], runs: int) -> float:
    """Median milliseconds of one run of the model at batch 1."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    for _ in range(5):
        session.run(None, {name: x})
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {name: x})
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main() -> int:
    bundle, runs, tract = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus; "
          f"onnxruntime {ort.__version__}; batch 1, median of {runs} runs")
    print(f"{'file':<22} {'precision':<9} {'threads':>7} {'tract ms':>9} {'ort ms':>8} "
          f"{'tract/ort':>9}")
    rows = []
    for e in tract["embedders"]:
        ort_ms = time_ort(bundle / e["file"], e["threads"], e["input_shape"], runs)
        tract_ms = e["model"]["median_ms"]
        rows.append({**e, "ort_median_ms": ort_ms, "ratio": tract_ms / ort_ms})
        print(f"{e['file']:<22} {e['precision']:<9} {e['threads']:>7} {tract_ms:>9.3f} "
              f"{ort_ms:>8.3f} {tract_ms / ort_ms:>9.2f}")
    for c in tract.get("parallel_capacity", []):
        print(f"this machine on {c['threads']} threads: {c['speedup']:.2f}x the arithmetic of one "
              "(the ceiling of any thread scaling above)")
    print(json.dumps({"rows": rows, "parallel_capacity": tract.get("parallel_capacity", [])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
