"""Expansion of a resolved recipe into a :class:`neurorep.tasks.Plan`.

Keys are content-addressed with :func:`neurorep.tasks.task_key` and depend only on what
determines a task's output:

* ``generate``: component id, version, validated params, ``n`` and the recipe seed
  (handed to ``generate(n, random_state=seed)``);
* ``source``: component id, version, validated params, the stimuli (the generate task's
  key, or the stimulus dataset's id, version and params) and the selected sites;
* ``analysis``: the analysis name, component id, version, validated params, the
  transforms (id, version, params, in order) and the ``(source task key, site)`` of
  each input.

The analysis name is part of an analysis key so that two analyses that overlap (say a
``product`` and a ``matched`` analysis of the same sources) each keep their own tasks
and result rows; analysis keys are therefore unique within a plan. Other names (of
sources and stimuli), comments, key order and the module a component lives in do not
enter keys, so reformatting a recipe keeps its whole cache and renaming a source keeps
the stored representations. Generate or source entries that produce identical keys are
one task (the first entry's name is kept).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from ..tasks import Plan, Task, task_key
from .resolve import ResolvedComponent, ResolvedRecipe, StackedSites

__all__ = ["build_plan"]


def _generate_key(comp: ResolvedComponent, n: int, seed: int | None) -> str:
    return task_key("generate", comp.id, comp.version, comp.params, n, seed)


def build_plan(resolved: ResolvedRecipe, text: str) -> Plan:
    """Turn a resolved recipe into tasks in dependency order (generate, source, analysis).

    Parameters
    ----------
    resolved : ResolvedRecipe
        The output of :func:`neurorep.recipes.resolve.resolve` with no issues.
    text : str
        The recipe text, stored in the plan and hashed into ``Plan.recipe_hash``.
    """
    seed = resolved.seed
    tasks: list[Task] = []
    seen: set[str] = set()

    def add(task: Task) -> None:
        if task.key not in seen:
            seen.add(task.key)
            tasks.append(task)

    # ---------------------------------------------------------------- generate
    for g in resolved.generators:
        c = g.component
        add(Task(key=_generate_key(c, g.n, seed), kind="generate", name=g.name, component_id=c.id,
                 component_version=c.version, component_ref=c.ref, params=copy.deepcopy(c.params),
                 inputs=({"n": g.n},), labels={"generator": g.name, "n": g.n}, seed=seed))
    stimuli_keys: dict[str, str] = {}
    for name, st in resolved.stimuli.items():
        c = st.component
        if c.kind != "generator" or st.n is None:
            continue
        key = _generate_key(c, st.n, seed)
        stimuli_keys[name] = key
        add(Task(key=key, kind="generate", name=name, component_id=c.id, component_version=c.version,
                 component_ref=c.ref, params=copy.deepcopy(c.params), inputs=({"n": st.n},),
                 labels={"stimuli": name, "n": st.n}, seed=seed))

    # ---------------------------------------------------------------- sources
    source_keys: dict[str, str] = {}
    for name, src in resolved.sources.items():
        c = src.component
        inputs: tuple[dict[str, Any], ...] = ()
        depends: tuple[str, ...] = ()
        stim_fp: dict[str, Any] | None = None
        if src.stimuli is not None:
            st = resolved.stimuli[src.stimuli]
            gkey = stimuli_keys.get(src.stimuli)
            stim_fp = {"generate": gkey} if gkey is not None else st.component.fingerprint()
            inputs = ({"stimuli": src.stimuli, "task": gkey, "kind": st.component.kind,
                       "component_id": st.component.id, "component_ref": st.component.ref,
                       "version": st.component.version, "params": copy.deepcopy(st.component.params),
                       "n": st.n},)
            depends = (gkey,) if gkey is not None else ()
        key = task_key("source", c.id, c.version, c.params, stim_fp, list(src.sites))
        source_keys[name] = key
        add(Task(key=key, kind="source", name=name, component_id=c.id, component_version=c.version,
                 component_ref=c.ref, params=copy.deepcopy(c.params), depends_on=depends, inputs=inputs,
                 sites=src.sites, labels={"source": name}, seed=seed))

    # ---------------------------------------------------------------- analyses
    for a in resolved.analyses:
        c = a.component
        transforms = tuple(t.as_task_dict() for t in a.transforms)
        transforms_fp = [t.fingerprint() for t in a.transforms]
        for pair in a.pairs:
            key = task_key("analysis", a.name, c.id, c.version, c.params, transforms_fp,
                           [[source_keys[s], list(site.sites) if isinstance(site, StackedSites) else site]
                            for s, site in pair])
            depends = tuple(dict.fromkeys(source_keys[s] for s, _ in pair))
            labels = {"analysis": a.name, "x": f"{pair[0][0]}:{pair[0][1]}",
                      "y": f"{pair[1][0]}:{pair[1][1]}" if len(pair) == 2 else None}
            add(Task(key=key, kind="analysis", name=a.name, component_id=c.id, component_version=c.version,
                     component_ref=c.ref, params=copy.deepcopy(c.params), depends_on=depends,
                     inputs=tuple({"source": s, "site": str(site), "task": source_keys[s],
                                   **({"sites": list(site.sites)} if isinstance(site, StackedSites) else {})}
                                  for s, site in pair),
                     transforms=copy.deepcopy(transforms), labels=labels, seed=seed))

    options = {
        "seed": seed,
        "description": resolved.description,
        "align": resolved.align,
        "report": copy.deepcopy(resolved.report),
        "store": {"dtype": resolved.store_dtype},
        "stimuli": {
            name: {"kind": st.component.kind, "component_id": st.component.id,
                   "component_ref": st.component.ref, "version": st.component.version,
                   "params": copy.deepcopy(st.component.params), "n": st.n, "task": stimuli_keys.get(name)}
            for name, st in resolved.stimuli.items()
        },
    }
    return Plan(recipe_name=resolved.name, recipe_text=text,
                recipe_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), tasks=tasks, options=options)
