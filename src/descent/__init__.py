"""descent: the library the book's chapters run on.

Data, loss and gradients, training loops, plots and animations for fitting a line
``y = x @ a`` by gradient descent, as in fastai's ``lesson2-sgd`` notebook.
"""

# The numerical core: data, loss, training loops, the equivalence ladder.
from .data import SEED, linear_data
from .ladder import Line, fit_learner, fit_module, ulps_apart
from .loss import (
    Eigen,
    critical_lr,
    eigen,
    hessian,
    least_squares,
    min_mse,
    mse,
    mse_grad,
    predicted_excess_loss,
    predicted_excess_terms,
)
from .train import History, fit, sgd_step

# isort: split
# Plots and animations: the style, plot helpers, and animations played by our own jshtml.
from .animate import animate_line, animate_lr, animate_panels
from .animation import JsAnimation
from .player.notebook import describe, use_player
from .plots import plot_contour, plot_data, plot_line, plot_loss, plot_lr_grid
from .style import STYLE, use_style

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
    "min_mse",
    "mse",
    "mse_grad",
    "predicted_excess_loss",
    "predicted_excess_terms",
    "sgd_step",
    "ulps_apart",
]
__all__ += [  # plots and animations
    "STYLE",
    "JsAnimation",
    "animate_line",
    "animate_lr",
    "animate_panels",
    "describe",
    "plot_contour",
    "plot_data",
    "plot_line",
    "plot_loss",
    "plot_lr_grid",
    "use_player",
    "use_style",
]
