from portal.core.notifications import Notification, Reminder, ReminderSent, run_reminders
from portal.core.registry import REMINDER_CHECKS, register_reminder_check


def test_each_reminder_is_sent_once_even_when_run_twice(db, world, app):
    def check(now):
        yield Reminder(key="test:1:overdue", users=[world.unit, world.finance], title="测试事项已逾期", link="/x")
        yield Reminder(key="test:2:due", users=[world.unit], title="测试事项即将到期")

    register_reminder_check("test", check)
    try:
        first = run_reminders()
        second = run_reminders()
        result = app.test_cli_runner().invoke(args=["reminders", "run"])
    finally:
        REMINDER_CHECKS.pop("test")
    assert first["test"] == 2 and second["test"] == 0
    assert "test: 0" in result.output
    # (other modules' checks may remind too, e.g. the November holiday-table reminder: count this one's)
    assert db.session.query(ReminderSent).filter(ReminderSent.key.like("test:%")).count() == 2
    titles = sorted(n.title for n in db.session.query(Notification).all() if n.title.startswith("测试"))
    assert titles == ["测试事项即将到期", "测试事项已逾期", "测试事项已逾期"]
