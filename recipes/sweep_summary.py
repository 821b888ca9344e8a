"""Summarise a training sweep: python recipes/sweep_summary.py MULTIRUN_DIR

Writes MULTIRUN_DIR/sweep_summary.{csv,md}: the swept values and each job's best val_entity_wer and val_wer, best
first. A multirun of recipes/train.py does this by itself when it ends (a Hydra callback in conf/train.yaml).
"""

import argparse
from pathlib import Path

from finparakeet.training.sweep import summarise_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("multirun_dir", type=Path, help="the sweep dir (holds one folder per job)")
    args = parser.parse_args()
    if not args.multirun_dir.is_dir():
        parser.error(f"{args.multirun_dir} is not a directory")
    paths = summarise_sweep(args.multirun_dir)
    print(paths["md"].read_text(encoding="utf-8"), end="")
    print(f"-> {paths['csv']}  {paths['md'].name}")


if __name__ == "__main__":
    main()
