"""The optional pretrained ResNet-18: torchvision's layer names, loading from a fake torch
cache with random weights (so no download is ever needed), and the one-line status."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lime_core.zoo import pretrained as P  # noqa: E402

# torchvision's resnet18: 11,689,512 parameters, 122 state_dict entries (62 weights and
# biases, 20 BatchNorm layers x 3 buffers).
RESNET18_PARAMETERS = 11_689_512
RESNET18_STATE_ENTRIES = 122


def _fake_cache(tmp_path, seed=0, name="resnet18-f37072fd.pth"):
    torch.manual_seed(seed)
    net = P.resnet18_module()
    for module in net.modules():  # non-trivial BatchNorm statistics, so a dropped buffer shows
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(net.state_dict(), folder / name)
    return net.eval()


def test_architecture_has_torchvisions_names_and_sizes():
    net = P.resnet18_module()
    state = net.state_dict()
    assert len(state) == RESNET18_STATE_ENTRIES
    assert sum(p.numel() for p in net.parameters()) == RESNET18_PARAMETERS
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["conv1.weight"] == (64, 3, 7, 7)
    assert shapes["layer1.0.conv1.weight"] == (64, 64, 3, 3)
    assert "layer1.0.downsample.0.weight" not in shapes  # identity shortcut in stage 1
    assert shapes["layer2.0.downsample.0.weight"] == (128, 64, 1, 1)
    assert shapes["layer4.1.bn2.running_var"] == (512,)
    assert shapes["fc.weight"] == (1000, 512)
    assert "layer3.0.downsample.1.num_batches_tracked" in shapes
    x = torch.zeros(2, 3, 224, 224)
    assert net.eval()(x).shape == (2, 1000)


def test_matches_torchvision_where_it_imports():
    try:
        import torchvision
    except Exception as err:  # noqa: BLE001 - not installed, or broken beside this torch
        pytest.skip(f"torchvision does not import here ({type(err).__name__})")
    ours = P.resnet18_module().state_dict()
    theirs = torchvision.models.resnet18(weights=None).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_no_weights_one_line_and_no_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    status = P.pretrained_status()
    assert "\n" not in status and "nothing is downloaded" in status and str(tmp_path) in status
    assert P.find_resnet18_weights() is None
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        P.load_pretrained_resnet18()


def test_loads_random_weights_from_a_fake_cache(tmp_path, monkeypatch):
    reference = _fake_cache(tmp_path, seed=3)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert P.torch_cache_dir() == tmp_path
    assert "available offline" in P.pretrained_status()
    model = P.load_pretrained_resnet18()
    assert model.image_size == 224 and len(model.class_names) == 1000
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(model.module[1].state_dict()[key], value, rtol=0, atol=0)
    images = np.random.default_rng(0).uniform(size=(2, 224, 224, 3)).astype(np.float32)
    proba = model.predict_proba(images)
    assert proba.shape == (2, 1000)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # normalisation happens inside the module: same logits as the bare net on normalised input
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    mean = torch.tensor(P.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(P.IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference((x - mean) / std).numpy()
    np.testing.assert_allclose(model.logits(images), expected, rtol=1e-4, atol=1e-4)
    # an explicit cache_dir wins over the environment
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "elsewhere"))
    assert P.load_pretrained_resnet18(tmp_path).description.endswith("(resnet18-f37072fd.pth)")


def test_xdg_cache_home_is_used_without_torch_home(tmp_path, monkeypatch):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert P.torch_cache_dir() == tmp_path / "torch"


def test_a_different_network_is_refused(tmp_path):
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(torch.nn.Linear(3, 2).state_dict(), folder / "resnet18-bad.pth")
    with pytest.raises(ValueError, match="not a ResNet-18 state_dict"):
        P.load_pretrained_resnet18(tmp_path)
