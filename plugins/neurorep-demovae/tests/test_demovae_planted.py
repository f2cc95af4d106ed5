"""The paper's check on SYNTHETIC FC with planted age and sex effects (triage seed #77).

On held-out subjects DemoVAE's latents are uncorrelated with age and sex, while the same model trained
without the decorrelation term is clearly correlated with age; FC decoded with age as a condition
reproduces the planted age effect map (sign, magnitude) and differs between two ages only on the
planted edges.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_demovae import AGE_MEAN, AGE_SD, DemoVAE, planted_fc_cohort

N_TRAIN, N_TEST, EPOCHS = 800, 4000, 60


def max_abs_corr(Z: np.ndarray, v: np.ndarray) -> float:
    return float(max(abs(np.corrcoef(Z[:, k], v)[0, 1]) for k in range(Z.shape[1])))


@pytest.fixture(scope="module")
def cohorts():
    return planted_fc_cohort(N_TRAIN, random_state=1), planted_fc_cohort(N_TEST, random_state=2)


@pytest.fixture(scope="module")
def demovae(cohorts):
    train, _ = cohorts
    return DemoVAE(hidden=64, epochs=EPOCHS, random_state=0).fit(train.fc, train.demographics)


@pytest.fixture(scope="module")
def ablation(cohorts):
    train, _ = cohorts
    return DemoVAE(hidden=64, epochs=EPOCHS, decor_weight=0.0, random_state=0).fit(train.fc, train.demographics)


def age_difference_map(est: DemoVAE, n: int = 2000) -> np.ndarray:
    """Mean decoded FC at age mean + 1 SD minus at mean - 1 SD, halved (per SD of age), over prior latents."""
    Z = np.random.default_rng(0).standard_normal((n, est.latent_dim))
    hi = est.inverse_transform(Z, [AGE_MEAN + AGE_SD, 0.5])
    lo = est.inverse_transform(Z, [AGE_MEAN - AGE_SD, 0.5])
    return (hi - lo).mean(0) / 2.0


def test_latents_are_decorrelated_from_demographics_on_held_out_subjects(cohorts, demovae, ablation):
    train, test = cohorts
    Z = demovae.transform(test.fc)
    r_age, r_sex = max_abs_corr(Z, test.age), max_abs_corr(Z, test.sex)
    print(f"held-out max|r(latent, age)| = {r_age:.3f}, sex {r_sex:.3f}")
    assert r_age < 0.1 and r_sex < 0.1
    assert max_abs_corr(demovae.transform(train.fc), train.age) < 0.05   # in-sample, the penalised quantity
    # the ablation (same model, decorrelation weight 0) keeps age in its latents
    r_abl = max_abs_corr(ablation.transform(test.fc), test.age)
    print(f"ablation (decor_weight=0): held-out max|r(latent, age)| = {r_abl:.3f}")
    assert r_abl > 0.3 and r_abl > 4 * r_age
    # the raw FC edges carry age: the confound is really there to remove
    raw = max_abs_corr(test.fc[:, test.age_edges], test.age)
    assert raw > 0.5


def test_decoding_with_age_reproduces_the_planted_age_effect(cohorts, demovae):
    train, _ = cohorts
    diff = age_difference_map(demovae)
    planted = train.age_effect
    r = float(np.corrcoef(diff, planted)[0, 1])
    slope = float(np.polyfit(planted, diff, 1)[0])
    signs = float(np.mean(np.sign(diff[train.age_edges]) == np.sign(planted[train.age_edges])))
    on = float(np.abs(diff[train.age_edges]).mean())
    off = float(np.abs(diff[~train.age_edges]).mean())
    print(f"decoded vs planted age map: r = {r:.3f}, slope = {slope:.3f}, sign agreement {signs:.2f}, "
          f"mean|diff| on planted {on:.3f} vs off {off:.3f}")
    assert r > 0.8
    assert signs == 1.0
    assert 0.7 < slope < 1.3                       # rough magnitude: planted 0.25 per SD
    assert off < 0.15 * on                         # two ages differ only where the effect was planted


def test_decoding_with_sex_reproduces_the_planted_sex_effect(cohorts, demovae):
    train, _ = cohorts
    Z = np.random.default_rng(1).standard_normal((2000, demovae.latent_dim))
    diff = (demovae.inverse_transform(Z, [AGE_MEAN, 1.0]) - demovae.inverse_transform(Z, [AGE_MEAN, 0.0])).mean(0)
    r = float(np.corrcoef(diff, train.sex_effect)[0, 1])
    print(f"decoded vs planted sex map: r = {r:.3f}")
    assert r > 0.8
    assert np.abs(diff[~train.sex_edges]).mean() < 0.2 * np.abs(diff[train.sex_edges]).mean()


def test_reconstruct_a_subject_at_another_age(cohorts, demovae):
    _, test = cohorts
    X = test.fc[:500]
    older = np.column_stack([test.age[:500] + AGE_SD, test.sex[:500]])
    delta = (demovae.reconstruct(X, older) - demovae.reconstruct(X, test.demographics[:500])).mean(0)
    assert np.corrcoef(delta, test.age_effect)[0, 1] > 0.8


def test_samples_match_the_conditional_distribution(cohorts, demovae):
    train, _ = cohorts
    for age, sex in ((11.0, 0.0), (19.0, 1.0)):
        synth = demovae.sample(3000, [age, sex], random_state=4)
        err = np.abs(synth.mean(0) - train.expected_fc(age, sex))
        print(f"age {age}, sex {sex}: mean |sample mean - true conditional mean| = {err.mean():.3f}")
        assert err.mean() < 0.05                      # the population FC spans 0.1-0.6 (Fisher z)
    # the samples carry the individual (demographics-independent) variation, not just the mean
    synth = demovae.sample(3000, [AGE_MEAN, 0.0], random_state=5)
    resid = train.fc - np.stack([train.expected_fc(a, s) for a, s in train.demographics])
    ratio = synth.std(0) / resid.std(0)
    print(f"synthetic / true conditional SD per edge: median {np.median(ratio):.2f}")
    assert 0.6 < np.median(ratio) < 1.2


def test_sampling_is_seeded_and_demographics_are_checked(demovae):
    a = demovae.sample(5, [15.0, 1.0], random_state=7)
    assert np.array_equal(a, demovae.sample(5, [15.0, 1.0], random_state=7))
    assert not np.array_equal(a, demovae.sample(5, [15.0, 1.0], random_state=8))
    with pytest.raises(ValueError, match="demovae.fc"):
        demovae.sample(5)
    with pytest.raises(ValueError, match="demovae.fc"):
        demovae.sample(5, [15.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="demovae.fc"):
        DemoVAE().transform(np.zeros((3, 120)))
