#!/bin/sh
# WebSub for our own feeds (tests/websub_hub_e2e.py): rel=hub and rel=self on
# every feed route; the built-in hub's subscriptions, intent checks, signed
# pushes within 1 s of storing, unsubscribe, lease expiry and the failing
# callback's backoff under an injected clock, the limits; the external hub's
# coalesced pings; private callbacks refused.
exec /usr/bin/python3 "$2/tests/websub_hub_e2e.py" "$1" "$2"
