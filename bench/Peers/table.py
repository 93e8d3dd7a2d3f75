#!/usr/bin/env python3
"""Joins the ROW lines of bench/peers.sh (ROW|task|data|side|seconds|peak MiB|quality) into one markdown table:
one line per (task, peer), ratio = Tessera seconds / peer seconds (below 1.0: Tessera is faster)."""
import sys


def main(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("ROW|"):
            f = line.rstrip("\n").split("|")
            rows.append(dict(task=f[1], data=f[2], side=f[3], s=f[4], mib=f[5], q="|".join(f[6:])))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    print("| task | data | Tessera s | Tessera peak MiB | peer | peer s | peer peak MiB | ratio | Tessera quality | peer quality |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |")
    for t in tasks:
        mine = [r for r in rows if r["task"] == t and r["side"] == "Tessera"]
        peers = [r for r in rows if r["task"] == t and r["side"] != "Tessera"]
        me = mine[0] if mine else dict(data="", s="", mib="", q="Tessera side failed")
        for p in peers or [dict(side="(no peer line)", s="", mib="", q="peer failed", data="")]:
            try:
                ratio = f"{float(me['s']) / float(p['s']):.2f}"
            except (ValueError, ZeroDivisionError):
                ratio = "n/a"
            print(f"| {t} | {me['data'] or p['data']} | {me['s']} | {me['mib']} | {p['side']} | {p['s']} | {p['mib']} | {ratio} | {me['q']} | {p['q']} |")


if __name__ == "__main__":
    main(sys.argv[1])
