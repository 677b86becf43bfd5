#!/usr/bin/env bash
# Install infinity-emb (PyPI), a real OpenAI-compatible embeddings server, into its own venv at
# .tools/infinity (git-ignored) for the tests of LOREGATE_EMBEDDINGS_URL
# (tests/retrieval/test_remote_embedder_server.py). Returns at once when already installed.
#
#   scripts/install_embeddings_server.sh
#   .tools/infinity/bin/infinity_emb v2 --model-id DIR --served-model-name NAME --port 7997 \
#       --engine torch --device cpu --url-prefix /v1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/infinity"
REQS="${ROOT}/requirements/embeddings-server.txt"
STAMP="${DEST}/.installed-$(sha256sum "${REQS}" | cut -c1-16)"
PY=${PYTHON:-python3}

if [ -f "${STAMP}" ]; then
  echo "infinity-emb already installed in ${DEST}"
  exit 0
fi
rm -rf "${DEST}"
"${PY}" -m venv "${DEST}"
PIP=("${DEST}/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install "torch==2.13.0"  # first: the CPU wheel on disk, never a CUDA build
"${PIP[@]}" install -r "${REQS}"
touch "${STAMP}"
echo "infinity-emb installed in ${DEST}"
