"""Build small task plans by hand (the way the recipe expansion does) for runner tests."""

from __future__ import annotations

import hashlib
from typing import Any

from neurorep.tasks import Plan, Task, task_key


def ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def source_task(name: str, cls: type, params: dict[str, Any] | None = None, *, sites: list[str] | None = None,
                stimuli: dict[str, Any] | None = None, seed: int | None = 0) -> Task:
    params = dict(params or {})
    comp = cls.from_params(params)
    site_list = tuple(sites if sites is not None else comp.sites())
    inputs = (stimuli,) if stimuli else ()
    key = task_key("source", cls.id, cls.version, comp.get_params(), [dict(i) for i in inputs], list(site_list))
    return Task(key=key, kind="source", name=name, component_id=cls.id, component_version=cls.version,
                component_ref=ref(cls), params=comp.get_params(), depends_on=tuple(i["task"] for i in inputs
                                                                                    if i.get("task")),
                inputs=inputs, sites=site_list, labels={"source": name}, seed=seed)


def generate_task(name: str, cls: type, n: int, params: dict[str, Any] | None = None, seed: int | None = 0) -> Task:
    comp = cls.from_params(params or {})
    key = task_key("generate", cls.id, cls.version, comp.get_params(), n, seed)
    return Task(key=key, kind="generate", name=name, component_id=cls.id, component_version=cls.version,
                component_ref=ref(cls), params=comp.get_params(), labels={"n": n}, seed=seed)


def analysis_tasks(name: str, cls: type, params: dict[str, Any] | None, x: Task, y: Task | None = None, *,
                   pairing: str = "product", transforms: list[tuple[type, dict[str, Any]]] = ()) -> list[Task]:
    """One task per site (pair): product of x's and y's sites, or 'within' x's sites (i <= j), or one input."""
    comp = cls.from_params(params or {})
    tr = tuple({"component_id": c.id, "component_ref": ref(c), "version": c.version,
                "params": c.from_params(p).get_params()} for c, p in transforms)
    if y is None and cls.n_inputs == 1:
        pairs = [((x, s),) for s in x.sites]
    elif y is None and pairing == "within":
        pairs = [((x, a), (x, b)) for i, a in enumerate(x.sites) for b in x.sites[i:]]
    else:
        assert y is not None
        pairs = [((x, a), (y, b)) for a in x.sites for b in y.sites]
    tasks = []
    for pair in pairs:
        inputs = tuple({"source": t.name, "site": s, "task": t.key} for t, s in pair)
        key = task_key("analysis", cls.id, cls.version, comp.get_params(), [dict(t) for t in tr],
                       [(t.key, s) for t, s in pair])
        labels = {"analysis": name, "x": f"{pair[0][0].name}:{pair[0][1]}",
                  "y": f"{pair[1][0].name}:{pair[1][1]}" if len(pair) > 1 else None}
        tasks.append(Task(key=key, kind="analysis", name=name, component_id=cls.id, component_version=cls.version,
                          component_ref=ref(cls), params=comp.get_params(),
                          depends_on=tuple(dict.fromkeys(t.key for t, _ in pair)), inputs=inputs, transforms=tr,
                          labels=labels, seed=x.seed))
    return tasks


def make_plan(name: str, tasks: list[Task], options: dict[str, Any] | None = None, text: str | None = None) -> Plan:
    text = text if text is not None else f'[recipe]\nname = "{name}"\n# hand-built plan\n'
    return Plan(recipe_name=name, recipe_text=text, recipe_hash=hashlib.sha256(text.encode()).hexdigest(),
                tasks=tasks, options=dict(options or {}))


def comparable(df):
    """Results without the columns that differ between fresh, cached and resumed runs, sorted by task key."""
    from neurorep.runner import VOLATILE_COLUMNS

    return df.drop(columns=list(VOLATILE_COLUMNS)).sort_values(["task_key", "row"]).reset_index(drop=True)
