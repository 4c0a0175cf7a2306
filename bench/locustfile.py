"""One signed-in user opening one page in a loop, no think time (``bench/load.py``
passes the page and the session cookie in the environment)."""

import os

from locust import FastHttpUser, task


class SignedInUser(FastHttpUser):
    @task
    def open_page(self):
        with self.client.get(
            os.environ["BENCH_PATH"],
            headers={"Cookie": os.environ["BENCH_COOKIE"]},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:  # a redirect to the login page is a failure too
                response.failure(f"status {response.status_code}")
