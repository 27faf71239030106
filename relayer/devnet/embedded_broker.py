"""A pure-Python MQTT broker (amqtt) for machines without Mosquitto.

``python -m relayer.devnet.embedded_broker PORT`` serves MQTT 3.1.1 on 127.0.0.1:PORT,
anonymous, retained messages kept in memory, until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from amqtt.broker import Broker


def config(port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


async def serve(port: int) -> None:
    broker = Broker(config(port))
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"amqtt broker on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    await broker.shutdown()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
