"""How one claim cycle shares its budget: equally between projects with due work, then equally
between each project's apps, leftovers to whoever could use more. A rotating start means that
when there are more apps than budget, every app still gets its turn (deficit round-robin in
spirit: nobody's backlog, however large, buys it more than its share)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


def fair_shares(apps: Sequence[tuple[str, str]], budget: int, start: int = 0) -> dict[str, int]:
    """``apps``: (project id, app id) pairs. Returns the number of messages each app may claim
    in this cycle; the shares add up to at most ``budget``."""
    if not apps or budget <= 0:
        return {}
    turn = start % len(apps)
    ordered = [*apps[turn:], *apps[:turn]]
    by_project: dict[str, list[str]] = defaultdict(list)
    for project_id, app_id in ordered:
        by_project[project_id].append(app_id)
    per_project = max(1, budget // len(by_project))
    shares: dict[str, int] = {}
    left = budget
    for app_ids in by_project.values():
        per_app = max(1, per_project // len(app_ids))
        for app_id in app_ids:
            if left <= 0:
                return shares
            shares[app_id] = min(per_app, left)
            left -= shares[app_id]
    return shares


def leftovers(shares: dict[str, int], claimed: dict[str, int], left: int) -> dict[str, int]:
    """A second helping from what apps with less due work did not use: split among the apps that
    took their whole share (they may have more)."""
    hungry = [app for app, share in shares.items() if claimed.get(app, 0) >= share]
    if not hungry or left <= 0:
        return {}
    each = max(1, left // len(hungry))
    extra: dict[str, int] = {}
    for app in hungry:
        if left <= 0:
            break
        extra[app] = min(each, left)
        left -= extra[app]
    return extra
