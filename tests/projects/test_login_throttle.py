"""One sign-in throttle at every entrance: the site login, the admin login and the old
password of a password change. A username locked at one is locked at all of them."""
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from projects import throttle
from projects.models import LoginFailure

PASSWORD = "pw-for-tests-1"  # the role_users fixture's password
NEW_PASSWORD = "Qiantang-new-2026"
START = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
LOCKED = "登录失败次数过多，请15分钟后再试。"


@pytest.fixture(autouse=True)
def throttle_settings(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_WINDOW = 900


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


# Each entrance tries one password for a user from a fresh browser and says whether it
# let them in: a session for the sign-ins, a changed password for the password change.

def at_site(user, password):
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": password})
    return response, "_auth_user_id" in client.session


def at_admin(user, password):
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": password, "next": "/admin/"}
    )
    return response, "_auth_user_id" in client.session


def at_password_change(user, password):
    client = Client()
    client.force_login(user)  # a session left open: the old password is still asked
    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    changed = user.check_password(NEW_PASSWORD)
    if changed:  # put it back, so the next attempt starts from the same password
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return response, changed


ENTRANCES = {"site": at_site, "admin": at_admin, "password_change": at_password_change}


def fail(entrance, user, times):
    for _ in range(times):
        response, let_in = ENTRANCES[entrance](user, "wrong")
        assert response.status_code == 200 and not let_in


def assert_refused_as_locked(entrance, user):
    response, let_in = ENTRANCES[entrance](user, PASSWORD)  # the right password, too late
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert not let_in


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("chief", password=PASSWORD)


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_five_wrong_passwords_then_the_right_one_is_refused(entrance, role_users, clock):
    # office is staff, so it may use the admin login as well as the others.
    fail(entrance, role_users["office"], 5)
    assert_refused_as_locked(entrance, role_users["office"])


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_four_wrong_passwords_then_the_right_one_lets_in_and_starts_afresh(entrance, role_users, clock):
    fail(entrance, role_users["office"], 4)
    response, let_in = ENTRANCES[entrance](role_users["office"], PASSWORD)
    assert response.status_code == 302 and let_in
    assert not LoginFailure.objects.filter(username="office").exists()


def test_a_superuser_is_locked_at_the_admin_like_anyone(superuser, clock):
    fail("admin", superuser, 5)
    assert_refused_as_locked("admin", superuser)
    assert_refused_as_locked("site", superuser)


def test_a_superuser_signs_in_at_the_admin_when_not_locked(superuser, clock):
    response, let_in = at_admin(superuser, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/" and let_in


@pytest.mark.parametrize("locked_at", ENTRANCES)
@pytest.mark.parametrize("tried_at", ENTRANCES)
def test_a_lock_made_at_one_entrance_holds_at_the_others(locked_at, tried_at, role_users, clock):
    fail(locked_at, role_users["office"], 5)
    assert_refused_as_locked(tried_at, role_users["office"])


def test_failures_at_different_entrances_add_up(role_users, clock):
    fail("site", role_users["office"], 2)
    fail("admin", role_users["office"], 2)
    fail("password_change", role_users["office"], 1)
    assert_refused_as_locked("admin", role_users["office"])


def test_the_admin_lock_ignores_the_case_of_the_username(role_users, clock):
    for spelling in ["OFFICE", "Office", "oFFice", "office", "OFFICE"]:
        Client().post(reverse("admin:login"), {"username": spelling, "password": "wrong"})
    assert_refused_as_locked("site", role_users["office"])


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_the_lock_lifts_when_the_window_has_passed(entrance, role_users, clock):
    fail(entrance, role_users["office"], 5)
    assert_refused_as_locked(entrance, role_users["office"])
    clock.move_to(START + timedelta(minutes=16))
    response, let_in = ENTRANCES[entrance](role_users["office"], PASSWORD)
    assert response.status_code == 302 and let_in


def test_the_admin_still_refuses_a_non_staff_user_with_the_right_password(role_users, clock):
    response, let_in = at_admin(role_users["cadre1"], PASSWORD)
    assert response.status_code == 200 and not let_in
    assert LOCKED not in response.content.decode()
    # A right password is not a guess: the refusal is not counted against cadre1.
    assert not LoginFailure.objects.filter(username="cadre1").exists()
    assert at_site(role_users["cadre1"], PASSWORD)[1]


def test_a_wrong_old_password_counts_for_the_user_and_is_told_as_before(role_users, clock):
    response, changed = at_password_change(role_users["cadre1"], "wrong")
    assert response.status_code == 200 and not changed
    assert "password_incorrect" in [e.code for e in response.context["form"].errors.as_data()["old_password"]]
    assert LoginFailure.objects.filter(username="cadre1").count() == 1


def test_the_lock_reads_in_english_for_a_user_who_chose_english(role_users, clock):
    fail("admin", role_users["office"], 5)
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("admin:login"), {"username": "office", "password": PASSWORD})
    assert "Too many failed logins. Please try again in 15 minutes." in response.content.decode()


# serialized_rollback like the suite's other transactional tests: a plain flush re-runs the
# post_migrate receivers (role groups), which the next serialized test would load again.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_guesses_cannot_all_slip_past_the_count(role_users, settings):
    """Ten guesses at once for one username: only the first five are checked. Without the
    row lock, all ten would read the count before any was recorded."""
    settings.LOGIN_FAILURE_LIMIT = 5
    checked, locked, errors = [], [], []
    start = threading.Barrier(10)

    def slow_wrong_password():
        checked.append(1)
        time.sleep(0.05)  # widen the gap between reading the count and recording
        return False

    def guess():
        try:
            start.wait()
            throttle.attempt("office", None, now=START, check=slow_wrong_password)
        except throttle.Locked:
            locked.append(1)
        except Exception as error:  # surfaced below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (len(checked), len(locked)) == (5, 5)
    assert LoginFailure.objects.filter(username="office").count() == 5


def _at_once(count, target):
    """Run target(i) for i in range(count) in threads started together; their results in order."""
    start, results, errors = threading.Barrier(count), [None] * count, []

    def run(i):
        try:
            start.wait()
            results[i] = target(i)
        except Exception as error:  # surfaced below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_guesses_from_one_address_over_many_usernames_stop_at_the_address_limit(settings):
    """Forty usernames guessed at once from one address: the address's limit (5 × 4) holds as
    the username's does; without its lock every guess would read the count before any was recorded."""
    checked = []

    def slow_wrong_password():
        checked.append(1)
        time.sleep(0.02)
        return False

    def guess(i):
        try:
            throttle.attempt(f"guess{i}", "198.51.100.7", now=START, check=slow_wrong_password)
            return "checked"
        except throttle.Locked:
            return "locked"

    results = _at_once(40, guess)
    limit = settings.LOGIN_FAILURE_LIMIT * throttle.ADDRESS_FACTOR
    assert (len(checked), results.count("locked")) == (limit, 40 - limit)
    assert LoginFailure.objects.filter(ip_address="198.51.100.7").count() == limit


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_burst_of_sign_ins_over_http_with_the_right_password_inside_is_held_to_the_limit(role_users):
    """Twenty wrong passwords and the right one in one burst at the site's login page: the
    right one lets in only if it came among the first five; after the burst the account is
    locked unless it did, and never more than five wrong passwords were ever checked."""
    office = role_users["office"]
    right_at = 12

    def sign_in(i):
        client = Client()
        password = "pw-for-tests-1" if i == right_at else f"wrong-{i}"
        response = client.post(reverse("login"), {"username": office.username, "password": password})
        if "_auth_user_id" in client.session:
            return "in"
        return "locked" if LOCKED in response.content.decode() else "wrong"

    results = _at_once(21, sign_in)
    # Which attempt ran first is up to the lock: the right one, taken among the first five,
    # starts the count afresh (at most four wrong before it, five after).
    assert results.count("wrong") <= (9 if results[right_at] == "in" else 5), results
    assert results.count("wrong") + results.count("locked") + results.count("in") == 21
    if results[right_at] == "in":
        # The right password cleared the failures before it; those after it are still stored.
        after = LoginFailure.objects.filter(username="office").count()
        assert after <= 5 and results.count("wrong") - after <= 4, "taken only among the first five"
    else:
        assert results[right_at] == "locked" and results.count("wrong") == 5, results
        assert at_site(office, "pw-for-tests-1")[1] is False, "still locked after the burst"
