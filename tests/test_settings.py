"""Settings come from the environment with safe defaults.

Each case imports `qiantang.settings` in a fresh interpreter with a controlled environment
(the test process's own settings are already loaded and cannot be re-read).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

DUMP = """
import json
from qiantang import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECRET_KEY": s.SECRET_KEY,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "DB_ENGINE": s.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(s.DATABASES["default"]["NAME"]),
    "DB_HOST": s.DATABASES["default"].get("HOST", ""),
    "DB_USER": s.DATABASES["default"].get("USER", ""),
    "VAR_DIR": str(s.VAR_DIR),
    "BROKER": s.CELERY_BROKER_URL,
    "BROKER_OPTIONS": getattr(s, "CELERY_BROKER_TRANSPORT_OPTIONS", None),
    "BEAT_FILE": s.CELERY_BEAT_SCHEDULE_FILENAME,
    "CELERY_TIMEZONE": s.CELERY_TIMEZONE,
    "TIME_ZONE": s.TIME_ZONE,
    "USE_TZ": s.USE_TZ,
    "USE_I18N": s.USE_I18N,
    "LANGUAGE_CODE": s.LANGUAGE_CODE,
    "LANGUAGES": [code for code, _name in s.LANGUAGES],
    "LOCALE_PATHS": [str(p) for p in s.LOCALE_PATHS],
    "EMAIL_BACKEND": s.EMAIL_BACKEND,
    "EMAIL_HOST": s.EMAIL_HOST,
    "EMAIL_PORT": s.EMAIL_PORT,
    "STATICFILES": s.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def load_settings(tmp_path, **env_vars):
    """The settings as a fresh process sees them with only `env_vars` (and a private var/) set."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env.setdefault("QIANTANG_VAR_DIR", str(tmp_path / "var"))
    # The checkout's own .env (make env) must not leak into these cases; the .env tests set it.
    env.setdefault("QIANTANG_ENV_FILE", "")
    env.update(env_vars)
    env = {k: v for k, v in env.items() if v is not None}
    result = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result


def settings_from(tmp_path, **env_vars):
    result = load_settings(tmp_path, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_off_by_default_with_a_secret_key(tmp_path):
    s = settings_from(tmp_path, SECRET_KEY="from-the-environment")
    assert s["DEBUG"] is False
    assert s["SECRET_KEY"] == "from-the-environment"
    # Hashed, compressed static files in production (collectstatic runs in the image).
    assert s["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_debug_gives_a_development_key_and_plain_static_files(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["DEBUG"] is True
    assert s["SECRET_KEY"].startswith("dev-only-insecure")
    assert s["STATICFILES"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_debug_values_are_read_as_booleans(tmp_path):
    assert settings_from(tmp_path, DEBUG="true")["DEBUG"] is True
    assert settings_from(tmp_path, DEBUG="0", SECRET_KEY="k")["DEBUG"] is False


def test_database_defaults_to_a_sqlite_file_under_var(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["DB_ENGINE"] == "django.db.backends.sqlite3"
    assert s["DB_NAME"] == str(tmp_path / "var" / "qiantang.sqlite3")
    assert Path(s["VAR_DIR"]).is_dir()


def test_var_defaults_to_the_repository_var_folder(tmp_path):
    s = settings_from(tmp_path, DEBUG="1", QIANTANG_VAR_DIR=None)
    assert s["VAR_DIR"] == str(REPO / "var")
    assert s["DB_NAME"] == str(REPO / "var" / "qiantang.sqlite3")


def test_database_url_selects_postgresql(tmp_path):
    s = settings_from(tmp_path, DEBUG="1", DATABASE_URL="postgres://app:pw@db.example:5432/qiantang")
    assert s["DB_ENGINE"] == "django.db.backends.postgresql"
    assert (s["DB_NAME"], s["DB_HOST"], s["DB_USER"]) == ("qiantang", "db.example", "app")


def test_embedded_broker_by_default_with_one_folder_for_in_and_out(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["BROKER"] == "filesystem://"
    options = s["BROKER_OPTIONS"]
    # kombu's defaults are two different folders: messages would never be picked up.
    assert options["data_folder_in"] == options["data_folder_out"]
    assert options["data_folder_in"] == str(tmp_path / "var" / "broker" / "queue")
    assert options["control_folder"] == str(tmp_path / "var" / "broker" / "control")
    assert options["store_processed"] is False
    # kombu creates only the control folder itself.
    assert Path(options["data_folder_in"]).is_dir()
    assert Path(options["control_folder"]).is_dir()


def test_redis_broker_when_set(tmp_path):
    s = settings_from(tmp_path, DEBUG="1", CELERY_BROKER_URL="redis://redis:6379/0")
    assert s["BROKER"] == "redis://redis:6379/0"
    # A task a killed worker held comes back after an hour (acks late, rejected on worker loss).
    assert s["BROKER_OPTIONS"] == {"visibility_timeout": 3600, "unacked_restore_throttle": 1}


def test_time_zone_and_languages(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["TIME_ZONE"] == "Asia/Shanghai"
    assert s["CELERY_TIMEZONE"] == "Asia/Shanghai"
    assert s["USE_TZ"] is True
    assert s["USE_I18N"] is True
    assert s["LANGUAGE_CODE"] == "zh-hans"
    assert s["LANGUAGES"] == ["zh-hans", "en"]
    assert s["LOCALE_PATHS"] == [str(REPO / "locale")]


def test_beat_keeps_its_schedule_file_under_var(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["BEAT_FILE"] == str(tmp_path / "var" / "celerybeat-schedule")


def test_allowed_hosts(tmp_path):
    assert settings_from(tmp_path, DEBUG="1")["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    s = settings_from(tmp_path, DEBUG="1", ALLOWED_HOSTS="yujing.qiantang.gov.cn, web")
    assert s["ALLOWED_HOSTS"] == ["yujing.qiantang.gov.cn", "web"]


def test_email_goes_to_the_console_until_a_host_is_set(tmp_path):
    s = settings_from(tmp_path, DEBUG="1")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    s = settings_from(tmp_path, DEBUG="1", EMAIL_HOST="mailpit", EMAIL_PORT="1025")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("mailpit", 1025)


# --- the local settings file (.env, written by `make env`) ---------------------------------


def write_env_file(tmp_path, *lines):
    path = tmp_path / "local.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_the_local_file_gives_debug_and_a_secret_key(tmp_path):
    env_file = write_env_file(tmp_path, "DEBUG=1", "SECRET_KEY=from-the-local-file")
    settings = settings_from(tmp_path, QIANTANG_ENV_FILE=env_file)
    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"] == "from-the-local-file"


def test_the_environment_wins_over_the_local_file(tmp_path):
    env_file = write_env_file(tmp_path, "DEBUG=1", "SECRET_KEY=from-the-local-file")
    settings = settings_from(
        tmp_path, QIANTANG_ENV_FILE=env_file, DEBUG="0", SECRET_KEY="from-the-environment"
    )
    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == "from-the-environment"


def test_production_without_a_file_still_refuses_to_start_without_a_secret_key(tmp_path):
    result = load_settings(tmp_path, QIANTANG_ENV_FILE=str(tmp_path / "absent.env"))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_local_file_that_turns_debug_off_still_needs_a_secret_key(tmp_path):
    env_file = write_env_file(tmp_path, "DEBUG=0")
    result = load_settings(tmp_path, QIANTANG_ENV_FILE=env_file)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_suite_never_reads_the_checkout_s_dot_env_and_git_ignores_it():
    from qiantang import settings

    # The suite itself never reads it (LOCAL_ENV_FILE is None under pytest) ...
    assert settings.LOCAL_ENV_FILE is None
    # ... a process started by hand does (tests/test_readme_commands.py); it holds a secret.
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=REPO, stdin=subprocess.DEVNULL
    )
    assert ignored.returncode == 0, ".env must be git-ignored: it holds this machine's SECRET_KEY"


def test_a_too_short_password_is_refused_in_the_reader_s_language():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    for language, expected in [
        ("zh-hans", "密码太短，至少需要8个字符。"),
        ("en", "This password is too short. It must contain at least 8 characters."),
    ]:
        with translation.override(language), pytest.raises(ValidationError) as refused:
            validate_password("Qt7#x")
        assert refused.value.messages == [expected], language


def test_check_deploy_is_clean_with_the_documented_https_settings(tmp_path):
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
        "QIANTANG_VAR_DIR": str(tmp_path / "var"), "QIANTANG_ENV_FILE": "",
        "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-" + "x" * 20,
        "ALLOWED_HOSTS": "xm.qiantang.example", "SECURE_COOKIES": "1", "BEHIND_TLS_PROXY": "1",
        "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "3600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


CACHE_PROBE = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
django.setup()
from django.conf import settings
from django.core.cache import cache
cache.set("probe", "stored", 30)
print(json.dumps({"backend": settings.CACHES["default"]["BACKEND"], "read": cache.get("probe")}))
"""


def _cache_probe(tmp_path, **env_vars):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
           "QIANTANG_VAR_DIR": str(tmp_path / "var"), "QIANTANG_ENV_FILE": "", "DEBUG": "1", **env_vars}
    result = subprocess.run([sys.executable, "-c", CACHE_PROBE], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.services
def test_a_redis_cache_url_caches_in_redis_through_django_redis(tmp_path):
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    assert _cache_probe(tmp_path, CACHE_URL=redis_url) == {
        "backend": "django_redis.cache.RedisCache", "read": "stored",
    }


def test_a_redis_that_is_down_is_a_cache_miss_not_an_error(tmp_path):
    # Nothing listens on port 1: the page would read the database instead.
    assert _cache_probe(tmp_path, CACHE_URL="redis://127.0.0.1:1/0") == {
        "backend": "django_redis.cache.RedisCache", "read": None,
    }


def test_without_a_cache_url_make_run_caches_in_files_under_var(tmp_path):
    assert _cache_probe(tmp_path) == {
        "backend": "django.core.cache.backends.filebased.FileBasedCache", "read": "stored",
    }
