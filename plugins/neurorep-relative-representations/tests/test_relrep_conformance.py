"""The neurorep conformance suite on every relative-representation component."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_relrep import RelativeDecoder, RelativeSimilarity, RelativeTransform


@parametrize_with_checks([
    RelativeTransform(),
    RelativeTransform(n_anchors=4, center=True, random_state=3),
    RelativeTransform(anchor_ids=["stim-00", "stim-05", "stim-11"]),
    RelativeSimilarity(),
    RelativeSimilarity(n_anchors=6, agreement="pearson", exclude_anchors=True, random_state=2),
    RelativeSimilarity(center=True, n_permutations=20),
    RelativeDecoder(),
    RelativeDecoder(n_anchors=5, center=True, alpha=0.1, random_state=4),
])
def test_relrep_conformance(component, check):
    check(component)
