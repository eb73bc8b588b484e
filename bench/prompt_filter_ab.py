"""The gallery's prompt filter before and after 82008a0, timed side by side in one process.

    .venv/bin/python bench/prompt_filter_ab.py

Seeds the gallery benchmark's project (200 prompts) in a temp SQLite database and renders
the old select (model instances, `stringformat` per option) and the new one (plain pairs)
alternately, 40 times each; prints the median and p95 CPU time of each. Not run by
`make bench` (it measures one change, not the app).
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

OLD = (
    '{% for p in prompts %}<option value="{{ p.uuid }}"{% if filters.prompt == '
    'p.uuid|stringformat:"s" %} selected{% endif %}>{{ p.title }}</option>{% endfor %}'
)
NEW = (
    '{% for value, title in prompts %}<option value="{{ value }}"{% if filters.prompt == '
    "value %} selected{% endif %}>{{ title }}</option>{% endfor %}"
)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
        _common.django_setup(_common.base_env(Path(tmp) / "var"))
        import gallery_bench
        from django.core.management import call_command
        from django.template import engines

        from generations.prompts.models import Prompt

        call_command("migrate", verbosity=0)
        project = gallery_bench._World().project
        engine = engines["django"]
        old, new = engine.from_string(OLD), engine.from_string(NEW)

        def before():
            prompts = Prompt.objects.filter(project=project).only("uuid", "title")
            return old.render({"prompts": prompts, "filters": {}})

        def after():
            pairs = Prompt.objects.filter(project=project).values_list("uuid", "title")
            return new.render({"prompts": [(str(u), t) for u, t in pairs], "filters": {}})

        assert before() == after()
        times = {"before": [], "after": []}
        for _ in range(40):
            for name, render in (("before", before), ("after", after)):
                start = time.process_time()
                render()
                times[name].append((time.process_time() - start) * 1000)
    print(f"machine: {_common.machine()}")
    rows = [
        [name, f"{_common.median(v):.1f}", f"{_common.p95(v):.1f}"] for name, v in times.items()
    ]
    print(_common.table(["prompt filter, 200 prompts", "median CPU ms", "p95 CPU ms"], rows))


if __name__ == "__main__":
    main()
