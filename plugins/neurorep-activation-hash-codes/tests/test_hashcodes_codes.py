"""Code extraction: identical inputs give identical codes; the hooked codes equal (pre-activation > 0) computed
independently from the weights (numpy for an MLP, torch.nn.functional for a convnet with in-place, shared and
leaky activations); the transform on pre-activations equals the hooked codes."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation

from neurorep_hashcodes import (
    ActivationCodeTransform,
    CodeDeterminism,
    activation_codes,
    binary_codes,
    make_relu_mlp,
    relu_modules,
    relu_preactivations,
)

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def _numpy_mlp_preactivations(net, X):
    """Hidden pre-activations of an nn.Sequential MLP, computed with numpy from its weights."""
    out, h = [], np.asarray(X, dtype=np.float64)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for lin in linears[:-1]:
        z = h @ lin.weight.detach().double().numpy().T + lin.bias.detach().double().numpy()
        out.append(z)
        h = np.maximum(z, 0.0)
    return np.concatenate(out, axis=1)


def test_mlp_codes_equal_numpy_preactivations_above_zero():
    net = make_relu_mlp(10, width=16, depth=3, n_classes=4, random_state=3).double()
    X = np.random.default_rng(0).standard_normal((200, 10))
    cs = activation_codes(net, X, batch_size=64)
    z = _numpy_mlp_preactivations(net, X)
    assert cs.codes.dtype == np.uint8 and cs.codes.shape == (200, 48)
    assert [b for b, _ in cs.blocks] == ["1", "3", "5"]           # the nn.ReLU modules of the Sequential
    np.testing.assert_array_equal(cs.codes, (z > 0).astype(np.uint8))
    pre = relu_preactivations(net, X)
    np.testing.assert_allclose(pre.codes, z, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(binary_codes(pre.codes), cs.codes)
    # one block only
    np.testing.assert_array_equal(activation_codes(net, X, include=["3"]).codes, (z[:, 16:32] > 0).astype(np.uint8))
    np.testing.assert_array_equal(cs.select(["5"]), cs.codes[:, 32:])


def test_identical_inputs_give_identical_codes_whatever_the_batching():
    net = make_relu_mlp(8, width=32, depth=2, random_state=1)
    rng = np.random.default_rng(1)
    base = rng.standard_normal((30, 8)).astype(np.float32)
    X = np.concatenate([base, base[::-1], base[:5]])               # every row appears at least twice
    a = activation_codes(net, X, batch_size=7).codes
    b = activation_codes(net, X, batch_size=1000).codes
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:30], a[30:60][::-1])
    np.testing.assert_array_equal(a[:5], a[60:])
    # ... and the determinism analyzer counts each duplicated input's region once
    rows = CodeDeterminism().analyze(Representation(a, [f"s{i}" for i in range(len(a))]))
    assert rows[0].extra["n_regions"] == len(np.unique(a, axis=0)) <= 30


class _ConvNet(nn.Module):
    """Conv -> in-place ReLU -> conv -> shared ReLU6 -> conv -> the same ReLU6 again -> LeakyReLU -> linear."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.c2 = nn.Conv2d(4, 6, 3, padding=1)
        self.act = nn.ReLU6()
        self.c3 = nn.Conv2d(6, 6, 1)
        self.leaky = nn.LeakyReLU(0.1)
        self.fc = nn.Linear(6 * 5 * 5, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.8)

    def forward(self, x):
        x = self.relu(self.c1(x))
        x = self.act(self.c2(x))
        x = self.act(self.c3(x) * 4.0)          # the shared module runs a second time
        x = self.leaky(x - 2.0)
        return self.fc(x.flatten(1))


def test_conv_codes_equal_functional_recomputation_with_shared_and_inplace_modules():
    net = _ConvNet().eval()
    X = torch.from_numpy(np.random.default_rng(2).standard_normal((40, 1, 5, 5)).astype(np.float32))
    cs = activation_codes(net, X, batch_size=16, saturation=True)
    with torch.no_grad():                      # independent forward pass from the weights
        z1 = F.conv2d(X, net.c1.weight, net.c1.bias, padding=1)
        z2 = F.conv2d(F.relu(z1), net.c2.weight, net.c2.bias, padding=1)
        z3 = F.conv2d(torch.clamp(z2, 0, 6), net.c3.weight, net.c3.bias) * 4.0
        z4 = torch.clamp(z3, 0, 6) - 2.0

    def bits(z, t=0.0):
        return (z > t).reshape(len(X), -1).numpy().astype(np.uint8)

    assert cs.blocks == [("relu", 100), ("act#0", 150), ("act#0:sat", 150), ("act#1", 150), ("act#1:sat", 150),
                         ("leaky", 150)]
    want = np.concatenate([bits(z1), bits(z2), bits(z2, 6), bits(z3), bits(z3, 6), bits(z4)], axis=1)
    np.testing.assert_array_equal(cs.codes, want)
    assert 0 < want[:, 100:250].mean() < 1 and 0 < want[:, 250:400].mean() < 1   # both sides of both kinks occur
    plain = activation_codes(net, X)
    np.testing.assert_array_equal(plain.codes, np.concatenate([bits(z1), bits(z2), bits(z3), bits(z4)], axis=1))
    assert net.training is False


def test_transform_on_preactivations_equals_hooked_codes_and_drop_constant():
    net = make_relu_mlp(6, width=40, depth=1, random_state=0)
    X = np.random.default_rng(3).uniform(0, 1, (50, 6)).astype(np.float32)   # positive inputs: some units never flip
    ids = [f"s{i:02d}" for i in range(50)]
    pre = Representation(relu_preactivations(net, X).codes, ids, name="pre")
    codes = activation_codes(net, X).codes
    out = ActivationCodeTransform().transform(pre)
    np.testing.assert_array_equal(out.data, codes)
    assert out.stimulus_ids == pre.stimulus_ids and out.data.dtype == np.uint8
    dropped = ActivationCodeTransform(drop_constant=True).transform(pre)
    const = np.all(codes == codes[:1], axis=0)
    assert const.any() and dropped.n_features == int((~const).sum())
    np.testing.assert_array_equal(dropped.data, codes[:, ~const])
    assert dropped.space["activation_code"]["n_dropped"] == int(const.sum())
    # constant units change no region: the determinism counts are the same
    a = CodeDeterminism().analyze(out)[0].extra["n_regions"]
    b = CodeDeterminism().analyze(dropped)[0].extra["n_regions"]
    assert a == b
    # post-ReLU activations give the same codes as the pre-activations
    post = Representation(np.maximum(pre.data, 0), ids)
    np.testing.assert_array_equal(ActivationCodeTransform().transform(post).data, codes)


def test_errors_name_the_component_and_the_fix():
    class NoRelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return F.relu(self.lin(x))

    with pytest.raises(ValueError, match="F.relu"):
        activation_codes(NoRelu(), np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="matches"):
        relu_modules(make_relu_mlp(3, 4), include=["nothing*"])
    with pytest.raises(ValueError, match="transform.activation-code"):
        ActivationCodeTransform(drop_constant=True).transform(Representation(np.ones((4, 3)), list("abcd")))
    with pytest.raises(ValueError, match="list of globs"):
        relu_modules(make_relu_mlp(3, 4), include="1")
