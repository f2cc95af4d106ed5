"""intervention.topk: exactly k non-zeros per input, outputs restored bit for bit by remove(), site resolution."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurorep.errors import InvalidInputError  # noqa: E402

from neurorep_lazy_neuron import TopK, collect_activations, topk_mask_tensor  # noqa: E402
from neurorep_lazy_neuron.train import build_mlp, build_transformer, mlp_sites  # noqa: E402


@pytest.mark.parametrize("by", ["value", "magnitude"])
@pytest.mark.parametrize("dim", [-1, 1])
def test_topk_keeps_exactly_the_k_largest_entries(by, dim):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 12, 7, 9, generator=g)  # continuous: no ties, no zeros
    out = topk_mask_tensor(x, 4, dim=dim, by=by)
    nz = (out != 0).sum(dim=dim)
    assert torch.equal(nz, torch.full_like(nz, 4))
    kept = out != 0
    assert torch.equal(out[kept], x[kept])  # kept entries are unchanged
    # every kept entry ranks at least as high as every dropped one, slice by slice (numpy oracle)
    score = (x.abs() if by == "magnitude" else x).numpy()
    s = np.moveaxis(score, dim, -1).reshape(-1, x.shape[dim])
    k = np.moveaxis(kept.numpy(), dim, -1).reshape(-1, x.shape[dim])
    want = np.zeros_like(k)
    np.put_along_axis(want, np.argsort(-s, axis=1)[:, :4], True, axis=1)
    assert np.array_equal(k, want)
    assert topk_mask_tensor(x, 50, dim=dim) is x  # k >= size: unchanged


def test_apply_sparsifies_and_remove_restores_the_mlp_bit_for_bit():
    net = build_mlp(width=64, random_state=3).eval()
    x = torch.rand(40, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = net(x).clone()
        acts0, _ = collect_activations(net, mlp_sites(2), lambda m: m(x))
        hooks_before = [len(m._forward_hooks) + len(m._forward_pre_hooks) for m in net.modules()]
        handle = TopK(sites=["layers.0.hook_post"], k=5).apply(net)
        acts, edited = collect_activations(net, mlp_sites(2), lambda m: m(x))
        assert handle.n_calls == 1  # one forward pass, one edited call
        handle.remove()
        handle.remove()  # idempotent
        after = net(x)
    nz = (acts["layers.0.hook_post"] != 0).sum(1)
    assert int(nz.max()) <= 5
    # where the unedited layer had at least k positive units, exactly k survive
    enough = (acts0["layers.0.hook_post"] > 0).sum(1) >= 5
    assert bool(enough.all()) and torch.equal(nz, torch.full_like(nz, 5))
    assert not torch.equal(edited, before)
    assert torch.equal(after, before)  # bit-exact
    assert [len(m._forward_hooks) + len(m._forward_pre_hooks) for m in net.modules()] == hooks_before


def test_input_sites_and_the_context_manager():
    net = build_transformer(d_mlp=32, random_state=0).eval()
    x = torch.rand(6, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before = net(x).clone()
        topk = TopK(sites=["blocks.1.mlp.fc_out:input"], k=3)
        with topk.applied(net):
            acts, edited = collect_activations(net, ["blocks.1.mlp.fc_out:input", "blocks.1.mlp.hook_post"],
                                               lambda m: m(x))
        after = net(x)
    # the pre-hook of collect_activations was registered after the Top-k one, so it sees the edited input
    assert torch.equal((acts["blocks.1.mlp.fc_out:input"] != 0).sum(-1), torch.full((6, 16), 3))
    assert (acts["blocks.1.mlp.hook_post"] != 0).sum(-1).min() > 3  # the module output itself is untouched
    assert not torch.equal(edited, before) and torch.equal(after, before)


def test_unknown_sites_and_bad_parameters_are_reported():
    net = build_mlp(width=8)
    with pytest.raises(InvalidInputError, match=r"intervention.topk.*'layers.0.hook_pst'.*closest.*layers.0.hook_post"):
        TopK(sites=["layers.0.hook_pst"], k=2).apply(net)
    with pytest.raises(InvalidInputError, match="intervention.topk.*k must be"):
        TopK(sites=["layers.0.hook_post"], k=0).apply(net)
    with pytest.raises(InvalidInputError, match="intervention.topk.*torch.nn.Module"):
        TopK(sites=["x"], k=1).apply(object())
    h = TopK(sites=["layers.0.hook_post"], k=2, dim=3).apply(net)
    with pytest.raises(InvalidInputError, match="dim=3 is out of range"):
        net(torch.rand(2, 8, 8))
    h.remove()
