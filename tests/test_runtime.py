"""Process set-up: the host's BLAS on one thread unless the user chose a count."""

import json
import os
import subprocess
import sys

import pytest

from overparam._runtime import BLAS_ENV

PROBE = ("import json, threadpoolctl; from overparam._runtime import single_threaded_blas; "
         "changed = single_threaded_blas(); "
         "print(json.dumps([changed, [i['num_threads'] for i in threadpoolctl.threadpool_info()"
         " if i['user_api'] == 'blas']]))")


def _probe(**env):
    base = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_blas_runs_on_one_thread():
    changed, threads = _probe()
    assert changed is True and threads and set(threads) == {1}


@pytest.mark.parametrize("var", BLAS_ENV)
def test_a_users_blas_thread_count_is_kept(var):
    changed, threads = _probe(**{var: "2"})
    assert changed is False
