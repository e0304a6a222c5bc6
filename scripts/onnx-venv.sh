# Sourced by the scripts that use the reference ONNX tools: sets $venv_python to a Python
# with onnx, onnxruntime and numpy, creating .venv-onnx/ (from PyPI) on first use.
# CAPSULE_ONNX_VENV picks another virtual environment.
venv="${CAPSULE_ONNX_VENV:-$root/.venv-onnx}"
if ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  echo "setting up $venv (onnx, onnxruntime, numpy from PyPI)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check onnx onnxruntime numpy
fi
venv_python="$venv/bin/python"
