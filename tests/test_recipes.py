"""Tests of the recipe layer: parsing, validation (every error, with path and line), expansion and keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurorep import Analyzer, Dataset, Generator, RecipeError, Representation, Result, Source, StimulusSet, Transform
from neurorep import hookimpl
from neurorep.cli import cli
from neurorep.plugins import PluginSystem
from neurorep.recipes import (
    LineLocator,
    Recipe,
    RecipeIssue,
    expand,
    format_path,
    load_recipe,
    plan_file,
    plan_text,
    validate_file,
    validate_text,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "recipes_data"


# --------------------------------------------------------------------------- test components

class RankTransform(Transform):
    """Test transform (identity with a parameter that enters keys)."""

    id = "test.rank"
    version = "1.0.0"

    def __init__(self, axis: int = 0):
        self.axis = axis

    def transform(self, x):
        return x


class NoiseImages(Generator):
    """Test generator."""

    id = "test.noise-images"
    version = "1.0.0"

    def __init__(self, size: int = 8):
        self.size = size

    def generate(self, n, target=None, random_state=None):
        return StimulusSet(tuple(f"gen-{i}" for i in range(n)))


class ToyDataset(Dataset):
    """Test dataset with stimuli and ROIs."""

    id = "test.toy-dataset"
    version = "1.0.0"

    def __init__(self, n_rois: int = 3):
        self.n_rois = n_rois

    def load_stimuli(self):
        return StimulusSet(tuple(f"img-{i}" for i in range(5)))

    def sites(self, stimuli=None):
        return [f"roi-{k}" for k in range(self.n_rois)]

    def load(self, site, stimuli=None):
        return Representation(np.ones((5, 2)), tuple(f"img-{i}" for i in range(5)))


class EmptyDataset(Dataset):
    """Test dataset with stimuli only (no representations)."""

    id = "test.empty-dataset"
    version = "1.0.0"

    def load_stimuli(self):
        return StimulusSet(("a", "b"))


class BrokenSource(Source):
    """Test source whose sites() fails."""

    id = "test.broken-source"
    version = "1.0.0"

    def sites(self, stimuli=None):
        raise RuntimeError("weights index missing")

    def load(self, site, stimuli=None):
        raise RuntimeError("unreachable")


class MeanActivity(Analyzer):
    """Test one-input analyzer."""

    id = "test.mean-activity"
    version = "1.0.0"
    n_inputs = 1

    def analyze(self, x, y=None):
        return [Result(score=float(np.mean(x.data)), metric="mean")]


class _TestPlugin:
    @hookimpl
    def register_transforms(self, register):
        register(RankTransform)

    @hookimpl
    def register_generators(self, register):
        register(NoiseImages)

    @hookimpl
    def register_datasets(self, register):
        register(ToyDataset)
        register(EmptyDataset)

    @hookimpl
    def register_sources(self, register):
        register(BrokenSource)

    @hookimpl
    def register_analyzers(self, register):
        register(MeanActivity)


@pytest.fixture(scope="module")
def builtin_registry():
    system = PluginSystem(load_entry_points=False)
    assert not system.errors
    return system.registry


@pytest.fixture(scope="module")
def registry():
    system = PluginSystem(load_entry_points=False, extra_plugins=[("recipes-test", _TestPlugin())])
    assert not system.errors, system.errors
    return system.registry


def line_of(text: str, marker: str, nth: int = 0) -> int:
    """1-based line of the nth line containing ``marker`` (an oracle independent of LineLocator)."""
    hits = [k + 1 for k, line in enumerate(text.splitlines()) if marker in line]
    assert len(hits) > nth, f"{marker!r} not in text"
    return hits[nth]


BASE = """\
[recipe]
name = "t"
seed = 3

[sources.a]
component = "source.synthetic"
params = { n_sites = 4, random_state = 0 }

[sources.b]
component = "source.synthetic"
params = { n_sites = 3, random_state = 1 }
"""


def analyses_of(plan, name):
    return [t for t in plan.tasks if t.kind == "analysis" and t.name == name]


def keys_by_label(plan):
    out = {}
    for t in plan.tasks:
        label = (t.kind, t.name, t.labels.get("x"), t.labels.get("y"))
        out[label] = t.key
    return out


# --------------------------------------------------------------------------- planted errors

FOUR = DATA / "four_errors.toml"


def expected_four():
    text = FOUR.read_text()
    return {
        "sources.brain.sitez": line_of(text, "sitez ="),
        "analyses[0].component": line_of(text, '"cka.linaer"'),
        "analyses[1].params.comparison": line_of(text, '"spearmn"'),
        "analyses[1].inputs[1]": line_of(text, '"brian"'),
    }


def test_four_planted_errors_all_reported_with_path_and_line(builtin_registry):
    issues = validate_file(FOUR, registry=builtin_registry)
    assert {i.path: i.line for i in issues} == expected_four()
    assert len(issues) == 4
    by = {i.path: i.message for i in issues}
    assert "'sitez'" in by["sources.brain.sitez"] and "Did you mean 'sites'" in by["sources.brain.sitez"]
    assert "Did you mean 'cka.linear'" in by["analyses[0].component"]
    assert "'spearmn'" in by["analyses[1].params.comparison"]
    assert "'spearman'" in by["analyses[1].params.comparison"]
    assert "'brian'" in by["analyses[1].inputs[1]"] and "Did you mean 'brain'" in by["analyses[1].inputs[1]"]
    # ordered by line
    assert [i.line for i in issues] == sorted(i.line for i in issues)


def test_four_planted_errors_raise_together_from_plan_file(builtin_registry):
    with pytest.raises(RecipeError) as info:
        plan_file(FOUR, registry=builtin_registry)
    assert {e.path: e.line for e in info.value.errors} == expected_four()
    assert info.value.source == str(FOUR)
    assert "4 error(s)" in str(info.value)


def test_cli_validate_prints_every_error_and_exits_1():
    result = CliRunner().invoke(cli, ["validate", str(FOUR)])
    assert result.exit_code == 1, result.output
    assert "4 error(s)" in result.output
    for path, line in expected_four().items():
        assert f"line {line}: {path}:" in result.output
    # table names are printed literally (not eaten as rich markup)
    assert "[sources.brain]" in result.output


def test_cli_validate_valid_recipe_exits_0():
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "recipes" / "gallery-synthetic.toml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_cli_validate_missing_file_exits_1(tmp_path):
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert "no recipe file" in result.output


# --------------------------------------------------------------------------- syntax and schema

def test_toml_syntax_error_reports_its_line(builtin_registry):
    text = BASE + '\n[[analyses]]\nname = "x"\ncomponent = cka.linear\n'
    issues = validate_text(text, builtin_registry)
    assert len(issues) == 1
    assert issues[0].line == line_of(text, "component = cka.linear")
    assert issues[0].path == ""
    assert "TOML syntax error" in issues[0].message
    assert str(issues[0]).startswith(f"line {issues[0].line}: TOML syntax error")
    with pytest.raises(RecipeError) as info:
        load_recipe(text)
    assert info.value.errors == issues


def test_toml_syntax_error_unclosed_at_end(builtin_registry):
    text = BASE + '\n[[analyses]]\nname = "x"\ninputs = ["a",\n'
    (issue,) = validate_text(text, builtin_registry)
    assert issue.line == len(text.splitlines())
    assert "end of the file" in issue.message


def test_duplicate_key_is_a_syntax_error_with_line(builtin_registry):
    text = '[recipe]\nname = "x"\nname = "y"\n'
    (issue,) = validate_text(text, builtin_registry)
    assert issue.line == 3


def test_schema_errors_all_reported(builtin_registry):
    text = textwrap.dedent("""\
        [recipe]
        name = "Bad Name"
        align = "sideways"

        [sources."My Src"]
        component = "source.synthetic"

        [sources.ok]
        component = "source.synthetic"

        [analysis]
        name = "typo-section"

        [[analyses]]
        name = "x"
        component = "cka.linear"
        inputs = ["ok", "ok", "ok"]

        [[analyses]]
        name = "y"
        component = "cka.linear"
        inputs = ["ok", "ok"]
        pairing = "zip"

        [[analyses.transforms]]
        componnt = "test.rank"
        """)
    issues = validate_text(text, builtin_registry)
    got = {i.path: i for i in issues}
    assert got["recipe.name"].line == 2 and "lowercase" in got["recipe.name"].message
    assert got["recipe.align"].line == 3 and "'sideways'" in got["recipe.align"].message
    assert got['sources."My Src"'].line == 5
    assert got["analysis"].line == line_of(text, "[analysis]")
    assert "Did you mean 'analyses'" in got["analysis"].message
    assert got["analyses[0].inputs"].line == line_of(text, '["ok", "ok", "ok"]')
    assert got["analyses[1].pairing"].line == line_of(text, '"zip"')
    assert got["analyses[1].transforms[0].componnt"].line == line_of(text, "componnt")
    assert "Did you mean 'component'" in got["analyses[1].transforms[0].componnt"].message
    # missing key -> the line of the enclosing array-of-tables entry
    assert got["analyses[1].transforms[0].component"].line == line_of(text, "[[analyses.transforms]]")
    assert len(issues) == 8
    with pytest.raises(RecipeError) as info:
        load_recipe(text)
    assert len(info.value.errors) == 8


def test_missing_sections_and_single_bracket_analyses(builtin_registry):
    issues = validate_text('[analyses]\nname = "x"\n', builtin_registry)
    got = {i.path: i.message for i in issues}
    assert "missing required table [recipe]" in got["recipe"]
    assert "no sources" in got["sources"]
    assert "[[analyses]]" in got["analyses"]


def test_recipe_issue_str():
    assert str(RecipeIssue("analyses[1].params.comparison", 12, "bad")) == \
        "line 12: analyses[1].params.comparison: bad"
    assert str(RecipeIssue("", 3, "TOML syntax error")) == "line 3: TOML syntax error"
    assert str(RecipeIssue("recipe", None, "missing")) == "recipe: missing"
    assert format_path(("analyses", 1, "params", "comparison")) == "analyses[1].params.comparison"
    assert format_path(("sources", "My Src", "component")) == 'sources."My Src".component'


# --------------------------------------------------------------------------- semantic checks

def test_unknown_id_suggestion_and_provider(builtin_registry, monkeypatch):
    text = BASE + '\n[[analyses]]\nname = "x"\ncomponent = "cka.linaer"\ninputs = ["a", "b"]\n'
    (issue,) = validate_text(text, builtin_registry)
    assert issue.path == "analyses[0].component"
    assert "Did you mean 'cka.linear'" in issue.message
    assert "neurorep plugins" in issue.message

    import neurorep.recipes.resolve as resolve_mod

    monkeypatch.setattr(resolve_mod, "known_providers", lambda: {"rsa.riemannian": "neurorep-rsa"})
    text = BASE + '\n[[analyses]]\nname = "x"\ncomponent = "rsa.riemannian"\ninputs = ["a", "b"]\n'
    (issue,) = validate_text(text, builtin_registry)
    assert "'neurorep-rsa'" in issue.message and "pip install neurorep-rsa" in issue.message


def test_wrong_kind_for_section(builtin_registry):
    text = BASE.replace('component = "source.synthetic"\nparams = { n_sites = 3, random_state = 1 }',
                        'component = "cka.linear"')
    text += '\n[[analyses]]\nname = "x"\ncomponent = "source.npz"\ninputs = ["a"]\npairing = "within"\n'
    issues = {i.path: i for i in validate_text(text, builtin_registry)}
    assert "is an analyzer component" in issues["sources.b.component"].message
    assert "source.synthetic" in issues["sources.b.component"].message
    assert "needs an analyzer component" in issues["analyses[0].component"].message
    assert len(issues) == 2


def test_param_errors_have_paths_inside_params(builtin_registry):
    text = BASE.replace("n_sites = 4, random_state = 0", 'n_sites = "four", random_state = 0, colour = 1')
    text += '\n[[analyses]]\nname = "x"\ncomponent = "rsa.correlation"\nparams = { comparison = "kendall" }\n' \
            'inputs = ["a", "b"]\n'
    issues = {i.path: i for i in validate_text(text, builtin_registry)}
    assert set(issues) == {"sources.a.params.n_sites", "sources.a.params.colour", "analyses[0].params.comparison"}
    assert issues["sources.a.params.n_sites"].line == line_of(text, '"four"')
    assert "Allowed parameters" in issues["sources.a.params.colour"].message
    assert "'kendall'" in issues["analyses[0].params.comparison"].message
    assert issues["analyses[0].params.comparison"].line == line_of(text, '"kendall"')


def test_missing_required_param(builtin_registry):
    text = BASE + '\n[sources.c]\ncomponent = "source.npz"\n\n[[analyses]]\nname = "x"\ncomponent = "cka.linear"\n' \
                  'inputs = ["a", "b"]\n'
    (issue,) = validate_text(text, builtin_registry)
    assert issue.path == "sources.c.params.path"
    assert issue.line == line_of(text, "[sources.c]")
    assert "missing required parameter 'path'" in issue.message


def test_input_and_pairing_errors(registry):
    text = BASE + textwrap.dedent("""
        [[analyses]]
        name = "one-input-two-sided"
        component = "cka.linear"
        inputs = ["a"]

        [[analyses]]
        name = "within-two"
        component = "cka.linear"
        inputs = ["a", "b"]
        pairing = "within"

        [[analyses]]
        name = "mean"
        component = "test.mean-activity"
        inputs = ["a", "b"]

        [[analyses]]
        name = "mean"
        component = "test.mean-activity"
        inputs = ["a"]
        pairing = "matched"

        [[analyses]]
        name = "matched-mismatch"
        component = "cka.linear"
        inputs = ["a", "b"]
        pairing = "matched"

        [[analyses]]
        name = "glob-nothing"
        component = "cka.linear"
        inputs = ["a:roi*", "b:"]
        """)
    issues = {i.path: i for i in validate_text(text, registry)}
    assert set(issues) == {"analyses[0].inputs", "analyses[1].pairing", "analyses[2].inputs", "analyses[3].name",
                           "analyses[3].pairing", "analyses[4].pairing", "analyses[5].inputs[0]",
                           "analyses[5].inputs[1]"}
    assert 'pairing = "within"' in issues["analyses[0].inputs"].message
    assert "n_inputs = 1" in issues["analyses[2].inputs"].message
    assert "duplicate analysis name 'mean'" in issues["analyses[3].name"].message
    assert "only in 'a': ['layer3']" in issues["analyses[4].pairing"].message
    assert issues["analyses[4].pairing"].line == line_of(text, 'pairing = "matched"', nth=1)
    assert "'roi*'" in issues["analyses[5].inputs[0]"].message
    assert issues["analyses[5].inputs[0]"].line == line_of(text, '"a:roi*"')


def test_source_site_globs_and_sites_errors(registry):
    text = textwrap.dedent("""\
        [recipe]
        name = "t"

        [sources.a]
        component = "source.synthetic"
        params = { n_sites = 4 }
        sites = ["layer[12]", "lyr*"]

        [sources.broken]
        component = "test.broken-source"

        [sources.empty]
        component = "test.empty-dataset"

        [[analyses]]
        name = "x"
        component = "cka.linear"
        inputs = ["broken", "empty"]
        """)
    issues = {i.path: i for i in validate_text(text, registry)}
    assert set(issues) == {"sources.a.sites[1]", "sources.broken", "sources.empty"}
    assert issues["sources.a.sites[1]"].line == line_of(text, 'sites = ["')
    assert "'lyr*'" in issues["sources.a.sites[1]"].message and "layer0" in issues["sources.a.sites[1]"].message
    assert issues["sources.broken"].line == line_of(text, "[sources.broken]")
    assert "weights index missing" in issues["sources.broken"].message
    assert "holds no representations" in issues["sources.empty"].message


def test_stimuli_errors(registry):
    text = BASE.replace('[sources.b]\n', '[sources.b]\nstimuli = "imgs"\n') + textwrap.dedent("""
        [stimuli.gen]
        component = "test.noise-images"

        [stimuli.data]
        component = "test.toy-dataset"
        n = 4

        [stimuli.what]
        component = "test.noise-image"
        n = 4

        [[analyses]]
        name = "x"
        component = "cka.linear"
        inputs = ["a", "b"]
        """)
    issues = {i.path: i for i in validate_text(text, registry)}
    assert set(issues) == {"sources.b.stimuli", "stimuli.gen.n", "stimuli.data.n", "stimuli.what.component"}
    assert "add n = <count>" in issues["stimuli.gen.n"].message
    assert issues["stimuli.gen.n"].line == line_of(text, "[stimuli.gen]")
    assert issues["stimuli.data.n"].line == line_of(text, "n = 4")
    assert "Did you mean 'test.noise-images'" in issues["stimuli.what.component"].message
    assert "unknown stimuli 'imgs'" in issues["sources.b.stimuli"].message


def test_expand_rejects_recipe_that_fails_registry_checks(builtin_registry):
    text = BASE + '\n[[analyses]]\nname = "x"\ncomponent = "cka.linaer"\ninputs = ["a", "b"]\n'
    recipe = load_recipe(text)  # schema-valid
    with pytest.raises(RecipeError) as info:
        expand(recipe, builtin_registry)
    (err,) = info.value.errors
    assert err.path == "analyses[0].component" and err.line == line_of(text, "cka.linaer")


# --------------------------------------------------------------------------- line locator

def test_line_locator_on_every_toml_form():
    text = textwrap.dedent('''\
        # comment [sources.fake] = "x"
        [recipe]
        name = "loc"   # trailing comment with = and [brackets]
        description = """
        multi-line "string" with [tables] and key = value
        """

        [sources.a]
        component = 'source.synthetic'
        params.n_sites = 4

        [sources.a.params.nested]
        deep = 1

        [sources]
        b = { component = "source.synthetic", params = { n_sites = 2 } }
        "quoted.key" = { component = "source.npz" }

        [[analyses]]
        name = "first"
        inputs = [
            "a",   # a comment inside an array
            "b:layer*",
        ]
        transforms = [
            { component = "test.rank", params = { axis = 1 } },
            { component = "test.rank" },
        ]

        [[analyses]]
        name = "second"

        [[analyses.transforms]]
        component = "t.one"

        [[analyses.transforms]]
        component = "t.two"
        params = { axis = 2 }

        [[analyses]]
        name = "third"
        ''')
    loc = LineLocator(text)
    assert loc.line(("recipe",)) == line_of(text, "[recipe]")
    assert loc.line(("recipe", "name")) == line_of(text, 'name = "loc"')
    assert loc.line(("recipe", "description")) == line_of(text, "description =")
    assert loc.line(("sources", "a")) == line_of(text, "[sources.a]")
    assert loc.line(("sources", "a", "component")) == line_of(text, "'source.synthetic'")
    assert loc.line(("sources", "a", "params", "n_sites")) == line_of(text, "params.n_sites")
    assert loc.line(("sources", "a", "params", "nested", "deep")) == line_of(text, "deep = 1")
    assert loc.line(("sources", "b")) == line_of(text, "b = {")
    assert loc.line(("sources", "b", "params", "n_sites")) == line_of(text, "b = {")
    assert loc.line(("sources", "quoted.key", "component")) == line_of(text, '"quoted.key"')
    assert loc.line(("analyses", 0)) == line_of(text, "[[analyses]]", 0)
    assert loc.line(("analyses", 0, "inputs", 1)) == line_of(text, '"b:layer*"')
    assert loc.line(("analyses", 0, "transforms", 0, "params", "axis")) == line_of(text, "axis = 1")
    assert loc.line(("analyses", 0, "transforms", 1, "component")) == line_of(text, '{ component = "test.rank" }')
    assert loc.line(("analyses", 1, "name")) == line_of(text, '"second"')
    assert loc.line(("analyses", 1, "transforms", 0)) == line_of(text, "[[analyses.transforms]]", 0)
    assert loc.line(("analyses", 1, "transforms", 1, "params", "axis")) == line_of(text, "axis = 2")
    assert loc.line(("analyses", 1, "transforms", 1, "params", "missing")) == line_of(text, "axis = 2")
    assert loc.line(("analyses", 2)) == line_of(text, "[[analyses]]", 2)
    assert loc.line(("analyses", 2, "component")) == line_of(text, "[[analyses]]", 2)  # nearest enclosing
    assert loc.line(("nothing",)) is None
    assert loc.exact(("analyses", 2, "component")) is None


# --------------------------------------------------------------------------- expansion

def plan(text, registry):
    return plan_text(text, registry)


def test_expansion_counts_for_each_pairing(registry):
    text = BASE + textwrap.dedent("""
        [[analyses]]
        name = "product"
        component = "cka.linear"
        inputs = ["a", "b"]

        [[analyses]]
        name = "matched"
        component = "cka.linear"
        inputs = ["a:layer[0-2]", "b"]
        pairing = "matched"

        [[analyses]]
        name = "within"
        component = "cka.linear"
        inputs = ["a"]
        pairing = "within"

        [[analyses]]
        name = "glob-product"
        component = "rsa.correlation"
        inputs = ["a:layer[01]", "b:layer2"]

        [[analyses]]
        name = "single"
        component = "test.mean-activity"
        inputs = ["b"]
        """)
    p = plan(text, registry)
    a_sites = [f"layer{k}" for k in range(4)]
    b_sites = [f"layer{k}" for k in range(3)]

    prod = analyses_of(p, "product")
    assert len(prod) == 12
    assert [(t.labels["x"], t.labels["y"]) for t in prod] == \
        [(f"a:{x}", f"b:{y}") for x in a_sites for y in b_sites]

    matched = analyses_of(p, "matched")
    assert [(t.labels["x"], t.labels["y"]) for t in matched] == [(f"a:{s}", f"b:{s}") for s in b_sites]

    within = analyses_of(p, "within")
    assert len(within) == 10
    assert [(t.inputs[0]["site"], t.inputs[1]["site"]) for t in within] == \
        list(itertools.combinations_with_replacement(a_sites, 2))

    gp = analyses_of(p, "glob-product")
    assert [(t.labels["x"], t.labels["y"]) for t in gp] == [("a:layer0", "b:layer2"), ("a:layer1", "b:layer2")]

    single = analyses_of(p, "single")
    assert [t.labels["x"] for t in single] == [f"b:{s}" for s in b_sites]
    assert all(t.labels["y"] is None and len(t.inputs) == 1 for t in single)

    sources = p.of_kind("source")
    assert [(t.name, t.sites) for t in sources] == [("a", tuple(a_sites)), ("b", tuple(b_sites))]
    assert len(p.tasks) == 2 + 12 + 3 + 10 + 2 + 3


def test_task_contents_and_dependency_order(registry):
    text = BASE.replace('[sources.b]\n', '[sources.b]\nstimuli = "noise"\n') + textwrap.dedent("""
        [stimuli.noise]
        component = "test.noise-images"
        params = { size = 4 }
        n = 6

        [stimuli.toy]
        component = "test.toy-dataset"

        [sources.roi]
        component = "test.toy-dataset"
        stimuli = "toy"
        sites = ["roi-[02]"]

        [[generators]]
        name = "samples"
        component = "test.noise-images"
        n = 3

        [[analyses]]
        name = "x"
        component = "rsa.correlation"
        inputs = ["b", "roi"]
        transforms = [{ component = "test.rank", params = { axis = 1 } }]
        """)
    p = plan(text, registry)
    by_key = p.by_key()
    assert len(by_key) == len(p.tasks)
    position = {t.key: k for k, t in enumerate(p.tasks)}
    for t in p.tasks:
        assert all(position[d] < position[t.key] for d in t.depends_on)
    kinds = [t.kind for t in p.tasks]
    assert kinds == sorted(kinds, key=["generate", "source", "analysis"].index)

    gens = p.of_kind("generate")
    assert [(g.name, g.inputs) for g in gens] == [("samples", ({"n": 3},)), ("noise", ({"n": 6},))]
    assert all(g.seed == 3 and g.component_ref.endswith(":NoiseImages") for g in gens)
    noise = gens[1]
    assert noise.params == {"size": 4}

    src = {t.name: t for t in p.of_kind("source")}
    assert src["a"].inputs == () and src["a"].depends_on == ()
    assert src["b"].depends_on == (noise.key,)
    assert src["b"].inputs[0]["stimuli"] == "noise" and src["b"].inputs[0]["task"] == noise.key
    assert src["b"].inputs[0]["component_id"] == "test.noise-images" and src["b"].inputs[0]["params"] == {"size": 4}
    roi = src["roi"]
    assert roi.sites == ("roi-0", "roi-2") and roi.depends_on == ()
    assert roi.inputs[0]["stimuli"] == "toy" and roi.inputs[0]["task"] is None
    assert roi.inputs[0]["component_id"] == "test.toy-dataset"
    assert roi.component_ref.endswith(":ToyDataset")

    (t0, *_rest) = analyses_of(p, "x")
    assert len(analyses_of(p, "x")) == 3 * 2
    assert t0.depends_on == (src["b"].key, roi.key)
    assert t0.inputs == ({"source": "b", "site": "layer0", "task": src["b"].key},
                         {"source": "roi", "site": "roi-0", "task": roi.key})
    assert t0.transforms == ({"component_id": "test.rank", "component_ref": RankTransform.__module__ + ":RankTransform",
                              "version": "1.0.0", "params": {"axis": 1}},)
    assert t0.labels == {"analysis": "x", "x": "b:layer0", "y": "roi:roi-0"}
    from neurorep.builtin.analyzers import CorrelationRSA

    assert t0.params == CorrelationRSA().get_params()  # the validated params: every default, written out
    assert t0.component_ref == "neurorep.builtin.analyzers:CorrelationRSA"
    assert t0.seed == 3

    assert p.recipe_name == "t"
    assert p.recipe_text == text
    assert p.recipe_hash == hashlib.sha256(text.encode()).hexdigest()
    assert p.options["align"] == "reorder" and p.options["seed"] == 3
    assert p.options["stimuli"]["noise"]["task"] == noise.key
    assert p.options["stimuli"]["toy"]["task"] is None and p.options["stimuli"]["toy"]["kind"] == "dataset"
    json.dumps([t.as_dict() for t in p.tasks])  # plain data throughout


# --------------------------------------------------------------------------- keys

KEYED = BASE + textwrap.dedent("""
    [stimuli.noise]
    component = "test.noise-images"
    n = 6

    [sources.c]
    component = "source.synthetic"
    params = { n_sites = 2, random_state = 2 }
    stimuli = "noise"

    [[analyses]]
    name = "ab"
    component = "rsa.correlation"
    inputs = ["a", "b"]

    [[analyses]]
    name = "aa"
    component = "cka.linear"
    inputs = ["a"]
    pairing = "within"

    [[analyses]]
    name = "bc"
    component = "cka.linear"
    inputs = ["b", "c"]
    transforms = [{ component = "test.rank" }]
    """)


def split(p):
    return ({t.name: t.key for t in p.tasks if t.kind != "analysis"},
            {name: [t.key for t in analyses_of(p, name)] for name in ("ab", "aa", "bc")})


def test_keys_stable_between_expansions_and_through_load_recipe(registry):
    p1, p2 = plan(KEYED, registry), plan(KEYED, registry)
    assert [t.key for t in p1.tasks] == [t.key for t in p2.tasks]
    assert len(set(t.key for t in p1.tasks)) == len(p1.tasks)
    p3 = expand(load_recipe(KEYED), registry)
    assert [t.as_dict() for t in p3.tasks] == [t.as_dict() for t in p1.tasks]
    assert p3.recipe_hash == p1.recipe_hash


def test_keys_stable_across_processes(builtin_registry, tmp_path):
    path = ROOT / "recipes" / "gallery-synthetic.toml"
    here = [t.key for t in plan_file(path, registry=builtin_registry).tasks]
    code = ("import json, sys\n"
            "from neurorep.plugins import PluginSystem\n"
            "from neurorep.recipes import plan_file\n"
            "reg = PluginSystem(load_entry_points=False).registry\n"
            "print(json.dumps([t.key for t in plan_file(sys.argv[1], registry=reg).tasks]))\n")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


def test_analysis_param_change_changes_only_that_analysis(registry):
    base_other, base_an = split(plan(KEYED, registry))
    changed = KEYED.replace('name = "ab"\ncomponent = "rsa.correlation"\n',
                            'name = "ab"\ncomponent = "rsa.correlation"\nparams = { comparison = "pearson" }\n')
    assert changed != KEYED
    other, an = split(plan(changed, registry))
    assert other == base_other
    assert set(an["ab"]).isdisjoint(base_an["ab"]) and len(an["ab"]) == 12
    assert an["aa"] == base_an["aa"] and an["bc"] == base_an["bc"]


def test_transform_param_change_changes_only_that_analysis(registry):
    base_other, base_an = split(plan(KEYED, registry))
    other, an = split(plan(KEYED.replace('{ component = "test.rank" }',
                                         '{ component = "test.rank", params = { axis = 1 } }'), registry))
    assert other == base_other
    assert set(an["bc"]).isdisjoint(base_an["bc"])
    assert an["ab"] == base_an["ab"] and an["aa"] == base_an["aa"]


def test_source_param_change_changes_it_and_everything_downstream(registry):
    base_other, base_an = split(plan(KEYED, registry))
    other, an = split(plan(KEYED.replace("n_sites = 4, random_state = 0", "n_sites = 4, random_state = 9"), registry))
    assert other["a"] != base_other["a"]
    assert {k: v for k, v in other.items() if k != "a"} == {k: v for k, v in base_other.items() if k != "a"}
    assert set(an["ab"]).isdisjoint(base_an["ab"]) and set(an["aa"]).isdisjoint(base_an["aa"])
    assert an["bc"] == base_an["bc"]


def test_stimuli_change_propagates_to_source_and_analyses(registry):
    base_other, base_an = split(plan(KEYED, registry))
    other, an = split(plan(KEYED.replace("n = 6", "n = 7"), registry))
    assert other["noise"] != base_other["noise"] and other["c"] != base_other["c"]
    assert other["a"] == base_other["a"] and other["b"] == base_other["b"]
    assert set(an["bc"]).isdisjoint(base_an["bc"])
    assert an["ab"] == base_an["ab"] and an["aa"] == base_an["aa"]
    # the recipe seed is the generator's random_state: it changes generated stimuli, not the other sources
    other, an = split(plan(KEYED.replace("seed = 3", "seed = 4"), registry))
    assert other["noise"] != base_other["noise"] and other["c"] != base_other["c"]
    assert other["a"] == base_other["a"] and an["ab"] == base_an["ab"]


def test_site_selection_changes_source_key(registry):
    base_other, _ = split(plan(KEYED, registry))
    other, an = split(plan(KEYED.replace("params = { n_sites = 3, random_state = 1 }",
                                         'params = { n_sites = 3, random_state = 1 }\nsites = ["layer[01]"]'),
                           registry))
    assert other["b"] != base_other["b"]
    assert len(an["ab"]) == 4 * 2


def test_cosmetic_changes_keep_keys(registry):
    base = plan(KEYED, registry)
    cosmetic = ("# a comment\n" + KEYED
                .replace("[sources.a]\ncomponent = \"source.synthetic\"\nparams = { n_sites = 4, random_state = 0 }",
                         "[sources.a]\nparams = { random_state = 0, n_sites = 4 }  # reordered\n"
                         "component = \"source.synthetic\"")
                .replace('name = "ab"\ncomponent = "rsa.correlation"\n',
                         'name = "ab"\ncomponent = "rsa.correlation"\nparams = { comparison = "spearman" }\n'))
    p = plan(cosmetic, registry)
    assert [t.key for t in p.tasks] == [t.key for t in base.tasks]  # explicit defaults == implicit defaults
    assert p.recipe_hash != base.recipe_hash
    # renaming a source keeps every key (stored representations are found again) ...
    renamed = plan(KEYED.replace("[sources.b]", "[sources.bee]").replace('["a", "b"]', '["a", "bee"]')
                   .replace('["b", "c"]', '["bee", "c"]'), registry)
    assert [t.key for t in renamed.tasks] == [t.key for t in base.tasks]
    assert {t.labels["y"] for t in analyses_of(renamed, "ab")} == {"bee:layer0", "bee:layer1", "bee:layer2"}
    # ... renaming an analysis changes that analysis's keys only
    p = plan(KEYED.replace('name = "aa"', 'name = "aa2"'), registry)
    other, an = split(p)
    base_other, base_an = split(base)
    assert other == base_other and an["ab"] == base_an["ab"] and an["bc"] == base_an["bc"]
    aa2 = [t.key for t in analyses_of(p, "aa2")]
    assert len(aa2) == 10 and set(aa2).isdisjoint(base_an["aa"])


def test_overlapping_analyses_keep_their_own_tasks(builtin_registry):
    text = BASE + textwrap.dedent("""
        [[analyses]]
        name = "all-pairs"
        component = "cka.linear"
        inputs = ["a", "b"]

        [[analyses]]
        name = "same-layer"
        component = "cka.linear"
        inputs = ["a:layer[0-2]", "b"]
        pairing = "matched"
        """)
    p = plan(text, builtin_registry)
    assert len(analyses_of(p, "all-pairs")) == 12 and len(analyses_of(p, "same-layer")) == 3
    assert len(p.by_key()) == len(p.tasks)


def test_recipe_align_is_the_analyzers_default(registry):
    base_other, base_an = split(plan(KEYED, registry))
    p = plan(KEYED.replace('seed = 3', 'seed = 3\nalign = "strict"'), registry)
    other, an = split(p)
    assert other == base_other
    assert all(t.params["align"] == "strict" for t in p.of_kind("analysis"))
    assert set(an["ab"]).isdisjoint(base_an["ab"])
    assert p.options["align"] == "strict"
    explicit = plan(KEYED.replace('seed = 3', 'seed = 3\nalign = "strict"')
                    .replace('name = "aa"\ncomponent = "cka.linear"\n',
                             'name = "aa"\ncomponent = "cka.linear"\nparams = { align = "reorder" }\n'), registry)
    assert split(explicit)[1]["aa"] == base_an["aa"]


def test_identical_sources_share_one_task(builtin_registry):
    text = BASE + textwrap.dedent("""
        [sources.a-again]
        component = "source.synthetic"
        params = { n_sites = 4, random_state = 0 }

        [[analyses]]
        name = "x"
        component = "cka.linear"
        inputs = ["a", "a-again"]
        pairing = "matched"
        """)
    p = plan(text, builtin_registry)
    assert [t.name for t in p.of_kind("source")] == ["a", "b"]
    tasks = analyses_of(p, "x")
    assert len(tasks) == 4
    assert all(t.inputs[0]["task"] == t.inputs[1]["task"] for t in tasks)
    assert tasks[0].labels["y"] == "a-again:layer0"


# --------------------------------------------------------------------------- source.npz

def test_npz_source_site_globs(tmp_path, builtin_registry):
    path = tmp_path / "rois.npz"
    ids = np.array([f"s{i}" for i in range(6)])
    rng = np.random.default_rng(0)
    np.savez(path, stimulus_ids=ids, roi_v1=rng.random((6, 3)), roi_v2=rng.random((6, 3)),
             roi_it=rng.random((6, 4)))
    text = textwrap.dedent(f"""\
        [recipe]
        name = "npz"

        [sources.brain]
        component = "source.npz"
        params = {{ path = {json.dumps(str(path))} }}
        sites = ["roi_v*"]

        [sources.model]
        component = "source.synthetic"

        [[analyses]]
        name = "rsa"
        component = "rsa.correlation"
        inputs = ["model:layer0", "brain"]
        """)
    p = plan(text, builtin_registry)
    assert p.of_kind("source")[0].sites == ("roi_v1", "roi_v2")
    assert [t.labels["y"] for t in p.of_kind("analysis")] == ["brain:roi_v1", "brain:roi_v2"]
    path.unlink()
    (issue,) = validate_text(text, builtin_registry)
    assert issue.path == "sources.brain" and issue.line == 4 and "expected an .npz file" in issue.message


# --------------------------------------------------------------------------- loading and shipped recipes

def test_load_recipe_from_path_text_and_pathlike(tmp_path):
    text = BASE + '\n[[analyses]]\nname = "x"\ncomponent = "cka.linear"\ninputs = ["a", "b"]\n'
    f = tmp_path / "r.toml"
    f.write_text(text)
    for arg in (text, str(f), f):
        r = load_recipe(arg)
        assert isinstance(r, Recipe) and r.name == "t" and r.text == text
        assert r.analyses[0].pairing == "product" and r.sources["a"].params == {"n_sites": 4, "random_state": 0}
    assert load_recipe(f).source == str(f) and load_recipe(text).source is None
    with pytest.raises(RecipeError, match="no recipe file"):
        load_recipe(str(tmp_path / "missing.toml"))


def test_recipe_built_in_python_expands(builtin_registry):
    r = Recipe.model_validate({
        "recipe": {"name": "py"},
        "sources": {"a": {"component": "source.synthetic", "params": {"n_sites": 2}}},
        "analyses": [{"name": "x", "component": "cka.linear", "inputs": ["a"], "pairing": "within"}],
    })
    p = expand(r, builtin_registry)
    assert len(p.of_kind("analysis")) == 3
    assert json.loads(p.recipe_text)["recipe"]["name"] == "py"


SHIPPED = sorted((ROOT / "recipes").glob("*.toml"))


def test_shipped_recipes_exist():
    names = {p.name for p in SHIPPED}
    assert {"quickstart.toml", "gallery-synthetic.toml", "gallery-cka.toml", "gallery-rsa.toml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_recipe_validates_and_expands(path):
    assert validate_file(path) == []
    p = plan_file(path)
    assert p.of_kind("source") and p.of_kind("analysis")


def test_synthetic_gallery_expansion(builtin_registry):
    p = plan_file(ROOT / "recipes" / "gallery-synthetic.toml", registry=builtin_registry)
    assert len(analyses_of(p, "cka-layers")) == 10  # 4 sites, i <= j
    assert len(analyses_of(p, "rsa-models")) == 16  # 4 x 4
    assert all(t.params["comparison"] == "spearman" for t in analyses_of(p, "rsa-models"))
    a, b = p.of_kind("source")
    assert a.params["random_state"] != b.params["random_state"]


def test_recipes_layer_imports_without_torch():
    code = "import sys, neurorep.recipes; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_store_dtype_option_reaches_the_plan_and_the_store(tmp_path):
    from neurorep.recipes import plan_text, validate_text
    from neurorep.runner import run_plan

    text = ('[recipe]\nname = "f16"\nstore_dtype = "float16"\n[sources.a]\ncomponent = "source.synthetic"\n'
            '[[analyses]]\nname = "c"\ncomponent = "cka.linear"\ninputs = ["a"]\npairing = "within"\n')
    plan = plan_text(text)
    assert plan.options["store"] == {"dtype": "float16"}
    summary = run_plan(plan, tmp_path / "out", progress=False)
    assert summary["n_failed"] == 0
    from neurorep.store import RepresentationStore

    store = RepresentationStore(tmp_path / "out" / "store")
    src = plan.of_kind("source")[0].key
    assert store.read(src, "layer0").data.dtype.itemsize <= 4
    bad = validate_text(text.replace('"float16"', '"int8"'))
    assert len(bad) == 1 and bad[0].path == "recipe.store_dtype" and bad[0].line == 3
