"""Problems: ground truth, measurement operator and observations, as pytrees of arrays."""

from overparam.problems._file import NPZ_FORMAT as NPZ_FORMAT
from overparam.problems._file import load_npz_problem as load_npz_problem
from overparam.problems._matrix import MatrixProblem as MatrixProblem
from overparam.problems._matrix import completion_problem as completion_problem
from overparam.problems._matrix import entries_problem as entries_problem
from overparam.problems._matrix import gaussian_sensing_matrix as gaussian_sensing_matrix
from overparam.problems._matrix import low_rank_truth as low_rank_truth
from overparam.problems._matrix import make_completion as make_completion
from overparam.problems._matrix import make_sensing as make_sensing
from overparam.problems._matrix import pad_measurements as pad_measurements
from overparam.problems._matrix import rank_one_sensing_problem as rank_one_sensing_problem
from overparam.problems._matrix import sensing_problem as sensing_problem
from overparam.problems._matrix import uniform_entry_mask as uniform_entry_mask
from overparam.problems._movielens import Ratings as Ratings
from overparam.problems._movielens import load_movielens_100k as load_movielens_100k
from overparam.problems._movielens import ratings_to_dense as ratings_to_dense
from overparam.problems._movielens import split_ratings as split_ratings
from overparam.problems._operators import DenseSensing as DenseSensing
from overparam.problems._operators import EntryMask as EntryMask
from overparam.problems._operators import Operator as Operator
from overparam.problems._operators import RankOneSensing as RankOneSensing
from overparam.problems._operators import observed_count as observed_count
from overparam.problems._real import movielens_problem as movielens_problem
from overparam.problems._stack import stack_problems as stack_problems
