"""Models: inference on graphs. One base class; one module per inference family.

Examples
--------
>>> from bayesgraph.core.model import ForwardModel, MAPModel, MAPFisherModel, ModelBase
>>> all(issubclass(c, ModelBase) for c in (ForwardModel, MAPModel, MAPFisherModel))
True
"""

from bayesgraph.core.model._compilation_cache import enable_compilation_cache
from bayesgraph.core.model._hosts import LocalRows
from bayesgraph.core.model.advi import ADVIModel
from bayesgraph.core.model.base import ModelBase
from bayesgraph.core.model.factory import METHODS, get_generative_model, get_posterior_model
from bayesgraph.core.model.forward import ForwardModel
from bayesgraph.core.model.forward_optimizer import ForwardOptimizerModel
from bayesgraph.core.model.map import MAPModel
from bayesgraph.core.model.map_fisher import MAPFisherModel
from bayesgraph.core.model.mcmc import MCMCModel
from bayesgraph.core.model.mgvi import MGVIModel
from bayesgraph.core.model.trainer import Trainer

__all__ = ["ModelBase", "ForwardModel", "MAPModel", "MAPFisherModel", "ADVIModel", "MGVIModel",
           "MCMCModel", "ForwardOptimizerModel", "Trainer", "get_posterior_model",
           "get_generative_model", "METHODS", "enable_compilation_cache", "LocalRows"]
