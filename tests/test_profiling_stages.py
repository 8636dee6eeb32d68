"""Profiling stages: channels, codecs, extractors, importance maps, metrics, generator."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("compressai")

from semopt.profiling import hyperprior as hp  # noqa: E402
from semopt.profiling.channels import (  # noqa: E402
    AwgnChannel,
    BitFlipChannel,
    ErasureChannel,
    RayleighChannel,
    flip_bits,
)
from semopt.profiling.codecs import EdgeMapCodec, GaussianConditionalCodec, TextCodec  # noqa: E402
from semopt.profiling.extractors import (  # noqa: E402
    CannyEdgeExtractor,
    CaptionExtractor,
    LatentSplitExtractor,
    load_captions,
)
from semopt.profiling.generators import HyperpriorDecoderGenerator  # noqa: E402
from semopt.profiling.images import load_sample_images  # noqa: E402
from semopt.profiling.importance import block_average, importance_map  # noqa: E402
from semopt.profiling.metrics import (  # noqa: E402
    ClipMetric,
    MaskPsnrMetric,
    MsssimMetric,
    PsnrMetric,
    get_metric,
    psnr_db,
)
from semopt.profiling.stages import Channel, Codec, Extractor, Generator, Metric  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)


def tiny_model(seed: int = 0):
    """A random ScaleHyperprior(16, 24) whose latents are spread over many symbols."""
    torch.manual_seed(seed)
    model = hp.build_model(16, 24)
    with torch.no_grad():
        model.g_a[6].weight.mul_(40.0)
    model.update(force=True)
    return model.eval()


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return load_sample_images("validation", size=192)[1].pixels  # chelsea


# --- channels ----------------------------------------------------------------------------------

def test_bit_flips_are_seeded_and_nested_across_ber() -> None:
    data = bytes(range(256)) * 8
    u = np.random.default_rng(3).random(8 * len(data))
    low, high = flip_bits(data, 1e-3, u), flip_bits(data, 3e-2, u)
    diff = lambda a: np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(data, np.uint8))  # noqa: E731
    assert np.all(diff(low) <= diff(high))  # common random numbers: nested flip sets
    assert 0 < diff(low).sum() < diff(high).sum()
    assert abs(diff(flip_bits(data, 0.5, u)).mean() - 0.5) < 0.02
    ch = BitFlipChannel()
    assert ch.transmit(data, 0.01, np.random.default_rng(1)) == ch.transmit(
        data, 0.01, np.random.default_rng(1))
    assert ch.transmit(data, 0.0, np.random.default_rng(1)) == data
    with pytest.raises(ValueError, match="ber"):
        ch.transmit(data, 0.6, np.random.default_rng(1))


def test_erasure_and_analog_channels() -> None:
    er = ErasureChannel()
    rng = np.random.default_rng(0)
    lost = sum(er.transmit(b"x", 0.3, rng) is None for _ in range(4000)) / 4000
    assert abs(lost - 0.3) < 0.03
    assert er.transmit(b"x", 0.0, rng) == b"x" and er.transmit(b"x", 1.0, rng) is None
    x = np.random.default_rng(1).standard_normal(20000)
    y = AwgnChannel().transmit(x, 10.0, np.random.default_rng(2))
    assert abs(np.mean((y - x) ** 2) / np.mean(x**2) - 0.1) < 0.01
    z = RayleighChannel().transmit(x, 30.0, np.random.default_rng(2))
    assert z.shape == x.shape and np.mean((z - x) ** 2) < 0.2
    for ch in (er, BitFlipChannel(), AwgnChannel(), RayleighChannel()):
        assert isinstance(ch, Channel)


# --- codecs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_text_codec_roundtrip_and_corruption(compress: bool) -> None:
    codec = TextCodec(compress=compress)
    prompt = "a cat sitting on a red sofa, photograph " * 3
    data = codec.encode(prompt)
    assert codec.decode(data) == prompt
    bad = flip_bits(data, 0.2, np.random.default_rng(0).random(8 * len(data)))
    out = codec.decode(bad)  # never raises
    assert isinstance(out, str) and out != prompt
    assert isinstance(codec, Codec)


def test_latent_split_codec_roundtrip_and_garbage_safety(model, image) -> None:
    split = LatentSplitExtractor(model, fg_fraction=0.25).extract(image)
    assert split.mask.shape == split.symbols.shape[-2:] == (12, 12)
    assert split.mask.sum() == round(0.25 * 144)
    codec = GaussianConditionalCodec(model)
    for fg in (True, False):
        symbols, indexes = split.stream(fg)
        data = codec.encode((symbols, indexes))
        assert np.array_equal(codec.decode(data, indexes=indexes), symbols)
        rng = np.random.default_rng(0)
        for ber in (1e-3, 0.1, 0.5):
            bad = flip_bits(data, ber, rng.random(8 * len(data)))
            out = codec.decode(bad, indexes=indexes)
            assert out.shape == symbols.shape and np.all(np.abs(out) < 10**6)
        assert codec.decode(b"", indexes=indexes).shape == symbols.shape


def test_generator_and_edge_codec(model, image) -> None:
    split = LatentSplitExtractor(model).extract(image)
    out = HyperpriorDecoderGenerator(model).generate([split.symbols.astype(np.float32)],
                                                      image_shape=split.image_shape)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert HyperpriorDecoderGenerator(model).generate([None], image_shape=(4, 4)) is None
    edges = CannyEdgeExtractor().extract(image)["edge"]
    assert edges.dtype == bool and edges.shape == image.shape[:2] and 0 < edges.mean() < 0.5
    codec = EdgeMapCodec(model)
    payload, side = codec.encode_with_side(edges)
    decoded = codec.decode(payload, **side)
    assert decoded.shape == edges.shape and decoded.dtype == bool
    assert isinstance(HyperpriorDecoderGenerator(model), Generator)
    assert isinstance(CannyEdgeExtractor(), Extractor)


def test_captions_file_formats(tmp_path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"kodim01": "a red door"}))
    (tmp_path / "c.tsv").write_text("# comment\nkodim01.png\ta red door\n")
    assert load_captions(tmp_path / "c.json") == {"kodim01": "a red door"}
    ex = CaptionExtractor(tmp_path / "c.tsv")
    assert ex.extract(np.zeros((2, 2, 3), np.uint8), name="kodim01.png")["prompt"] == "a red door"
    plug = CaptionExtractor(captioner=lambda px: "from plug-in")
    assert plug.extract(np.zeros((2, 2, 3), np.uint8), name="x")["prompt"] == "from plug-in"
    with pytest.raises(KeyError):
        CaptionExtractor({"a": "b"}).extract(np.zeros((2, 2, 3), np.uint8), name="zzz")
    (tmp_path / "bad.txt").write_text("no tab here\n")
    with pytest.raises(ValueError, match="TAB"):
        load_captions(tmp_path / "bad.txt")


# --- importance ----------------------------------------------------------------------------------

def test_importance_map_resolutions(image) -> None:
    full = importance_map(image)
    assert full.shape == image.shape[:2] and full.dtype == np.float32
    assert full.min() == 0.0 and full.max() == 1.0
    latent = importance_map(image, resolution="latent")
    assert latent.shape == (12, 12) and 0.0 <= latent.min() and latent.max() == 1.0
    assert importance_map(image, resolution=(5, 7)).shape == (5, 7)
    np.testing.assert_allclose(block_average(np.ones((70, 70)), 16, 64), np.ones((8, 8)))
    # A small bright patch on a noisy background is the salient region.
    noise = np.random.default_rng(0).normal(100, 10, (128, 128, 1)) * np.ones(3)
    img = noise.clip(0, 255).astype(np.uint8)
    img[80:96, 20:36] = 230
    sal = importance_map(img)
    assert sal[80:96, 20:36].mean() > 0.5 > 5 * sal.mean() - 0.1
    with pytest.raises(ValueError, match="method"):
        importance_map(image, method="nope")


def test_importance_methods_needing_weights_fail_fast(image, monkeypatch) -> None:
    monkeypatch.delenv("SEMOPT_CAM_WEIGHTS", raising=False)
    monkeypatch.delenv("SEMOPT_CLIP_WEIGHTS", raising=False)
    with pytest.raises(RuntimeError, match="SEMOPT_CAM_WEIGHTS"):
        importance_map(image, method="cam")
    with pytest.raises(RuntimeError, match="SEMOPT_CLIP_WEIGHTS"):
        importance_map(image, method="clip")


def test_cam_from_a_local_random_classifier(tmp_path, image, monkeypatch) -> None:
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=1000)
    torch.save(net.state_dict(), tmp_path / "r18.pth")
    monkeypatch.setenv("SEMOPT_CAM_WEIGHTS", str(tmp_path / "r18.pth"))
    cam = importance_map(image[:128, :128], method="cam", resolution="latent")
    assert cam.shape == (8, 8) and 0.0 <= cam.min() <= cam.max() <= 1.0


# --- metrics -------------------------------------------------------------------------------------

def test_metrics_are_distances(image) -> None:
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).integers(-20, 21, image.shape),
                    0, 255).astype(np.uint8)
    for metric in (MsssimMetric(), PsnrMetric()):
        assert isinstance(metric, Metric)
        assert metric.distance(image, image) == 0.0
        assert 0.0 < metric.distance(image, noisy) < 1.0
        assert metric.distance(image, None) == 1.0
    assert PsnrMetric().distance(image, noisy) == pytest.approx(1 - psnr_db(image, noisy) / 50)
    mask = np.zeros(image.shape[:2], bool)
    mask[:50] = True
    assert 0 < MaskPsnrMetric().distance(image, noisy, mask=mask) < 1
    with pytest.raises(ValueError, match="160"):
        MsssimMetric().distance(image[:100, :100], image[:100, :100])
    with pytest.raises(ValueError, match="valid metrics"):
        get_metric("fid")


def test_clip_metric_without_weights_names_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("SEMOPT_CLIP_WEIGHTS", raising=False)
    with pytest.raises(RuntimeError, match="SEMOPT_CLIP_WEIGHTS"):
        ClipMetric().check()
