"""Sign in, failed-login throttling, session expiry, password change, logout."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from projects.models import LoginFailure

PASSWORD = "pw-for-tests-1"  # the role_users fixture's password
START = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def sign_in(client, username="cadre1", password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_cadre_signs_in_and_reaches_their_projects(client, role_users, clock):
    response = sign_in(client)
    assert response.status_code == 302
    assert client.get(reverse("my_projects")).status_code == 200


def test_a_wrong_password_says_so_in_chinese(client, role_users, clock):
    response = sign_in(client, password="wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_five_failures_lock_the_username_even_with_the_right_password(client, role_users, clock, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_WINDOW = 900
    for _ in range(5):
        sign_in(client, password="wrong")
    response = sign_in(client)  # the right password, too late
    assert response.status_code == 200
    assert "登录失败次数过多，请15分钟后再试。" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user is not locked out by cadre1's failures.
    assert sign_in(client, "cadre2").status_code == 302


def test_the_lock_lifts_when_the_window_has_passed(client, role_users, clock, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW = 900
    for _ in range(3):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 200
    clock.move_to(START + timedelta(minutes=16))
    assert sign_in(client).status_code == 302
    # Success clears the username's count; the old rows are gone.
    assert LoginFailure.objects.filter(username="cadre1").count() == 0


def test_usernames_are_counted_without_regard_to_case(client, role_users, clock, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    sign_in(client, "CADRE1", "wrong")
    sign_in(client, "Cadre1", "wrong")
    assert "登录失败次数过多" in sign_in(client).content.decode()


def test_one_address_guessing_many_usernames_is_locked_too(client, role_users, clock, settings):
    settings.LOGIN_FAILURE_LIMIT = 2  # per address: 2 × 4 = 8
    for i in range(8):
        sign_in(client, f"guess{i}", "wrong")
    assert "登录失败次数过多" in sign_in(client).content.decode()


def test_a_session_expires_after_its_age(client, role_users, clock, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    sign_in(client)
    clock.move_to(START + timedelta(hours=7, minutes=59))
    assert client.get(reverse("project_list")).status_code == 200
    clock.move_to(START + timedelta(hours=8, minutes=1))
    response = client.get(reverse("project_list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_sessions_end_when_the_browser_closes(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_password_change(client, role_users, clock):
    sign_in(client)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and "修改密码" in page.content.decode()
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200  # refused, with messages
    role_users["cadre1"].refresh_from_db()
    assert role_users["cadre1"].check_password(PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Qiantang-new-2026", "new_password2": "Qiantang-new-2026"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    role_users["cadre1"].refresh_from_db()
    assert role_users["cadre1"].check_password("Qiantang-new-2026")


def test_password_change_needs_a_signed_in_user(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_logout_is_a_post_and_ends_the_session(client, role_users, clock):
    sign_in(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("project_list")).status_code == 302
