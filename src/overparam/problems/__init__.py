"""Problems: ground truth, measurement operator and observations, as pytrees of arrays."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "NPZ_FORMAT": "overparam.problems._file",
    "load_npz_problem": "overparam.problems._file",
    "MatrixProblem": "overparam.problems._matrix",
    "completion_problem": "overparam.problems._matrix",
    "entries_problem": "overparam.problems._matrix",
    "gaussian_sensing_matrix": "overparam.problems._matrix",
    "low_rank_truth": "overparam.problems._matrix",
    "make_completion": "overparam.problems._matrix",
    "make_sensing": "overparam.problems._matrix",
    "pad_measurements": "overparam.problems._matrix",
    "rank_one_sensing_problem": "overparam.problems._matrix",
    "sensing_problem": "overparam.problems._matrix",
    "uniform_entry_mask": "overparam.problems._matrix",
    "Ratings": "overparam.problems._movielens",
    "load_movielens_100k": "overparam.problems._movielens",
    "ratings_to_dense": "overparam.problems._movielens",
    "split_ratings": "overparam.problems._movielens",
    "DenseSensing": "overparam.problems._operators",
    "EntryMask": "overparam.problems._operators",
    "Operator": "overparam.problems._operators",
    "RankOneSensing": "overparam.problems._operators",
    "observed_count": "overparam.problems._operators",
    "movielens_problem": "overparam.problems._real",
    "stack_problems": "overparam.problems._stack",
})
