#!/usr/bin/env bash
# The whole gate: lint, types, import contracts, module size, tests (warnings are errors),
# and the notebooks executed. Used by the README and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# infinity-emb, a real OpenAI-compatible embeddings server, in its own venv (LOREGATE_EMBEDDINGS_URL)
./scripts/install_embeddings_server.sh || echo "warning: infinity-emb not installed; its tests will skip"
# Claude Code (npm) for the test that runs it against loregate; without npm that test skips.
if command -v npm >/dev/null 2>&1; then
  ./scripts/install_claude_code.sh || echo "warning: Claude Code not installed; its test will skip"
  ./scripts/install_mcp_servers.sh || echo "warning: npm MCP server not installed; its test will skip"
fi
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check .
echo "== ruff format";   ruff format --check .
echo "== mypy";          mypy
echo "== import-linter"; lint-imports
echo "== import cycles"; python scripts/check_import_cycles.py
echo "== module size";   python scripts/check_module_size.py
echo "== notebooks";     python scripts/run_notebooks.py
echo "== pytest";        python -m pytest "$@"
