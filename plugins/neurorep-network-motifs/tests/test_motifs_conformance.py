"""The neurorep conformance suite on every component, and registration through the entry point."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_network_motifs import PCALDA, MotifMaps, NetworkFeatures, NetworkGroups


@parametrize_with_checks([NetworkFeatures, PCALDA, NetworkGroups, MotifMaps])
def test_conformance(component, check):
    check(component)


def test_registered_through_the_entry_point():
    from neurorep.plugins import PluginSystem

    ps = PluginSystem(load_entry_points=False,
                      extra_plugins=[("network-motifs", "neurorep_network_motifs.plugin")])
    assert not ps.errors
    for cid, cls in (("motifs.network-features", NetworkFeatures), ("motifs.pca-lda", PCALDA),
                     ("synthetic.network-groups", NetworkGroups), ("source.motif-maps", MotifMaps)):
        assert ps.registry.get(cid).cls is cls
