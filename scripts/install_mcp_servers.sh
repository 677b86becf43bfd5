#!/usr/bin/env bash
# Install a pinned MCP server from the npm registry into .tools/mcp-servers (git-ignored), for
# the tool gateway's stdio tests (tests/mcp/test_npm_server.py). Returns at once when present.
#
#   scripts/install_mcp_servers.sh
set -euo pipefail

VERSION="${MCP_SERVER_EVERYTHING_VERSION:-2026.8.31}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/mcp-servers"
PKG="${DEST}/node_modules/@modelcontextprotocol/server-everything/package.json"

if [ -f "${PKG}" ] && grep -q "\"version\": \"${VERSION}\"" "${PKG}"; then
  echo "server-everything ${VERSION} already installed in ${DEST}"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is not installed (apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "${DEST}"
npm install --prefix "${DEST}" --save-exact --no-audit --no-fund --loglevel=error \
  "@modelcontextprotocol/server-everything@${VERSION}"
echo "server-everything ${VERSION} installed in ${DEST}"
