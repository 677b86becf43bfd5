#!/usr/bin/env bash
# Install pinned MCP components from the npm registry into .tools/mcp-servers (git-ignored):
# server-everything for the tool gateway's stdio tests (tests/mcp/test_npm_server.py) and the
# MCP Inspector's CLI (tests/mcp/test_inspector.py). Returns at once when present.
#
#   scripts/install_mcp_servers.sh
set -euo pipefail

VERSION="${MCP_SERVER_EVERYTHING_VERSION:-2026.8.31}"
INSPECTOR="${MCP_INSPECTOR_VERSION:-2.12.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/mcp-servers"
PKG="${DEST}/node_modules/@modelcontextprotocol/server-everything/package.json"
IPKG="${DEST}/node_modules/@modelcontextprotocol/inspector/package.json"

if [ -f "${PKG}" ] && grep -q "\"version\": \"${VERSION}\"" "${PKG}" \
  && [ -f "${IPKG}" ] && grep -q "\"version\": \"${INSPECTOR}\"" "${IPKG}"; then
  echo "server-everything ${VERSION} and inspector ${INSPECTOR} already installed in ${DEST}"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is not installed (apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "${DEST}"
npm install --prefix "${DEST}" --save-exact --no-audit --no-fund --loglevel=error \
  "@modelcontextprotocol/server-everything@${VERSION}" "@modelcontextprotocol/inspector@${INSPECTOR}"
echo "server-everything ${VERSION} and inspector ${INSPECTOR} installed in ${DEST}"
