"""The one-command demos of the examples: their scenario files are valid and place the calls the demos
count on, their command script uses only the tool's commands, and ``demo.sh`` says what to do when no twin
is running instead of starting one."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from callyard.sim.scenario import load_scenario, plan_calls
from tests.conftest import free_port
from tests.examples.support import CALL_CONTROL, ROOT

SCENARIOS = ROOT / "examples" / "scenarios"


def test_router_demo_scenario_places_the_calls_the_demo_waits_for() -> None:
    scenario = load_scenario(SCENARIOS / "router-demo.yaml")
    calls = plan_calls(scenario, scenario.duration, seed=1)
    # demo.sh runs the router with --max-calls 7: every call of the file rings a watched endpoint (2880-2889)
    assert len(calls) == 7
    assert all(2880 <= int(c.to) <= 2889 for c in calls)
    prefixes = sorted(c.from_number[:5] for c in calls)
    assert prefixes.count("+1613") == 3 and prefixes.count("+1343") == 1 and prefixes.count("+1416") == 3


def test_call_control_demo_scenario_and_script() -> None:
    scenario = load_scenario(SCENARIOS / "call-control-demo.yaml")
    [call] = plan_calls(scenario, scenario.duration, seed=1)
    assert (call.from_number, call.to) == ("+16135550123", "2881")
    profiles = {number: setup.profile for number, setup in scenario.setup.endpoints.items()}
    assert profiles["2881"].mode == "manual" and profiles["2882"].mode == "answer"  # the tool answers for bob

    spec = importlib.util.spec_from_file_location("callcontrol_example", CALL_CONTROL)
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = module.script_lines(None, ROOT / "examples" / "call_control" / "demo-script.txt")
    assert [line.split()[0] for line in lines] == ["answer", "consult", "transfer", "wait", "calls", "history"]
    assert all(hasattr(module.Tool, f"cmd_{line.split()[0]}") for line in lines)


@pytest.mark.parametrize("demo", ["call_router", "call_control"])
def test_demo_without_a_twin_says_to_run_make_run(demo: str) -> None:
    script = ROOT / "examples" / demo / "demo.sh"
    assert os.access(script, os.X_OK)
    env = {**os.environ, "CALLYARD_SERVER": f"http://127.0.0.1:{free_port()}"}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "No callyard twin answers at" in done.stderr and "make run" in done.stderr
    assert done.stdout == ""   # nothing was started


def test_the_demos_start_on_idle_phones(twin, control) -> None:
    """A call an earlier demo left behind (bob talking, never hanging up) does not break the next demo: each
    demo's scenario hangs up what is still live before it places its calls (``hangUpLiveCalls``)."""
    for name in ("router-demo.yaml", "call-control-demo.yaml"):
        assert load_scenario(SCENARIOS / name).hangUpLiveCalls, name
    placed = control.http.post("/_callyard/sim/calls", json={"from": "+16135550999", "to": "2881"})
    assert placed.status_code == 201, placed.text
    assert control.http.post("/_callyard/sim/endpoints/2881/answer").status_code == 200
    if not (ROOT / ".venv" / "bin" / "callyard").exists():
        pytest.skip("the demos run the checkout's .venv (make install)")
    env = {**os.environ, "CALLYARD_SERVER": twin.url}
    done = subprocess.run([str(ROOT / "examples" / "call_control" / "demo.sh")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "transferred" in done.stdout.lower() or "transfer" in done.stdout.lower()
