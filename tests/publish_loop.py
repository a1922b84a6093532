"""A publisher for the crash tests: `python -m tests.publish_loop REDIS_URL PREFIX COUNT` rewords the
平泉 bus-fare answer (figures unchanged) and publishes it, COUNT times, printing each version made."""
import asyncio
import copy
import sys

from redis.asyncio import Redis

from bot.knowledge.versions import Versions
from bot.settings import ROOT

WORDINGS = ("平泉城乡公交按阶梯票价分段收费，基础票价2元，最高票价8元，出行费用同比降低了50%。",
            "平泉城乡公交实行阶梯票价、分段计费：基础票价2元，最高票价8元，出行费用同比降低了50%。")


async def main(url: str, prefix: str, count: int) -> None:
    redis = Redis.from_url(url)
    versions = Versions(redis, prefix, ROOT)
    await versions.ensure_seeded()
    for i in range(count):
        topic = copy.deepcopy(await versions.draft_topic("bus-fare"))
        topic["answers"]["平泉"]["text"] = WORDINGS[i % 2]
        assert await versions.save_topic(topic, "crash-test") == []
        print(await versions.publish(f"措辞{i}", "crash-test"), flush=True)
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
