#!/bin/sh
# WebSub end to end (tests/websub_e2e.py): a loopback publisher and hub, the
# daemon subscribing, answering intent checks, taking signed pushes, renewing
# under an injected clock and unsubscribing on reload.
exec /usr/bin/python3 "$2/tests/websub_e2e.py" "$1" "$2"
