"""Import data as Lhotse cuts: python recipes/import_data.py source=nemo|cuts|folder|earnings21 input=PATH output=X.jsonl.gz"""

import hydra
from omegaconf import DictConfig

from finparakeet.data.manifests import save_cuts
from finparakeet.data.nemo_manifest import cuts_to_nemo_manifest
from finparakeet.data.importers import import_source
from finparakeet.data.rejects import count_kinds, write_rejects


@hydra.main(config_path="pkg://finparakeet.conf", config_name="import_data", version_base="1.3")
def main(cfg: DictConfig) -> None:
    cuts, rejects = import_source(cfg.source, cfg.input, media_dir=cfg.media_dir)
    cuts = cuts.to_eager()
    save_cuts(cuts, cfg.output)
    print(f"{cfg.source} {cfg.input}: {len(cuts)} cuts ({sum(c.duration for c in cuts) / 3600:.2f} h) -> {cfg.output}")
    if cfg.nemo_manifest:
        cuts_to_nemo_manifest(cuts, cfg.nemo_manifest)
        print(f"NeMo manifest -> {cfg.nemo_manifest}")
    if rejects:
        path = write_rejects(rejects, cfg.rejects or f"{cfg.output}.rejects.jsonl")
        print(f"{len(rejects)} inputs not imported {count_kinds(rejects)} -> {path}")


if __name__ == "__main__":
    main()
