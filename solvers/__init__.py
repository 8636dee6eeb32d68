"""Numerical building blocks with no domain vocabulary: special functions and root finding."""

from solvers.lambertw import generalized_lambertw as generalized_lambertw
from solvers.lambertw import generalized_lambertw_all as generalized_lambertw_all
from solvers.roots import bisect as bisect
from solvers.roots import find_root as find_root
