"""Objectives: data fits and regularizers, pure functions of (problem, prediction)."""

from overparam.objectives._squared import residuals as residuals
from overparam.objectives._squared import squared_loss as squared_loss
from overparam.objectives._squared import squared_loss_gradient as squared_loss_gradient
from overparam.objectives._squared import squared_objective as squared_objective
