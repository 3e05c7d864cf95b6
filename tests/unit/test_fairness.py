"""How a claim cycle's budget is shared between projects and apps."""

from convbatch.engine.fairness import fair_shares, leftovers


def test_projects_share_equally_whatever_their_number_of_apps():
    apps = [("big", "a1"), ("big", "a2"), ("big", "a3"), ("small", "b1")]
    shares = fair_shares(apps, 600)
    assert shares["b1"] == 300
    assert shares["a1"] + shares["a2"] + shares["a3"] == 300
    assert sum(shares.values()) <= 600


def test_more_apps_than_budget_take_turns():
    apps = [("p", f"a{i}") for i in range(10)]
    served = set()
    for turn in range(5):
        shares = fair_shares(apps, 2, start=turn * 2)
        assert sum(shares.values()) == 2
        served |= set(shares)
    assert served == {f"a{i}" for i in range(10)}


def test_leftovers_go_to_apps_that_used_their_whole_share():
    shares = {"a": 250, "b": 250}
    extra = leftovers(shares, {"a": 1, "b": 250}, left=249)
    assert extra == {"b": 249}
    assert leftovers(shares, {"a": 1, "b": 3}, left=496) == {}


def test_nothing_to_share():
    assert fair_shares([], 100) == {}
    assert fair_shares([("p", "a")], 0) == {}
