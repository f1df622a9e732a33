"""Bridges to neural trainers: any world as a Gymnasium environment seen from the robot's side.

make_env       build the environment (humans act by a Phase 1 prior; reward none or exact U_r)
EmpoRobotEnv   the environment class
ENV_ID         "empo_tabular/Robot-v0", registered with Gymnasium on import:
               ``gymnasium.make(ENV_ID, world=gw, params=params, reward="u_r")``
"""
import gymnasium as _gym

from .robot_env import ENV_ID, EmpoRobotEnv, make_env, own_policies

if ENV_ID not in _gym.registry:
    _gym.register(ENV_ID, entry_point="empo_tabular.envs.robot_env:EmpoRobotEnv")

__all__ = ["ENV_ID", "EmpoRobotEnv", "make_env", "own_policies"]
