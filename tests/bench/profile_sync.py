"""Where push and pull spend their time: cProfile over the view (request parsing, the
engine, the answer), on the bench's own database.

    python -m tests.bench.profile_sync [--mutations 2000] [--records 20000] [--top 25]
"""

import argparse
import cProfile
import os
import pstats
import secrets
import time

from tests.bench.setup_db import configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutations", type=int, default=2000)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("JOBS_INLINE", "true")  # no broker: the jobs run in the process
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    configure()
    from django.test import Client

    from tests.bench.common import make_world, survey_update_pushes

    world = make_world(stores=max(args.mutations, args.records // 2), surveys_per_store=1)
    client = Client(HTTP_AUTHORIZATION=f"Token {world['token']}")

    def push_all() -> None:
        surveys = world["surveys"][: args.mutations]
        for body in survey_update_pushes(surveys, device_id="profile"):
            answer = client.post("/api/sync/push", body, content_type="application/json")
            assert answer.status_code == 200, answer.content[:300]

    def pull_all() -> None:
        cursor = None
        while True:
            path = "/api/sync/pull?limit=5000" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(path).json()
            cursor = body["cursor"]
            if not body["has_more"]:
                return

    for name, work in (("push", push_all), ("pull", pull_all)):
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(work)
        print(f"== {name}: {time.perf_counter() - started:.2f} s (under cProfile)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
