"""Measures: diagnostics of one run's state, registered by name."""

from overparam.measures._recovery import reconstruction_error as reconstruction_error
from overparam.measures._recovery import train_loss as train_loss
from overparam.measures._recovery import unobserved_error as unobserved_error
from overparam.measures._registry import MEASURES as MEASURES
from overparam.measures._registry import Measure as Measure
from overparam.measures._registry import MeasureContext as MeasureContext
from overparam.measures._registry import compute_measures as compute_measures
from overparam.measures._registry import get_measure as get_measure
from overparam.measures._spectral import effective_rank as effective_rank
from overparam.measures._spectral import nuclear_norm as nuclear_norm
from overparam.measures._spectral import schatten_quasi_norm as schatten_quasi_norm
from overparam.measures._spectral import singular_values as singular_values
