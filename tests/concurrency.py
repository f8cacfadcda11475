"""Helpers of the tests that run work side by side: in threads, and waiting on row locks."""
import threading
import time

from django.db import connection, connections


def run_in_thread(name, target, results):
    def body():
        try:
            results[name] = target()
        except BaseException as error:  # reported by the test, not lost in the thread
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


def waiting_for_a_lock(timeout=10.0) -> bool:
    """True once another backend of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False
