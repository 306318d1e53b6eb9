"""bus-engine parse-text: read a free-text lesion description into the BI-RADS lexicon."""

from __future__ import annotations

import argparse
import json

NAME = "parse-text"
HELP = "parse a free-text lesion description: fields, canonical sentence, words that could not be placed"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "text", help='e.g. "ill-defined taller-than-wide hypoechoic mass, acoustic shadow, 1.4 cm"'
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from engine.language.parser import parse_text

    result = parse_text(args.text).to_dict()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"sentence   {result['sentence']}")
    for name, value in result["description"].items():
        if value is not None:
            print(f"  {name:19s} {value}")
    for key in ("unplaced", "negated", "conflicts"):
        if result[key]:
            print(f"{key:10s} {'; '.join(result[key])}")
    return 0
