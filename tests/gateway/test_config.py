from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.config import load_config
from kernel.errors import ConfigError


def test_defaults_have_the_models_and_routes() -> None:
    cfg = load_config()
    assert set(cfg.models) == {
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-8",
        "gpt-5.5",
        "local",
        "extractive",
    }
    assert {"default", "economy", "local", "offline", "free-first"} <= set(cfg.routes)
    assert cfg.offline_route == "offline"
    assert [t.model for t in cfg.routes["offline"].tiers] == ["extractive", "local"]
    assert cfg.routes["free-first"].tiers[0].model == "extractive"
    extractive = cfg.models["extractive"]
    assert extractive.is_free and extractive.min_confidence is not None
    default = cfg.routes["default"].tiers
    assert [t.model for t in default] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-8",
    ]
    assert all(t.fallbacks == ("gpt-5.5", "local") for t in default)
    haiku = cfg.models["claude-haiku-4-5"]
    assert haiku.provider == "anthropic"
    assert haiku.min_cacheable_tokens == 4096
    assert haiku.prices.cache_write_1h == Decimal("2.0")
    assert haiku.prices_as_of == date(2026, 6, 1)
    assert cfg.find_model("claude-haiku-4-5-20251001") is haiku
    assert cfg.models["local"].prices.output == 0


def test_routing_version_is_a_stable_hash_of_the_normalised_config(
    write_config: Callable[[str], Path],
) -> None:
    a, b = load_config(), load_config()
    assert a.routing_version == b.routing_version
    assert len(a.routing_version) == 12 and int(a.routing_version, 16) >= 0
    # The same content written differently (key order, spacing, int vs float) hashes the same.
    same = load_config(write_config("[breaker]\nreset_timeout_s = 30\nfail_max = 5\n"))
    assert same.routing_version == a.routing_version
    changed = load_config(write_config("[breaker]\nfail_max = 6\n"))
    assert changed.routing_version != a.routing_version


def test_override_merges_by_name_and_can_drop_the_defaults(
    write_config: Callable[[str], Path],
) -> None:
    cfg = load_config(
        write_config("""
[routes.cheap]
description = "just haiku"
[[routes.cheap.tiers]]
model = "claude-haiku-4-5"

[models.claude-haiku-4-5]
provider = "anthropic"
model_id = "claude-haiku-4-5-20251001"
context_window = 200000
prices_as_of = 2026-07-01
prices = { input = 0.8, output = 4, cache_write_5m = 1, cache_write_1h = 1.6, cache_read = 0.08 }

[budgets.legal]   # another part's table: ignored here
limit_usd = 10
""")
    )
    assert "cheap" in cfg.routes and "default" in cfg.routes
    assert cfg.models["claude-haiku-4-5"].prices.input == Decimal("0.8")
    assert cfg.models["claude-haiku-4-5"].nano_prices == (800, 4000, 1000, 1600, 80)

    alone = load_config(
        write_config("""
inherit_defaults = false
default_route = "only"
[models.m]
provider = "openai"
model_id = "m-1"
context_window = 1000
prices_as_of = 2026-01-01
prices = { input = 1, output = 2, cache_write_5m = 1, cache_write_1h = 1, cache_read = 0.5 }
[routes.only]
[[routes.only.tiers]]
model = "m"
""")
    )
    assert list(alone.models) == ["m"] and list(alone.routes) == ["only"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[[routes.default.tiers]]\nmodel = "nope"\n', "routes.default.tiers[0].model"),
        (
            '[routes.r]\n[[routes.r.tiers]]\nmodel = "local"\nfallbacks = ["local", "ghost"]\n',
            "routes.r.tiers[0].fallbacks[1]",
        ),
        (
            '[models.local]\nprovider = "local"\nmodel_id = "x"\ncontext_window = 1\n'
            "prices_as_of = 2026-01-01\nprices = { input = 0.0001, output = 0, cache_write_5m = 0,"
            " cache_write_1h = 0, cache_read = 0 }\n",
            "models.local.prices.input",
        ),
        (
            '[models.local]\nprovider = "local"\nmodel_id = "x"\ncontext_window = -5\n'
            "prices_as_of = 2026-01-01\nprices = { input = 0, output = 0, cache_write_5m = 0,"
            " cache_write_1h = 0, cache_read = 0 }\n",
            "models.local.context_window",
        ),
        (
            '[routes.r]\n[[routes.r.tiers]]\nmodel = "local"\nretry = { max_attempts = 0 }\n',
            "routes.r.tiers[0].retry.max_attempts",
        ),
        (
            '[routes.r]\n[[routes.r.tiers]]\nmodel = "local"\ntimeout_s = 3\n',
            "routes.r.tiers[0].timeout_s",
        ),
        ('default_route = "missing"\n', "default_route"),
        ('[breaker]\nfail_max = "many"\n', "breaker.fail_max"),
        (
            '[routes.r]\n[[routes.r.tiers]]\nmodel = "local"\nescalate_on = ["sometimes"]\n',
            "routes.r.tiers[0].escalate_on[0]",
        ),
    ],
)
def test_bad_config_names_the_key(
    write_config: Callable[[str], Path], text: str, names: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write_config(text))
    assert names in err.value.message
    assert err.value.status == 400 and err.value.code == "invalid_config"


def test_unreadable_config_files(tmp_path: Path, write_config: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write_config("[models\n"))
    with pytest.raises(ConfigError, match="inherit_defaults"):
        load_config(write_config('inherit_defaults = "yes"\n'))
