"""Bridges to neural trainers: any world as a Gymnasium environment seen from the robot's side.

make_env       build the environment (humans act by a Phase 1 prior; reward none or exact U_r)
EmpoRobotEnv   the environment class
"""
from .robot_env import EmpoRobotEnv, make_env, own_policies

__all__ = ["EmpoRobotEnv", "make_env", "own_policies"]
