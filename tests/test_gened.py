"""GenED-SC symbol budget: coded prompt overhead, visual symbols, budget split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.link import gened as g


def test_text_symbols_ldpc_half_16qam():
    # 107 bytes → 856 bits → 1712 coded bits → 428 16-QAM symbols
    assert g.text_symbols(107) == 428
    assert g.text_symbols(106) == 424
    # GenED-SC: "about 426" symbols on average ↔ 106.5 bytes on average
    assert np.mean(g.text_symbols([106, 107])) == 426


def test_text_symbols_utf8_counts_bytes_not_characters():
    assert g.prompt_bytes("é") == 2
    assert g.text_symbols("é") == g.text_symbols(2) == 8
    assert g.text_symbols("ab") == 8


def test_text_symbols_block_code_pads_whole_codewords():
    # 802.11n rate-1/2 code, N = 648: 324 info bits per codeword
    assert g.text_symbols(107, codeword_bits=648) == 3 * 648 // 4
    assert g.text_symbols(40, codeword_bits=648) == 648 // 4


def test_visual_symbols_conventions():
    assert g.visual_symbols(256, 256, 1 / 24) == 8192
    assert g.visual_symbols(256, 256, 1 / 16) == 12288
    assert g.visual_symbols(256, 256, 1 / 12, convention="real") == 8192
    with pytest.raises(ValueError, match=r"^cbr:"):
        g.visual_symbols(256, 256, 0.0)


def test_split_reproduces_the_paper_total():
    b = g.split_symbol_budget(8192 + 428, 107, foreground_fraction=0.3,
                              foreground_density_ratio=4.0, source_dims=3 * 256 * 256)
    assert b.text_symbols == 428 and b.visual_symbols == 8192
    assert b.foreground_symbols + b.background_symbols == 8192
    assert b.foreground_cbr == pytest.approx(4.0 * b.background_cbr, rel=1e-3)


def test_split_rejects_budget_below_prompt():
    with pytest.raises(ValueError, match=r"^total_symbols:"):
        g.split_symbol_budget(100, 107, foreground_fraction=0.5)


@settings(max_examples=80, deadline=None)
@given(total=st.integers(500, 50_000), nbytes=st.integers(0, 120),
       rho=st.floats(0, 1), kappa=st.floats(0.1, 20))
def test_split_invariants(total, nbytes, rho, kappa):
    b = g.split_symbol_budget(total, nbytes, foreground_fraction=rho,
                              foreground_density_ratio=kappa)
    assert b.text_symbols + b.foreground_symbols + b.background_symbols == total
    assert b.foreground_symbols >= 0 and b.background_symbols >= 0
    if rho == 0:
        assert b.foreground_symbols == 0
    if rho == 1:
        assert b.background_symbols == 0


def test_split_is_vectorized():
    b = g.split_symbol_budget(np.array([1000, 2000, 4000]), 50,
                              foreground_fraction=np.array([0.2, 0.5, 0.8]))
    assert b.foreground_symbols.shape == (3,)
    np.testing.assert_array_equal(b.text_symbols, [200, 200, 200])
