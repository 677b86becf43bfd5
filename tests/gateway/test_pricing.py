"""Cost arithmetic checked against usage priced by hand (integer nano-USD)."""

from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.pricing import cache_write_split, cost_nano_usd, estimate_nano_usd, format_usd
from gateway.types import Usage


def test_haiku_with_every_token_kind(config: GatewayConfig) -> None:
    haiku = config.models["claude-haiku-4-5"]  # $1 in, $5 out, $1.25 5m, $2 1h, $0.10 read
    usage = Usage(
        input_tokens=1_234,
        output_tokens=567,
        cache_creation_input_tokens=5_000,
        cache_creation_5m_input_tokens=3_000,
        cache_creation_1h_input_tokens=2_000,
        cache_read_input_tokens=40_000,
    )
    # By hand, in USD: 1234*1/1e6 + 567*5/1e6 + 3000*1.25/1e6 + 2000*2/1e6 + 40000*0.1/1e6
    #  = 0.001234 + 0.002835 + 0.00375 + 0.004 + 0.004 = 0.015819
    assert cost_nano_usd(usage, haiku) == 15_819_000
    assert format_usd(cost_nano_usd(usage, haiku)) == "$0.015819"


def test_cache_write_without_split_is_priced_at_the_5m_rate(config: GatewayConfig) -> None:
    sonnet = config.models["claude-sonnet-4-6"]  # $3 in, $15 out, $3.75 5m, $6 1h, $0.30 read
    usage = Usage(input_tokens=10, output_tokens=20, cache_creation_input_tokens=4_096)
    assert cache_write_split(usage).five_minutes == 4_096
    # 10*3 + 20*15 + 4096*3.75 = 30 + 300 + 15360 micro-USD... in nano: *1000
    assert cost_nano_usd(usage, sonnet) == (10 * 3_000 + 20 * 15_000 + 4_096 * 3_750)


def test_partial_split_prices_the_rest_at_5m(config: GatewayConfig) -> None:
    opus = config.models["claude-opus-4-8"]  # $5 in, $25 out, $6.25 5m, $10 1h, $0.50 read
    usage = Usage(cache_creation_input_tokens=1_000, cache_creation_1h_input_tokens=600)
    split = cache_write_split(usage)
    assert (split.five_minutes, split.one_hour) == (400, 600)
    assert cost_nano_usd(usage, opus) == 400 * 6_250 + 600 * 10_000


def test_sub_cent_prices_stay_exact_over_many_calls(config: GatewayConfig) -> None:
    haiku = config.models["claude-haiku-4-5"]
    one = Usage(input_tokens=3, output_tokens=1, cache_read_input_tokens=7)
    # 3*1000 + 1*5000 + 7*100 = 8700 nano-USD; summing 0.0000087 as floats drifts.
    assert sum(cost_nano_usd(one, haiku) for _ in range(100_000)) == 870_000_000
    assert sum(0.0000087 for _ in range(100_000)) != 0.87


def test_local_model_costs_nothing_and_estimates_bound_the_cost(config: GatewayConfig) -> None:
    assert (
        cost_nano_usd(Usage(input_tokens=10**6, output_tokens=10**6), config.models["local"]) == 0
    )
    haiku = config.models["claude-haiku-4-5"]
    assert estimate_nano_usd(haiku, 1_000, 500) == 1_000 * 2_000 + 500 * 5_000
