"""A do-nothing relay: the baseline the burst benchmark compares hemostatd to.

It subscribes to <prefix>health_alert, decodes each envelope and publishes
a canned remediation_needed for its container on <prefix>remediation_needed:
the least any analyzer speaking the protocol must do, with none of the
judging, history, event log or plugin call.

    python3 relay.py <redis host> <redis port> <channel prefix>
"""
import datetime
import json
import sys

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=host, port=port)
p = r.pubsub(ignore_subscribe_messages=True)
p.subscribe(prefix + "health_alert")
print("ready", flush=True)
for msg in p.listen():
    env = json.loads(msg["data"])
    out = {
        "timestamp": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "agent": "Relay",
        "type": "remediation_needed",
        "data": {"container": env["data"]["container"], "action": "restart",
                 "reason": "relay", "confidence": 0.9},
    }
    r.publish(prefix + "remediation_needed", json.dumps(out))
