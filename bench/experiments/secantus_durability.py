"""Does SecantusDB keep the writes it acknowledged when it is killed (SIGKILL)?

Starts `secantusd-py` on PORT with a fresh data dir, writes numbered documents for three
seconds (one per insert, or one per transaction with `txn`), each acknowledged with the
write concern of MODE (`journal`: w=majority, j=true, what jac-scale uses; `default`:
w=1), SIGKILLs the server right after the last acknowledgement, starts it again on the
same data and counts the acknowledged documents that are gone. With SYNC=1 the server runs
with `--sync-on-commit`.

usage: python3 bench/experiments/secantus_durability.py PORT journal|default [txn]
needs: pip install secantusdb pymongo
Results (2026-12-08, secantusdb 0.7.0b3) are in the README, "MongoDB in the tests".
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

from pymongo import MongoClient, WriteConcern

PORT = int(sys.argv[1])
MODE = sys.argv[2]
TXN = len(sys.argv) > 3 and sys.argv[3] == "txn"
DATA = tempfile.mkdtemp(prefix="secantus-durability-")
SYNC = ["--sync-on-commit"] if os.environ.get("SYNC") else []


def start():
    server = subprocess.Popen(
        ["secantusd-py", "--host", "127.0.0.1", "--port", str(PORT),
         "--storage-path", DATA, "--log-level", "WARNING", *SYNC],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            client = MongoClient(f"mongodb://127.0.0.1:{PORT}/?replicaSet=secantus",
                                 serverSelectionTimeoutMS=500)
            client.admin.command("ping")
            return server, client
        except Exception:
            time.sleep(0.1)
    raise SystemExit("secantusd-py did not start")


server, client = start()
concern = WriteConcern(w="majority", j=True) if MODE == "journal" else WriteConcern(w=1)
docs = client.get_database("durability").get_collection("docs", write_concern=concern)
acked = 0
started = time.time()
while time.time() - started < 3:
    if TXN:
        with client.start_session() as session:
            with session.start_transaction(write_concern=concern):
                docs.insert_one({"_id": acked, "v": "x" * 100}, session=session)
    else:
        docs.insert_one({"_id": acked, "v": "x" * 100})
    acked += 1
os.kill(server.pid, signal.SIGKILL)
server.wait()
client.close()
server, client = start()
gone = [i for i in range(acked) if client.durability.docs.find_one({"_id": i}) is None]
print(f"mode={MODE} txn={TXN} sync_on_commit={bool(SYNC)} acknowledged={acked} "
      f"lost={len(gone)} first_lost={gone[:3]}")
os.kill(server.pid, signal.SIGKILL)
server.wait()
