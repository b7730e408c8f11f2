"""The token engine on its own: parallel branches, joins, conditions, scripts, countersigns."""

import pytest

from tongban.workflow import bpmn, engine

from .bpmn_samples import COUNTERSIGN, EXCLUSIVE, PARALLEL


class Instance:
    """A minimal in-memory holder of what the persistence layer keeps per instance."""

    def __init__(self, xml, data=None):
        self.graph = bpmn.parse_one(xml)
        self.data = dict(data or {})
        effects, self.joins = engine.start(self.graph, self.data)
        self.waiting: list[str] = []
        self.tokens = 0
        self.ended = False
        self.apply(effects)

    def apply(self, effects):
        self.data.update(effects.data)
        self.waiting += [w.node.id for w in effects.work]
        self.tokens += effects.token_delta
        self.ended = self.tokens == 0

    def complete(self, node_id, decision=""):
        self.waiting.remove(node_id)
        self.apply(engine.leave(self.graph, node_id, self.data, self.joins, decision))


def test_parallel_branches_wait_for_each_other_at_the_join():
    case = Instance(PARALLEL)
    assert case.waiting == ["accept"] and case.tokens == 1
    case.complete("accept")
    assert sorted(case.waiting) == ["reg", "seal", "tax"] and case.tokens == 3
    case.complete("seal")
    assert case.joins == {"join": 1} and case.tokens == 3  # one token waits at the join
    case.complete("reg")
    assert "issue" not in case.waiting and case.joins == {"join": 2}
    case.complete("tax")
    assert case.waiting == ["issue"] and case.joins == {} and case.tokens == 1
    case.complete("issue")
    assert case.ended and case.tokens == 0


@pytest.mark.parametrize(
    "data,expected",
    [
        ({"area": 800}, ["head"]),
        ({"area": 100, "risk": "high"}, ["head"]),
        ({"area": 100}, []),  # the default flow skips the head's review
    ],
)
def test_exclusive_gateway_follows_case_data(data, expected):
    case = Instance(EXCLUSIVE, data)
    case.complete("review", "approve")
    assert case.waiting == expected
    assert case.data["review_decision"] == "approve"
    if expected:
        assert not case.ended
        case.complete("head", "approve")
    assert case.ended and case.data["decided"] is True  # set by the registered script task


def test_no_branch_applies_is_an_error_that_names_the_gateway():
    case = Instance(COUNTERSIGN, {"signers": ["a", "b"]})
    with pytest.raises(engine.ProcessError) as exc:
        case.complete("sign", "maybe")
    assert exc.value.node_id == "gate"
    # A domain conflict, answered with the reason in both languages (a 500 before; bpmn helper's note).
    from tongban.core.errors import Conflict

    assert isinstance(exc.value, Conflict) and exc.value.status == 409
    message = exc.value.as_dict()["message"]
    assert "gate" in message["zh-Hans"] and "gate" in message["en"] and message["zh-Hans"] != message["en"]


def test_multi_instance_work_lists_the_countersigners():
    effects, _joins = engine.start(bpmn.parse_one(COUNTERSIGN), {"signers": "zhao, qian ,sun"})
    assert effects.work[0].assignees == ["zhao", "qian", "sun"] and effects.token_delta == 1
    with pytest.raises(engine.ProcessError):
        engine.start(bpmn.parse_one(COUNTERSIGN), {"signers": []})


@pytest.mark.parametrize(
    "rule,total,approvals,rejections,outcome",
    [
        ("all", 3, 3, 0, "approve"),
        ("all", 3, 2, 0, None),
        ("all", 3, 2, 1, "reject"),
        ("any", 3, 1, 0, "approve"),
        ("any", 3, 0, 2, None),
        ("any", 3, 0, 3, "reject"),
        ("2", 3, 2, 0, "approve"),
        ("2", 3, 1, 1, None),
        ("2", 3, 1, 2, "reject"),
        ("5", 3, 3, 0, "approve"),  # more than there are signers: all of them
    ],
)
def test_countersign_outcomes(rule, total, approvals, rejections, outcome):
    assert engine.countersign_outcome(rule, total, approvals, rejections) == outcome
