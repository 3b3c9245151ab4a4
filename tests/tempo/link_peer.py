"""A bare aalink peer for the Link test: joins at BPM, prints its session tempo every 50 ms.

Run only inside a private network namespace (see test_link.py).
"""

import asyncio
import sys

import aalink


async def main(bpm: float, seconds: float) -> None:
    link = aalink.Link(bpm)
    await asyncio.sleep(0.6)  # see livedream.tempo.link: enabling at once may reset the session
    link.enabled = True
    print("ready", flush=True)
    for _ in range(int(seconds / 0.05)):
        print(f"tempo {link.tempo:.3f} peers {link.num_peers}", flush=True)
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
