"""Objectives: Halerium's high-level questions to a graph (predict, evaluate, densities,
ranks, outliers, influences, interventions), each one jitted, batched program.

Examples
--------
>>> from bayesgraph.core.objectives import Predictor, InfluenceEstimator
>>> Predictor.__name__, InfluenceEstimator.__name__
('Predictor', 'InfluenceEstimator')
"""

from bayesgraph.core.objectives.base import ObjectiveBase
from bayesgraph.core.objectives.evaluator import Evaluator
from bayesgraph.core.objectives.influence_estimator import InfluenceEstimator
from bayesgraph.core.objectives.intervention_predictor import InterventionPredictor
from bayesgraph.core.objectives.outlier_detector import OutlierDetector
from bayesgraph.core.objectives.predictor import Predictor
from bayesgraph.core.objectives.probability_estimator import ProbabilityEstimator
from bayesgraph.core.objectives.rank_estimator import RankEstimator

__all__ = ["ObjectiveBase", "Predictor", "Evaluator", "ProbabilityEstimator", "RankEstimator",
           "OutlierDetector", "InfluenceEstimator", "InterventionPredictor"]
