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
# mypy's incremental cache outside the checkout, so a fresh clone on the same machine (CI's)
# starts warm instead of checking every module again. mypy checks each entry against its
# module's source hash, so an entry another checkout left is used only where the code is the same.
export MYPY_CACHE_DIR="${MYPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loregate/mypy}"
section() { echo "== $1 (${SECONDS} s since the gate began)"; }
section "ruff";          ruff check .
section "ruff format";   ruff format --check .
section "mypy";          mypy
section "import-linter"; lint-imports
section "import cycles"; python scripts/check_import_cycles.py
section "module size";   python scripts/check_module_size.py
section "notebooks";     python scripts/run_notebooks.py
section "pytest";        python -m pytest "$@"
