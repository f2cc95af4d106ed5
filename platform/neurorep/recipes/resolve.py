"""Semantic checks of a recipe against the plugin registry.

The resolver walks the recipe's data (the schema-validated model dumped to dicts, or
the raw TOML data when the schema failed, so that every error is still reported in one
pass), looks every component up in the registry, validates its parameters with the
component's ``param_model()``, lists each source's sites, matches site globs, and
checks analysis inputs and pairings. It records every problem as a
:class:`~neurorep.recipes.issues.RecipeIssue` and returns the resolved recipe
(components, validated parameters, site lists and analysis pairs) that
:func:`neurorep.recipes.expand` turns into tasks.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import UnknownComponentError
from ..registry import ComponentInfo, Registry, known_providers
from .issues import RecipeIssue, did_you_mean, format_path, pydantic_message, short_list
from .locate import LineLocator

__all__ = [
    "ResolvedComponent",
    "ResolvedStimuli",
    "ResolvedSource",
    "ResolvedAnalysis",
    "ResolvedGenerator",
    "ResolvedRecipe",
    "resolve",
]

Loc = tuple[str | int, ...]
SiteRef = tuple[str, str]  # (source name, site); the site may be a StackedSites


class StackedSites(str):
    """Several sites of one source handed to an analyzer as ONE input (an analysis's ``stack``).

    The str value is the label used in results (``stack(<glob>)``); :attr:`sites` lists the sites.
    """

    sites: tuple[str, ...]

    def __new__(cls, sites: list[str] | tuple[str, ...], label: str) -> StackedSites:
        obj = super().__new__(cls, label)
        obj.sites = tuple(sites)
        return obj

    def __reduce__(self):
        return (StackedSites, (self.sites, str(self)))

_ALIGN_MODES = ("strict", "reorder", "intersection")
_PAIRINGS = ("product", "matched", "within")
_STACKS = ("none", "x", "y", "both")


@dataclass(frozen=True)
class ResolvedComponent:
    """A registered component with its validated, JSON-ready parameters."""

    info: ComponentInfo
    params: dict[str, Any]

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def ref(self) -> str:
        return self.info.ref

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the component's output: id, version and parameters (not where the code lives)."""
        return {"component_id": self.id, "version": self.version, "params": self.params}

    def as_task_dict(self) -> dict[str, Any]:
        """The form used in ``Task.transforms``."""
        return {"component_id": self.id, "component_ref": self.ref, "version": self.version,
                "params": self.params}


@dataclass(frozen=True)
class ResolvedStimuli:
    """A ``[stimuli.<name>]`` entry: a dataset's stimuli, or ``n`` stimuli from a generator."""

    name: str
    component: ResolvedComponent
    n: int | None


@dataclass(frozen=True)
class ResolvedSource:
    """A ``[sources.<name>]`` entry and its selected sites, in the source's own order."""

    name: str
    component: ResolvedComponent
    stimuli: str | None
    sites: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedAnalysis:
    """An ``[[analyses]]`` entry; ``pairs`` holds one tuple of 1 or 2 ``(source, site)`` per task."""

    name: str
    component: ResolvedComponent
    pairing: str
    transforms: tuple[ResolvedComponent, ...]
    pairs: tuple[tuple[SiteRef, ...], ...]


@dataclass(frozen=True)
class ResolvedGenerator:
    """A ``[[generators]]`` entry."""

    name: str
    component: ResolvedComponent
    n: int


@dataclass
class ResolvedRecipe:
    """Everything :func:`neurorep.recipes.expand` needs, checked against the registry."""

    name: str
    description: str
    seed: int | None
    align: str
    report: dict[str, Any]
    store_dtype: str | None = None
    stimuli: dict[str, ResolvedStimuli] = field(default_factory=dict)
    sources: dict[str, ResolvedSource] = field(default_factory=dict)
    analyses: list[ResolvedAnalysis] = field(default_factory=list)
    generators: list[ResolvedGenerator] = field(default_factory=list)


def _as_dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _a(word: str) -> str:
    """``"an analyzer"``, ``"a source"``."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class _Resolver:
    def __init__(self, data: Mapping[str, Any], registry: Registry, locator: LineLocator | None) -> None:
        self.data = data
        self.registry = registry
        self.locator = locator
        self.issues: list[RecipeIssue] = []

    # ------------------------------------------------------------------ reporting
    def add(self, loc: Loc, message: str) -> None:
        line = self.locator.line(loc) if self.locator is not None else None
        self.issues.append(RecipeIssue(format_path(loc), line, message))

    # ------------------------------------------------------------------ components
    def component(self, entry: Mapping[str, Any], loc: Loc, kinds: tuple[str, ...],
                  section: str) -> ComponentInfo | None:
        cid = entry.get("component")
        if not isinstance(cid, str):
            return None  # the schema check reports a missing or non-string id
        cloc = loc + ("component",)
        words = " or ".join(kinds)
        if cid not in self.registry:
            pool = [i for k in kinds for i in self.registry.ids(k)]
            suggestions = difflib.get_close_matches(cid, pool, n=3, cutoff=0.5)
            exc = UnknownComponentError(cid, suggestions=suggestions, kind=words,
                                        provider=known_providers().get(cid))
            self.add(cloc, str(exc))
            return None
        info = self.registry.get(cid)
        if info.kind not in kinds:
            others = sorted(i for k in kinds for i in self.registry.ids(k))
            self.add(cloc, f"{cid!r} is {_a(info.kind)} component (from the distribution {info.distribution!r}), "
                           f"but {section} needs {_a(words)} component. Installed {words} components: "
                           f"{short_list(others) if others else '(none)'}.")
            return None
        return info

    def params(self, info: ComponentInfo, entry: Mapping[str, Any], loc: Loc,
               defaults: Mapping[str, Any] | None = None,
               default_origin: str = "") -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Validate ``entry["params"]``; return (JSON-ready params, constructor kwargs) or None."""
        raw = entry.get("params")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            return None  # reported by the schema check
        given = dict(raw)
        try:
            model: type[BaseModel] = info.cls.param_model()
        except Exception as exc:
            self.add(loc + ("component",),
                     f"component {info.id!r} has an unusable parameter model ({type(exc).__name__}: {exc}); "
                     f"report this to the maintainers of the distribution {info.distribution!r}.")
            return None
        injected = {}
        for k, v in (defaults or {}).items():
            if k in model.model_fields and k not in given:
                given[k] = v
                injected[k] = v
        try:
            validated = model.model_validate(given)
        except ValidationError as exc:
            allowed = list(model.model_fields)
            for err in exc.errors():
                eloc = tuple(err["loc"])
                msg = pydantic_message(err, allowed=allowed if len(eloc) == 1 else None,
                                       owner=f"the parameters of {info.id!r}", what="parameter")
                if eloc and eloc[0] in injected:
                    msg += (f" The value {injected[eloc[0]]!r} comes from {default_origin}; set "
                            f"params.{eloc[0]} in this entry to override it.")
                self.add(loc + ("params",) + eloc, msg)
            return None
        try:
            dumped = validated.model_dump(mode="json")
        except Exception as exc:
            self.add(loc + ("params",), f"the parameters of {info.id!r} cannot be written as JSON "
                                        f"({type(exc).__name__}: {exc}); task keys need JSON parameters.")
            return None
        kwargs = {k: getattr(validated, k) for k in model.model_fields}
        return dumped, kwargs

    # ------------------------------------------------------------------ sites
    def source_sites(self, name: str, info: ComponentInfo, kwargs: dict[str, Any], loc: Loc) -> list[str] | None:
        try:
            obj = info.cls(**kwargs)
            sites = obj.sites()
        except Exception as exc:
            self.add(loc, f"could not list the sites of source {name!r} ({info.id}): "
                          f"{type(exc).__name__}: {exc}")
            return None
        if not isinstance(sites, (list, tuple)) or not all(isinstance(s, str) for s in sites):
            self.add(loc, f"source {name!r}: {info.id}.sites() returned {sites!r}, expected a list of str; "
                          f"report this to the maintainers of the distribution {info.distribution!r}.")
            return None
        if not sites:
            what = "holds no representations" if info.kind == "dataset" else "has no sites"
            self.add(loc, f"source {name!r} ({info.id}) {what}, so there is nothing to analyse; "
                          "use a component that provides representations.")
            return None
        dups = sorted({s for s in sites if list(sites).count(s) > 1})
        if dups:
            self.add(loc, f"source {name!r} ({info.id}) lists the site(s) {dups} more than once; "
                          f"report this to the maintainers of the distribution {info.distribution!r}.")
            return None
        return list(sites)

    def match(self, sites: Sequence[str], glob: str, loc: Loc, owner: str) -> list[str]:
        hits = [s for s in sites if fnmatchcase(s, glob)]
        if not hits:
            self.add(loc, f"site glob {glob!r} matches none of the sites of {owner}: {short_list(list(sites))}."
                          + did_you_mean(glob, list(sites)))
        return hits

    # ------------------------------------------------------------------ sections
    def stimuli(self) -> dict[str, ResolvedStimuli]:
        out: dict[str, ResolvedStimuli] = {}
        for name, entry in _as_dict(self.data.get("stimuli")).items():
            if not isinstance(entry, dict):
                continue
            loc: Loc = ("stimuli", name)
            info = self.component(entry, loc, ("dataset", "generator"), f"[stimuli.{name}]")
            if info is None:
                continue
            n = entry.get("n")
            ok = True
            if info.kind == "generator" and n is None:
                self.add(loc + ("n",), f"stimuli {name!r} come from the generator {info.id!r}, which needs the "
                                       f"number of stimuli to make: add n = <count> to [stimuli.{name}].")
                ok = False
            elif info.kind == "dataset" and n is not None:
                self.add(loc + ("n",), f"n sets how many stimuli a generator makes; the dataset {info.id!r} "
                                       f"supplies its own stimuli: remove n from [stimuli.{name}].")
                ok = False
            r = self.params(info, entry, loc)
            if r is None or not ok or (n is not None and not _is_int(n)):
                continue
            out[name] = ResolvedStimuli(name, ResolvedComponent(info, r[0]),
                                        n if info.kind == "generator" else None)
        return out

    def generators(self) -> list[ResolvedGenerator]:
        out: list[ResolvedGenerator] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(_as_list(self.data.get("generators"))):
            if not isinstance(entry, dict):
                continue
            loc: Loc = ("generators", i)
            name = entry.get("name")
            dup = False
            if isinstance(name, str):
                if name in seen:
                    self.add(loc + ("name",), f"duplicate generator name {name!r}: generators[{seen[name]}] has "
                                              "it too; give each generator a unique name.")
                    dup = True
                else:
                    seen[name] = i
            info = self.component(entry, loc, ("generator",), f"generators[{i}]")
            if info is None:
                continue
            r = self.params(info, entry, loc)
            n = entry.get("n")
            if r is None or dup or not isinstance(name, str) or not _is_int(n):
                continue
            out.append(ResolvedGenerator(name, ResolvedComponent(info, r[0]), n))
        return out

    def sources(self) -> dict[str, ResolvedSource]:
        out: dict[str, ResolvedSource] = {}
        stimuli_names = list(_as_dict(self.data.get("stimuli")))
        for name, entry in _as_dict(self.data.get("sources")).items():
            if not isinstance(entry, dict):
                continue
            loc: Loc = ("sources", name)
            stim = entry.get("stimuli")
            stim_ok = True
            if isinstance(stim, str) and stim not in stimuli_names:
                known = (f"the recipe defines {short_list(stimuli_names)}" if stimuli_names
                         else "the recipe defines no [stimuli.<name>] tables")
                self.add(loc + ("stimuli",), f"unknown stimuli {stim!r}; {known}." + did_you_mean(stim, stimuli_names))
                stim_ok = False
            info = self.component(entry, loc, ("source", "dataset"), f"[sources.{name}]")
            if info is None:
                continue
            r = self.params(info, entry, loc)
            if r is None:
                continue
            all_sites = self.source_sites(name, info, r[1], loc)
            if all_sites is None:
                continue
            globs = entry.get("sites")
            selected = all_sites
            if isinstance(globs, list) and globs and all(isinstance(g, str) for g in globs):
                hit: set[str] = set()
                for k, g in enumerate(globs):
                    hit.update(self.match(all_sites, g, loc + ("sites", k), f"source {name!r} ({info.id})"))
                selected = [s for s in all_sites if s in hit]
                if not selected:
                    continue
            if not stim_ok:
                continue
            out[name] = ResolvedSource(name, ResolvedComponent(info, r[0]),
                                       stim if isinstance(stim, str) else None, tuple(selected))
        return out

    def analyses(self, sources: dict[str, ResolvedSource], align: str) -> list[ResolvedAnalysis]:
        out: list[ResolvedAnalysis] = []
        seen: dict[str, int] = {}
        source_names = list(_as_dict(self.data.get("sources")))
        for i, entry in enumerate(_as_list(self.data.get("analyses"))):
            if not isinstance(entry, dict):
                continue
            loc: Loc = ("analyses", i)
            ok = True
            name = entry.get("name")
            if isinstance(name, str):
                if name in seen:
                    self.add(loc + ("name",), f"duplicate analysis name {name!r}: analyses[{seen[name]}] has it "
                                              "too; give each analysis a unique name.")
                    ok = False
                else:
                    seen[name] = i
            else:
                ok = False
            info = self.component(entry, loc, ("analyzer",), f"analyses[{i}]")
            r = None
            if info is not None:
                r = self.params(info, entry, loc, defaults={"align": align},
                                default_origin=f"[recipe] align = {align!r}")
            transforms: list[ResolvedComponent] = []
            for j, t in enumerate(_as_list(entry.get("transforms"))):
                if not isinstance(t, dict):
                    ok = False
                    continue
                tloc = loc + ("transforms", j)
                tinfo = self.component(t, tloc, ("transform",), f"analyses[{i}].transforms[{j}]")
                tr = self.params(tinfo, t, tloc) if tinfo is not None else None
                if tinfo is None or tr is None:
                    ok = False
                    continue
                transforms.append(ResolvedComponent(tinfo, tr[0]))

            raw_inputs = entry.get("inputs")
            if (not isinstance(raw_inputs, list) or not 1 <= len(raw_inputs) <= 2
                    or not all(isinstance(x, str) for x in raw_inputs)):
                continue  # reported by the schema check
            inputs: list[tuple[str, list[str]] | None] = []
            for j, spec in enumerate(raw_inputs):
                jloc = loc + ("inputs", j)
                src, sep, glob = spec.partition(":")
                if src not in source_names:
                    known = (f"the recipe defines {short_list(source_names)}" if source_names
                             else "the recipe defines no sources")
                    self.add(jloc, f"unknown source {src!r}; {known}." + did_you_mean(src, source_names)
                             + " An input is 'source' or 'source:site-glob'.")
                    inputs.append(None)
                    continue
                if sep and not glob:
                    self.add(jloc, f"empty site glob in {spec!r}; write {src!r} for all its sites, or "
                                   f"'{src}:<glob>' (e.g. '{src}:layer*').")
                    inputs.append(None)
                    continue
                rs = sources.get(src)
                if rs is None:  # the source itself has an error, reported on sources.<name>
                    inputs.append(None)
                    continue
                sites = list(rs.sites)
                if glob:
                    sites = self.match(sites, glob, jloc, f"source {src!r} (after its own sites selection)")
                    if not sites:
                        inputs.append(None)
                        continue
                inputs.append((src, sites))

            pairing = entry.get("pairing", "product")
            if pairing is None:
                pairing = "product"
            stack = entry.get("stack", "none") or "none"
            if info is None or pairing not in _PAIRINGS or stack not in _STACKS:
                continue
            n_in = getattr(info.cls, "n_inputs", 2)
            if not self.arity_ok(info.id, n_in, raw_inputs, pairing, loc):
                continue
            if not self.stack_ok(info.id, stack, raw_inputs, pairing, loc):
                continue
            if r is None or not ok or any(x is None for x in inputs):
                continue
            for j in ((0,) if stack == "x" else (1,) if stack == "y" else (0, 1) if stack == "both" else ()):
                src, sites = inputs[j]
                glob = raw_inputs[j].partition(":")[2] or "*"
                inputs[j] = (src, [StackedSites(sites, f"stack({glob})")])
            pairs = self.pairs([x for x in inputs if x is not None], raw_inputs, pairing, n_in, loc)
            if pairs is None:
                continue
            out.append(ResolvedAnalysis(name, ResolvedComponent(info, r[0]), pairing, tuple(transforms),
                                        tuple(pairs)))
        return out

    def arity_ok(self, cid: str, n_in: int, raw_inputs: list[str], pairing: str, loc: Loc) -> bool:
        k = len(raw_inputs)
        if n_in == 1:
            if k != 1:
                self.add(loc + ("inputs",), f"{cid!r} analyses one input at a time (n_inputs = 1), but inputs has "
                                            f"{k} entries {raw_inputs}; give one input ('source' or 'source:glob').")
                return False
            if pairing != "product":
                self.add(loc + ("pairing",), f"pairing {pairing!r} pairs the sites of two inputs, but {cid!r} takes "
                                             "one input (n_inputs = 1) and runs once per site: remove pairing.")
                return False
            return True
        if pairing == "within":
            if k != 1:
                self.add(loc + ("pairing",), f"pairing 'within' compares every pair of sites of ONE source, but "
                                             f"inputs has {k} entries {raw_inputs}; give one input, or use "
                                             "pairing = \"product\" or \"matched\" to compare two sources.")
                return False
            return True
        if k != 2:
            self.add(loc + ("inputs",), f"{cid!r} compares two inputs (n_inputs = 2), but inputs has 1 entry "
                                        f"{raw_inputs}; add a second input, or set pairing = \"within\" to compare "
                                        f"every pair of sites of {raw_inputs[0]!r}.")
            return False
        return True

    def stack_ok(self, cid: str, stack: str, raw_inputs: list[str], pairing: str, loc: Loc) -> bool:
        if stack == "none":
            return True
        if stack in ("y", "both") and len(raw_inputs) < 2:
            self.add(loc + ("stack",), f"stack {stack!r} stacks the sites of the second input, but inputs has "
                                       f"{len(raw_inputs)} entry {raw_inputs}; use stack = \"x\".")
            return False
        if pairing != "product":
            self.add(loc + ("stack",), f"stack {stack!r} gives {cid!r} all selected sites of an input at once, so "
                                       f"there is nothing to pair by {pairing!r}: remove pairing, or remove stack.")
            return False
        return True

    def pairs(self, inputs: list[tuple[str, list[str]]], raw_inputs: list[str], pairing: str, n_in: int,
              loc: Loc) -> list[tuple[SiteRef, ...]] | None:
        if n_in == 1:
            src, sites = inputs[0]
            return [((src, s),) for s in sites]
        if pairing == "within":
            src, sites = inputs[0]
            return [((src, a), (src, b)) for k, a in enumerate(sites) for b in sites[k:]]
        (s1, sites1), (s2, sites2) = inputs
        if pairing == "product":
            return [((s1, a), (s2, b)) for a in sites1 for b in sites2]
        only1 = [s for s in sites1 if s not in set(sites2)]
        only2 = [s for s in sites2 if s not in set(sites1)]
        if only1 or only2:
            self.add(loc + ("pairing",),
                     f"pairing 'matched' pairs sites that have the same name, but the site names differ: only in "
                     f"{raw_inputs[0]!r}: {short_list(only1)}; only in {raw_inputs[1]!r}: {short_list(only2)}. "
                     "Restrict the inputs to common sites with 'source:glob', or use pairing = \"product\".")
            return None
        return [((s1, a), (s2, a)) for a in sites1]

    # ------------------------------------------------------------------ all
    def run(self) -> ResolvedRecipe:
        meta = _as_dict(self.data.get("recipe"))
        align = meta.get("align")
        if align is None or align not in _ALIGN_MODES:
            align = "reorder"
        seed = meta.get("seed")
        stimuli = self.stimuli()
        generators = self.generators()
        sources = self.sources()
        analyses = self.analyses(sources, align)
        return ResolvedRecipe(
            name=str(meta.get("name", "")), description=str(meta.get("description") or ""),
            seed=seed if _is_int(seed) else None, align=align, report=dict(_as_dict(self.data.get("report"))),
            store_dtype=meta.get("store_dtype") if meta.get("store_dtype") in ("float32", "float16") else None,
            stimuli=stimuli, sources=sources, analyses=analyses, generators=generators)


def resolve(data: Mapping[str, Any], registry: Registry,
            locator: LineLocator | None = None) -> tuple[ResolvedRecipe, list[RecipeIssue]]:
    """Check ``data`` (a recipe as plain dicts) against ``registry``.

    Parameters
    ----------
    data : mapping
        The recipe: ``Recipe.model_dump()``, or the raw TOML data when the schema check
        failed (malformed parts are skipped, their errors come from the schema check).
    registry : Registry
    locator : LineLocator, optional
        Gives each issue its line in the TOML text.

    Returns
    -------
    resolved : ResolvedRecipe
        Complete only when ``issues`` is empty.
    issues : list of RecipeIssue
    """
    r = _Resolver(data, registry, locator)
    resolved = r.run()
    return resolved, r.issues
