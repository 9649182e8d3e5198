#!/usr/bin/env python3
"""Small, line-based edits of one service in lab/run/docker-compose.yml.

Used by `lab/lab fault ...` so each fault is a reviewable text change of the
working copy (the template in lab/stack/ is never touched). Keeps comments and
layout; assumes the template's layout (2-space service keys, 4-space options).

usage: compose_edit.py FILE SERVICE OP [ARGS...]
  set-env VAR VALUE        replace "- VAR=..." in the service's environment
  add-env ENTRY            append "- ENTRY" to the service's environment
  rename-key OLD NEW       rename a top-level key of the service (e.g. a typo)
  drop-key KEY             remove a top-level key of the service and its block
  add-key 'KEY: VALUE'     add a top-level key line to the service
  add-volume SPEC          add "- SPEC" under volumes: (creates the key)
  set-command CMD          replace the service's command: line
  set-memory LIMIT RESERV  set deploy.resources limits/reservations memory
"""
import re
import sys


def service_span(lines, service):
    start = None
    for i, line in enumerate(lines):
        if start is None and line.rstrip("\n") == f"  {service}:":
            start = i
        elif start is not None and re.match(r"^(  )?\S", line):
            return start, i
    if start is None:
        sys.exit(f"compose_edit: service {service!r} not found")
    return start, len(lines)


def key_span(lines, start, end, key):
    for i in range(start + 1, end):
        if re.match(rf"^    {re.escape(key)}:", lines[i]):
            j = i + 1
            while j < end and (lines[j].startswith("      ") or not lines[j].strip()):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():  # keep trailing blank lines
                j -= 1
            return i, j
    sys.exit(f"compose_edit: key {key!r} not found in service")


def main():
    path, service, op, *args = sys.argv[1:]
    with open(path) as fh:
        lines = fh.readlines()
    start, end = service_span(lines, service)
    if op == "set-env":
        var, value = args
        k, kend = key_span(lines, start, end, "environment")
        for i in range(k + 1, kend):
            if re.match(rf"^      - {re.escape(var)}=", lines[i]):
                lines[i] = f"      - {var}={value}\n"
                break
        else:
            sys.exit(f"compose_edit: {var} not in environment of {service}")
    elif op == "add-env":
        k, kend = key_span(lines, start, end, "environment")
        lines.insert(kend, f"      - {args[0]}\n")
    elif op == "rename-key":
        old, new = args
        k, _ = key_span(lines, start, end, old)
        lines[k] = lines[k].replace(f"    {old}:", f"    {new}:", 1)
    elif op == "drop-key":
        k, kend = key_span(lines, start, end, args[0])
        del lines[k:kend]
    elif op == "add-key":
        lines.insert(start + 1, f"    {args[0]}\n")
    elif op == "add-volume":
        try:
            k, kend = key_span(lines, start, end, "volumes")
            lines.insert(kend, f"      - {args[0]}\n")
        except SystemExit:
            lines[start + 1:start + 1] = ["    volumes:\n", f"      - {args[0]}\n"]
    elif op == "set-command":
        k, kend = key_span(lines, start, end, "command")
        lines[k:kend] = [f"    command: {args[0]}\n"]
    elif op == "set-memory":
        limit, reserv = args
        k, kend = key_span(lines, start, end, "deploy")
        section = None
        for i in range(k, kend):
            s = lines[i].strip()
            if s in ("limits:", "reservations:"):
                section = s[:-1]
            elif s.startswith("memory:") and section:
                indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                lines[i] = f"{indent}memory: {limit if section == 'limits' else reserv}\n"
    else:
        sys.exit(f"compose_edit: unknown op {op!r}")
    with open(path, "w") as fh:
        fh.writelines(lines)


if __name__ == "__main__":
    main()
