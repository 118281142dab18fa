"""descent: the library the book's chapters run on.

Data, loss and gradients, training loops, plots and animations for fitting a line
``y = x @ a`` by gradient descent, as in fastai's ``lesson2-sgd`` notebook.
"""

# The numerical core: data, loss, training loops, the equivalence ladder.
from .data import SEED, linear_data
from .ladder import Line, fit_learner, fit_module
from .loss import (
    Eigen,
    critical_lr,
    eigen,
    hessian,
    least_squares,
    mse,
    mse_grad,
    predicted_excess_loss,
    predicted_excess_terms,
)
from .train import History, fit, sgd_step

__all__ = [
    # numerical core
    "SEED",
    "Eigen",
    "History",
    "Line",
    "critical_lr",
    "eigen",
    "fit",
    "fit_learner",
    "fit_module",
    "hessian",
    "least_squares",
    "linear_data",
    "mse",
    "mse_grad",
    "predicted_excess_loss",
    "predicted_excess_terms",
    "sgd_step",
]
