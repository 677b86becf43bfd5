#!/usr/bin/env bash
# Install a pinned Claude Code CLI into .tools/claude-code (git-ignored), for
# tests/gateway/test_gw_claude_code.py and for trying Claude Code against a local loregate.
#
#   scripts/install_claude_code.sh            # installs, or returns at once if already there
#   CLAUDE_CODE_VERSION=2.1.332 scripts/install_claude_code.sh
#
# The npm package carries a native binary for each platform in an optional dependency
# (@anthropic-ai/claude-code-linux-x64, ...); its postinstall links it over bin/claude.exe.
# The binary does not run on Node: the package's "engines: node >= 22" is only a warning on an
# older npm/Node, and Node 20 installs it fine. Needs npm and the npm registry; ~390 MB on disk.
set -euo pipefail

VERSION="${CLAUDE_CODE_VERSION:-2.1.332}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/claude-code"
BIN="${DEST}/node_modules/.bin/claude"
PKG_DIR="${DEST}/node_modules/@anthropic-ai/claude-code"

installed_version() {
  [ -x "${BIN}" ] || return 1
  "${BIN}" --version 2>/dev/null | awk 'NR == 1 {print $1}'
}

if [ "$(installed_version || true)" = "${VERSION}" ]; then
  echo "Claude Code ${VERSION} already installed: ${BIN}"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is not installed (apt-get install nodejs npm)" >&2
  exit 1
fi

echo "Installing @anthropic-ai/claude-code@${VERSION} into ${DEST} ..."
mkdir -p "${DEST}"
start=$(date +%s)
npm install \
  --prefix "${DEST}" \
  --save-exact \
  --no-audit \
  --no-fund \
  --engine-strict=false \
  --loglevel=error \
  "@anthropic-ai/claude-code@${VERSION}"

# An npm that skipped the postinstall (ignore-scripts) leaves a stub that only prints an
# error: link the native binary the way the package's own postinstall does.
if [ "$(installed_version || true)" != "${VERSION}" ] && [ -f "${PKG_DIR}/install.cjs" ]; then
  (cd "${PKG_DIR}" && node install.cjs)
fi

got="$(installed_version || true)"
if [ "${got}" != "${VERSION}" ]; then
  echo "error: ${BIN} --version gave '${got}', expected ${VERSION}" >&2
  exit 1
fi
echo "Claude Code ${got} installed in $(($(date +%s) - start)) s: ${BIN}"
