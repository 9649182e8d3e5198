#!/usr/bin/env python3
"""Validates JSON files against one of diagnose's published schemas (docs/schemas/*.schema.json).

    python3 docs/schemas/validate.py docs/schemas/run.v1.schema.json run.json [more.json ...]

Every schema of this folder is registered by its $id, so report.v1 finds run.v1. Prints each error as
FILE: PATH: MESSAGE and exits 1 when any file is invalid, 0 when all are valid. Needs python3-jsonschema: Debian
bookworm's 4.10 (RefResolver) or 4.18 and later (the referencing registry).
"""
import json
import pathlib
import sys

import jsonschema


def validator_for(schema, schemas):
    """A draft 2020-12 validator that resolves $ref to the other schemas by their $id."""
    try:
        from referencing import Registry, Resource
    except ImportError:
        resolver = jsonschema.RefResolver.from_schema(schema, store={s["$id"]: s for s in schemas})
        return jsonschema.Draft202012Validator(schema, resolver=resolver)
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    folder = pathlib.Path(__file__).resolve().parent
    schemas = [json.loads(path.read_text()) for path in sorted(folder.glob("*.schema.json"))]
    schema = json.loads(pathlib.Path(argv[1]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = validator_for(schema, schemas)
    failed = False
    for name in argv[2:]:
        document = json.loads(pathlib.Path(name).read_text())
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            failed = True
            path = "/".join(str(part) for part in error.absolute_path) or "(root)"
            print(f"{name}: {path}: {error.message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
