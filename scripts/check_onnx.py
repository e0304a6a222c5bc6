"""Checks every model of a capsule bundle with onnx.checker and onnxruntime.

Generic over the manifest: each model's golden inputs (in the order of the manifest's
`inputs`) are fed by name, and the first output is compared with the golden output.
Run through scripts/check-onnx, which provides the virtual environment.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def check_model(bundle: Path, entry: dict) -> tuple[str, str, float, float, str]:
    """Returns (file, precision, max error, tolerance, problem or "")."""
    path = bundle / entry["file"]
    tolerance = float(entry["golden"]["tolerance"])
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:  # the checker raises several exception types
        return entry["file"], entry["precision"], float("nan"), tolerance, f"onnx.checker: {e}"
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:
        return entry["file"], entry["precision"], float("nan"), tolerance, f"onnxruntime load: {e}"
    names = [spec["name"] for spec in entry["inputs"]]
    golden_inputs = [np.load(bundle / f) for f in entry["golden"]["inputs"]]
    if len(names) != len(golden_inputs):
        return (entry["file"], entry["precision"], float("nan"), tolerance,
                f"{len(names)} inputs in the manifest, {len(golden_inputs)} golden inputs")
    expected = np.load(bundle / entry["golden"]["output"])
    try:
        got = session.run(None, dict(zip(names, golden_inputs)))[0]
    except Exception as e:
        return entry["file"], entry["precision"], float("nan"), tolerance, f"onnxruntime run: {e}"
    if got.shape != expected.shape:
        return (entry["file"], entry["precision"], float("nan"), tolerance,
                f"output shape {got.shape}, golden {expected.shape}")
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    error = float(np.max(diff)) if diff.size else 0.0
    if not np.all(np.isfinite(got)):
        return entry["file"], entry["precision"], float("inf"), tolerance, "non-finite output"
    problem = "" if error <= tolerance else "max error above tolerance"
    return entry["file"], entry["precision"], error, tolerance, problem


def main() -> int:
    bundle = Path(sys.argv[1])
    manifest = json.loads((bundle / "manifest.json").read_text())
    models = manifest.get("models", [])
    if not models:
        print(f"{bundle}: the manifest lists no models", file=sys.stderr)
        return 1
    print(f"bundle {bundle} (version {manifest.get('bundle_version')}): "
          f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    print(f"{'file':<28} {'precision':<9} {'max |ort - golden|':>19} {'tolerance':>10}  result")
    failures = 0
    for entry in models:
        file, precision, error, tolerance, problem = check_model(bundle, entry)
        failures += bool(problem)
        result = "ok" if not problem else f"FAIL: {problem}"
        print(f"{file:<28} {precision:<9} {error:>19.3e} {tolerance:>10.1e}  {result}")
    if failures:
        print(f"{failures} of {len(models)} models failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
