#!/usr/bin/env bash
# Install infinity-emb (PyPI), a real OpenAI-compatible embeddings server, into its own venv for
# the tests of LOREGATE_EMBEDDINGS_URL (tests/retrieval/test_remote_embedder_server.py), linked
# at .tools/infinity (git-ignored). The venv lives in this user's cache, one per version of its
# requirements (~/.cache/loregate/tools/infinity-<hash>; LOREGATE_TOOLS_CACHE names another
# folder), so a fresh clone on the same machine (CI's) links it instead of installing it again.
# Returns at once when already installed.
#
#   scripts/install_embeddings_server.sh
#   .tools/infinity/bin/infinity_emb v2 --model-id DIR --served-model-name NAME --port 7997 \
#       --engine torch --device cpu --url-prefix /v1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/infinity"
REQS="${ROOT}/requirements/embeddings-server.txt"
CACHE="${LOREGATE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loregate/tools}"
HASH="$(cat "${REQS}" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"  # the contents only
VENV="${CACHE}/infinity-${HASH}"
STAMP="${VENV}/.installed-${HASH}"  # what the tests look for
PY=${PYTHON:-python3}

link() {
  mkdir -p "$(dirname "${DEST}")"
  rm -rf "${DEST}"  # an older checkout's venv in place, or a link to another version
  ln -s "${VENV}" "${DEST}"
}

mkdir -p "${CACHE}"
exec 9>"${VENV}.lock"
flock 9  # two checkouts installing at once: the second waits, then links
if [ ! -f "${STAMP}" ]; then
  rm -rf "${VENV}"
  "${PY}" -m venv "${VENV}"
  PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check -q)
  "${PIP[@]}" install "torch==2.13.0"  # first: the CPU wheel on disk, never a CUDA build
  "${PIP[@]}" install -r "${REQS}"
  touch "${STAMP}"
  echo "infinity-emb installed in ${VENV}"
else
  echo "infinity-emb already installed in ${VENV}"
fi
link
