"""Worlds: ASCII gridworlds, the scenario library, random worlds and rollouts (all build a TabularWorld)."""
from .gridworld import GridWorld, build_gridworld
from .random_worlds import random_world
from .scenarios import describe_scenario, get_scenario, list_scenarios, suggested_horizon, suggested_params
from .trajectories import rollout

__all__ = ["GridWorld", "build_gridworld", "describe_scenario", "get_scenario", "list_scenarios", "random_world",
           "rollout", "suggested_horizon", "suggested_params"]
