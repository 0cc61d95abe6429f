"""`vitrina eval`: one dataset folder in, one table of every recommender out."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from functions.encoders.model_set import ModelSet
from functions.evaluation.dataset import LoadedEvents, holdout_split, load_events
from functions.evaluation.harness import EvaluationResult, evaluate
from functions.recommenders.algorithms import (ContentRecommender, CooccurrenceRecommender, PopularRecommender,
                                               RepurchaseRecommender, VitrinaRecommender)
from functions.recommenders.als import ALSRecommender
from functions.recommenders.base import Catalog, Recommender
from functions.services import Services
from functions.store.catalog import export_vectors

METRIC_COLUMNS = ("MAP", "Recall", "NDCG", "HitRate", "Coverage", "Users")


def all_recommenders(fusion_version: str) -> list[Recommender]:
    return [PopularRecommender(), RepurchaseRecommender(), CooccurrenceRecommender(),
            ContentRecommender("text"), ContentRecommender("image"), ContentRecommender("fused", fusion_version),
            VitrinaRecommender(), ALSRecommender()]


def fusion_label(models: ModelSet) -> str:
    """A fusion's name in the tables: its version without the content hash (fusion-v0, fusion-t)."""
    return models.manifest["fusion"]["version"].rsplit("-", 1)[0]


def catalog_from_store(services: Services) -> Catalog:
    models = services.models
    with services.pool.connection() as conn:
        ids, categories, vectors = export_vectors(conn, models.text.version, models.image.version, models.version)
    return Catalog(ids, categories, vectors)


def add_fusion(catalog: Catalog, services: Services, models: ModelSet) -> str:
    """Fuse the catalog's stored base vectors with another model set's fusion (e.g. a trained
    version not yet active) into a space of its own; returns the space's name."""
    served = services.models
    if (models.text.version, models.image.version) != (served.text.version, served.image.version):
        raise ValueError(f"{models.version} uses other encoders than the stored vectors "
                         f"({models.text.version}, {models.image.version}): it cannot be compared on them")
    space = f"fused:{models.version}"
    catalog.vectors[space] = models.fusion.fuse(catalog.vectors["text"], catalog.vectors["image"])
    return space


def run_evaluation(services: Services, folder: Path, *, test_file: Path | None, holdout_days: int | None,
                   k: int, compare: Sequence[ModelSet] = (),
                   progress=None) -> tuple[EvaluationResult, LoadedEvents, LoadedEvents | None]:
    """Split (a test file, else the last ``holdout_days``), fit on training events only, score.

    ``compare``: further model sets whose fusion is scored beside the active one's."""
    catalog = catalog_from_store(services)
    fusion = fusion_label(services.models)
    recommenders = all_recommenders(fusion)
    for models in compare:
        label = fusion_label(models)
        if label in {r.name for r in recommenders}:
            label = models.manifest["fusion"]["version"]
        recommenders.append(ContentRecommender(add_fusion(catalog, services, models), label))
    known = set(catalog.item_ids)
    train = load_events(folder / "events.csv", known)
    test = None
    if test_file is not None:
        test = load_events(test_file, known)
        train_log, test_log = train.events, test.events
    else:
        train_log, test_log = holdout_split(train.events, holdout_days or 1)
    result = evaluate(catalog, train_log, test_log, recommenders, k=k, progress=progress)
    return result, train, test
