"""The training command of the shipped ScaleHyperprior sweep (semopt.profiling.train_hyperprior)."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("compressai")

from semopt.profiling import train_hyperprior as th  # noqa: E402
from semopt.profiling.images import VALIDATION_NAMES  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)


def test_chain_parents_default_and_overrides() -> None:
    lams = [0.01, 0.02, 0.04, 0.08]
    chain = th.chain_parents(lams, 0.08)
    assert chain[0.08] is None
    assert [chain[lam].lam for lam in (0.01, 0.02, 0.04)] == [0.02, 0.04, 0.08]
    forked = th.chain_parents(lams, 0.08, ["0.02=0.08@300"])
    assert forked[0.02] == th.Parent(0.08, 300) and forked[0.02].label() == "hp-l0.08@300"
    assert forked[0.01] == th.Parent(0.02)
    star = th.chain_parents(lams, 0.08, ["0.02="], star=True)
    assert star[0.02] is None and star[0.01] == th.Parent(0.02) and star[0.04] == th.Parent(0.08)
    assert th.chain_parents(lams, 0.08, star=True)[0.01] == th.Parent(0.08)
    mid = th.chain_parents(lams, 0.02)
    assert mid[0.01].lam == 0.02 and mid[0.04].lam == 0.02 and mid[0.08].lam == 0.04
    with pytest.raises(ValueError, match="base"):
        th.chain_parents(lams, 0.5)
    with pytest.raises(ValueError, match="CHILD=PARENT"):
        th.chain_parents(lams, 0.08, ["0.02-0.08"])
    with pytest.raises(ValueError, match="not in"):
        th.chain_parents(lams, 0.08, ["0.03=0.08"])
    with pytest.raises(ValueError, match="cycle"):
        th.chain_parents(lams, 0.08, ["0.02=0.01", "0.01=0.02"])


def test_default_sweep_is_consistent() -> None:
    parents = th.chain_parents(th.DEFAULT_LAMBDAS, max(th.DEFAULT_LAMBDAS), th.DEFAULT_PARENTS,
                               star=True)
    roots = {lam for lam, p in parents.items() if p is None}
    assert roots == {max(th.DEFAULT_LAMBDAS), 0.0215}
    assert roots == {th.parse_init(s)[0] for s in th.DEFAULT_INIT}  # each root is warm-started
    assert 0.013 in th.DEFAULT_LAMBDAS  # the fg-bg stack's default model name hp-l0.013
    assert len(th.DEFAULT_LAMBDAS) >= 12


def test_lr_schedule_constant_part_does_not_depend_on_total() -> None:
    a = [th.lr_at(s, 6000, 1e-3, 1e-5, 200, 1500) for s in range(4500)]
    b = [th.lr_at(s, 9000, 1e-3, 1e-5, 200, 1500) for s in range(4500)]
    assert a == b  # a fork snapshot before the decay is the same for any --base-steps
    assert th.lr_at(0, 6000, 1e-3, 1e-5, 200, 1500) == pytest.approx(5e-6)
    assert th.lr_at(1000, 6000, 1e-3, 1e-5, 200, 1500) == 1e-3
    assert th.lr_at(5999, 6000, 1e-3, 1e-5, 200, 1500) == pytest.approx(1e-5, rel=1e-3)
    tail = [th.lr_at(s, 6000, 1e-3, 1e-5, 200, 1500) for s in range(4500, 6000)]
    assert all(x >= y for x, y in itertools.pairwise(tail))


def test_training_images_exclude_validation() -> None:
    sample, extra, train, extras = th.training_images(128, [256])
    names = {im.name for im in train + extras}
    assert not names & set(VALIDATION_NAMES) and "cat" not in names
    assert len(sample) == len(train) and len(extras) >= 5
    for versions in sample + extra:
        assert all(min(v.shape[:2]) >= 128 and v.dtype == np.uint8 for v in versions)
    big = next(p for p, im in zip(sample, train) if min(im.pixels.shape[:2]) > 256)
    assert min(big[-1].shape[:2]) == 256  # the GVIF-size version
    rng = np.random.default_rng(0)
    batch = th._crop_batch(sample, extra, 0.25, rng, 4, 64)
    assert batch.shape == (4, 64, 64, 3) and batch.dtype == np.uint8


def _run(tmp: Path, *extra: str) -> int:
    return th.main(["--out", str(tmp / "out"), "--work-dir", str(tmp / "work"),
                    "--lambdas", "0.05", "0.2", "--parent", "0.05=0.2@4",
                    "--base-steps", "8", "--decay-steps", "4", "--steps", "3", "--N", "8",
                    "--M", "12", "--batch", "2", "--crop", "64", "--checkpoint-every", "2",
                    "--eval-every", "4", "--scales", *extra])


def test_tiny_run_writes_a_table_and_resumes_bit_exactly(tmp_path: Path) -> None:
    assert _run(tmp_path / "a") in (0, 2)  # 2: not monotone (8 steps of training)
    table = json.loads((tmp_path / "a" / "out" / "hyperprior-sample.json").read_text())
    assert [m["name"] for m in table["models"]] == ["hp-l0.05", "hp-l0.2"]
    tr = {m["name"]: m["training"] for m in table["models"]}
    assert tr["hp-l0.05"]["initialised_from"] == "hp-l0.2@4" and tr["hp-l0.05"]["total_steps"] == 7
    assert tr["hp-l0.2"]["initialised_from"] is None and tr["hp-l0.2"]["warm_start"] is None
    assert [r["step"] for r in tr["hp-l0.2"]["curve"]] == [0, 4, 8]
    assert set(table["dataset"]["train_extra"]).isdisjoint(VALIDATION_NAMES)
    for m in table["models"]:
        g = m["sample_gvif_size"]
        assert len(g["per_image"]) == 17 or len(g["per_image"]) == 16  # grace_hopper optional
        assert g["mse"] == pytest.approx(np.mean([p["mse"] for p in g["per_image"]]))
    # a run killed after the base's step 6 (its checkpoint) resumes to the same weights
    real_lr = th.lr_at

    def killed(step: int, *a: float) -> float:
        if step == 6:
            raise KeyboardInterrupt
        return real_lr(step, *a)

    mp = pytest.MonkeyPatch()
    mp.setattr(th, "lr_at", killed)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "b")
    mp.undo()
    work_b = tmp_path / "b" / "work"
    assert torch.load(work_b / "hp-l0.2.ckpt.pt", weights_only=True)["step"] == 6
    assert not (work_b / "hp-l0.2.final.pt").exists()
    assert _run(tmp_path / "b") in (0, 2)
    b_table = json.loads((tmp_path / "b" / "out" / "hyperprior-sample.json").read_text())
    assert [m["sha256"] for m in b_table["models"]] == [m["sha256"] for m in table["models"]]


def test_default_warm_starts_are_shipped_and_widen_exactly() -> None:
    from semopt.profiling import hyperprior as hp
    from semopt.profiling.images import load_sample_images

    for spec in th.DEFAULT_INIT:
        lam, path, sha = th.parse_init(spec)
        assert lam in th.DEFAULT_LAMBDAS and path.is_file()
        assert hp.file_sha256(path) == sha  # pinned: the previous table's weights
    _, path, _ = th.parse_init(th.DEFAULT_INIT[0])
    old = hp.load_model(path)
    torch.manual_seed(0)
    wide = hp.build_model(64, 192)
    assert th.widen_state(wide, old.state_dict()) == {"M_old": 96, "M": 192}
    img = load_sample_images("validation", size=64)[1].pixels
    x = hp.to_tensor(img)
    with torch.no_grad():
        a, b = old(x), wide.eval()(x)
    # the new channels do not touch the reconstruction nor z (up to float summation order)
    assert torch.allclose(a["x_hat"], b["x_hat"], atol=1e-5, rtol=0)
    assert torch.allclose(a["likelihoods"]["z"], b["likelihoods"]["z"], atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="N must agree"):
        th.widen_state(hp.build_model(32, 192), old.state_dict())
    with pytest.raises(ValueError, match="--init expects"):
        th.parse_init("no-equals-sign")
