"""Reordering a sequence on PostgreSQL: people moving, adding and deleting shots at the same
moment still leave positions 0, 1, 2… with no gap or twin (the sequence's row lock)."""

from functools import partial

from generations.sequences import services as sequences
from generations.sequences.models import Shot


def test_simultaneous_changes_keep_a_gapless_order(run_concurrently, project, editor):
    sequence = sequences.sequence_create(project=project, user=editor, title="Music video")
    shots = [
        sequences.shot_add(sequence=sequence, user=editor, title=f"Shot {n}") for n in range(8)
    ]
    # Each contender holds the shot as it read it, before any of the others moved.
    changes = [partial(sequences.shot_move, shot=shots[n], to=(n * 3) % 8) for n in range(5)]
    changes.append(partial(sequences.shot_delete, shot=shots[6]))
    changes += [
        partial(sequences.shot_add, sequence=sequence, user=editor, title=f"New {n}")
        for n in range(3)
    ]
    run_concurrently(*changes)
    positions = sorted(Shot.objects.filter(sequence=sequence).values_list("position", flat=True))
    assert positions == list(range(10))  # 8 - 1 + 3, numbered without a gap or a twin
