"""From an ASCII map to a plotted V_h^e heat map (run: python examples/gridworld_quickstart.py [out_dir]).

Map legend: '#' wall, '.' floor, 'H' human, 'R' robot, 'D' closed door,
lower-case letters name goal regions (see empo_tabular.worlds.gridworld).
"""
import sys

from empo_tabular import EmpoParams, solve_phase1, solve_phase2
from empo_tabular.worlds.gridworld import build_gridworld
from empo_tabular.plotting import plot_goal_ability, save_figure

gw = build_gridworld("""
    #######
    #H.R..#
    ###D###
    #aaaaa#
    #######
""", goals=["a", (1, 1, 5, 1), (3, 2)])            # the room 'a', the corridor, the doorway
params = EmpoParams(gamma_h=0.9, gamma_r=0.9)      # stationary world: discounts < 1
prior = solve_phase1(gw.world, params)             # human policy prior (Phase 1)
sol = solve_phase2(gw.world, prior, params)        # exact robot policy and V_h^e (Phase 2)
ax = plot_goal_ability(gw, sol, human=0, goal="a", state=gw.state_of(doors_open=[True]))
out = sys.argv[1] if len(sys.argv) > 1 else "empo_out"
print("saved", save_figure(ax, f"{out}/gridworld_quickstart.png"))
