"""State machines as data: one transition table per workflow.

    LETTER = StateMachine("inquiry", [
        Transition("submit", {DRAFT}, PENDING, who=is_drafter, label="提交签发"),
        ...
    ])
    LETTER.apply(letter, "submit", actor=user, comment="...")

Each transition names its source states, its target, and a predicate `who(user, record)`
that says who may make it. Applying a transition checks both, changes the state and writes
an audit entry (who, when, from, to, comment), so the record's history is its audit trail.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from portal.core.errors import IllegalTransition, NotPermitted

Predicate = Callable[[object, object], bool]

# Every state machine by name (portal/core/events.py labels their transitions' audit entries).
MACHINES: dict[str, StateMachine] = {}


def anyone(_user, _record) -> bool:
    return True


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    target: object
    who: Predicate = anyone
    label: str = ""
    needs_comment: bool = False

    def __init__(self, action, sources: Iterable, target, who: Predicate = anyone, label: str = "",
                 needs_comment: bool = False):
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "sources", frozenset(sources))
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "who", who)
        object.__setattr__(self, "label", label or action)
        object.__setattr__(self, "needs_comment", needs_comment)


@dataclass
class StateMachine:
    name: str
    transitions: list[Transition]
    state_attr: str = "state"
    _by_action: dict = field(init=False, repr=False)

    def __post_init__(self):
        self._by_action = {}
        MACHINES[self.name] = self
        for t in self.transitions:
            self._by_action.setdefault(t.action, []).append(t)

    def state_of(self, record):
        return getattr(record, self.state_attr)

    def find(self, record, action: str) -> Transition:
        state = self.state_of(record)
        for t in self._by_action.get(action, []):
            if state in t.sources:
                return t
        raise IllegalTransition(
            _("当前状态（%(state)s）不能执行“%(action)s”。", state=getattr(state, "label", state),
              action=self._label(action))
        )

    def _label(self, action: str) -> str:
        options = self._by_action.get(action)
        return _(options[0].label) if options else action

    def allowed(self, record, action: str, user) -> bool:
        try:
            t = self.find(record, action)
        except IllegalTransition:
            return False
        return bool(t.who(user, record))

    def available(self, record, user) -> list[Transition]:
        state = self.state_of(record)
        return [t for t in self.transitions if state in t.sources and t.who(user, record)]

    def apply(self, record, action: str, *, actor, comment: str | None = None, expected_state=None,
              audit: bool = True) -> Transition:
        """Move `record` along `action`: take the record's row lock, then check the state it has
        now (so two concurrent requests cannot both make the move). `expected_state` guards
        against stale forms."""
        from portal.core.writes import lock

        lock(record)
        state = self.state_of(record)
        if expected_state is not None and str(expected_state) != str(state):
            from portal.core.errors import StaleRecord

            raise StaleRecord(_("该记录已被他人处理，当前状态为“%(state)s”，请刷新后重试。",
                                state=getattr(state, "label", state)))
        t = self.find(record, action)
        if not t.who(actor, record):
            raise NotPermitted(_("您无权执行“%(action)s”。", action=_(t.label)))
        if t.needs_comment and not (comment or "").strip():
            raise IllegalTransition(_("“%(action)s”需要填写理由。", action=_(t.label)))
        setattr(record, self.state_attr, t.target)
        if audit:
            from portal.core.audit import record_change

            moved = t.target != state  # a step that keeps the state logs the act, not a fake change
            record_change(actor, f"{self.name}.{action}", record,
                          before={self.state_attr: str(state)} if moved else None,
                          after={self.state_attr: str(t.target)} if moved else None, comment=comment)
        return t
