#!/usr/bin/env python3
"""Joins the ROW lines of bench/peers.sh (ROW|task|data|side|wall s|CPU s|peak MiB|quality) into one markdown table:
one line per (task, peer), ratio = Tessera wall / peer wall (below 1.0: Tessera is faster),
and the same ratio of process CPU seconds (steadier than wall time on a shared machine)."""
import sys


def main(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("ROW|"):
            f = line.rstrip("\n").split("|")
            rows.append(dict(task=f[1], data=f[2], side=f[3], s=f[4], cpu=f[5], mib=f[6], q="|".join(f[7:])))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    print("| task | data | Tessera wall s (CPU s) | Tessera peak MiB | peer | peer wall s (CPU s) | peer peak MiB | ratio wall (CPU) | Tessera quality | peer quality |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |")
    for t in tasks:
        mine = [r for r in rows if r["task"] == t and r["side"] == "Tessera"]
        peers = [r for r in rows if r["task"] == t and r["side"] != "Tessera"]
        me = mine[0] if mine else dict(data="", s="", cpu="", mib="", q="Tessera side failed")
        for p in peers or [dict(side="(no peer line)", s="", cpu="", mib="", q="peer failed", data="")]:
            ratio = f"{div(me['s'], p['s'])} ({div(me['cpu'], p['cpu'])})"
            print(f"| {t} | {me['data'] or p['data']} | {me['s']} ({me['cpu']}) | {me['mib']} | {p['side']} | {p['s']} ({p['cpu']}) | {p['mib']} | {ratio} | {me['q']} | {p['q']} |")


def div(a, b):
    try:
        return f"{float(a) / float(b):.2f}"
    except (ValueError, ZeroDivisionError):
        return "n/a"


if __name__ == "__main__":
    main(sys.argv[1])
