"""Scenario files: call traffic against a running callyard server, described in YAML.

A scenario prepares the people at the phones (agent state, endpoint settings and behaviour profiles) and
then places outside calls on a schedule through the simulator routes (``/_callyard/sim``). It runs on the
wall clock, or with ``--virtual`` against a server started with ``--clock manual``, where the runner moves
the virtual clock itself (``POST /_callyard/clock/advance``) so ten scenario minutes take seconds.

Format (every key but ``name``, ``duration`` and ``traffic`` is optional; unknown keys are errors)::

    name: support-queue                 # shown in the progress and the summary
    description: free text
    duration: 300                       # seconds of traffic (scenario clock); `--duration` overrides
    drain: 60                           # then this long with no new calls, so calls can finish (default 0)
    reset: false                        # POST /_callyard/reset first (back to the tenant baseline)
    hangUpLiveCalls: false              # first hang up every call still live in the account (a clean start
                                        # without a reset: users, subscriptions and apps stay)
    maxErrorRate: 0.01                  # failed requests / requests above this → exit status 1
    setup:
      agents:                           # POST /_callyard/sim/agents/{userId}
        - user: alice@acme.example      # email, userId or extension
          loggedIn: true                # default true
          ready: true                   # optional; logging in makes an agent ready
          reason: Lunch                 # not-ready reason code
          skills: {billing: 5}          # skill → level 0..100
          presence: {<groupId>: false}  # per-queue presence
      endpoints:                        # PUT /_callyard/sim/endpoints/{number}
        "2880":
          profile: {mode: answer, answerAfter: [3, 8], talkSeconds: [30, 120]}
          noAnswerSeconds: 12           # and any endpoint setting: dnd, callWaiting, voicemail, outOfService,
          forwardBusy: "2881"           # forwardAlways/Busy/NoAnswer/Dnd, userAvailability, messageWaiting, …
    media: …                            # chat, SMS and open-media streams and the agents who answer them:
                                        # see callyard.sim.media_traffic
    traffic:                            # one or more call streams
      - name: inbound                   # label in the summary (default: the `to`)
        every: 2                        # seconds between calls — or `rate: 0.5` (calls per second)
        arrival: fixed                  # fixed (default) or poisson (exponential gaps with that mean)
        jitter: 0.5                     # fixed only: each gap ± up to this many seconds
        start: 0                        # seconds into the scenario (default 0)
        stop: 240                       # no new calls from this stream after (default: duration)
        count: 100                      # at most this many calls
        from: "+1613555{rand:4}"        # the outside caller: {rand:N} = N random digits, {n} = call number
        fromName: "Caller {n}"
        to: "5000"                      # a number, a list (uniform choice) or {number: weight, …}
        priority: 0                     # queue priority 0..100
        skill: billing                  # for skills-based queues
        callerProfile: {talkSeconds: [60, 180]}   # the caller hangs up this long after being answered
        abandonAfter: [30, 120]         # …and gives up if nobody answered within this many seconds

Durations (``answerAfter``, ``talkSeconds``, ``abandonAfter``) are seconds or ``[min, max]`` (uniform).
Profiles are the simulator's (``callyard.sim.profiles``): ``mode`` is ``manual`` (default), ``answer``
(after ``answerAfter``; ``answerAfter`` alone implies it), ``autoAnswer``, ``never`` or ``busy`` (rejects).
The caller's profile is set on the outside number's endpoint before it dials; ``abandonAfter`` is carried
out by the runner (it hangs the caller up if the call is still unanswered then).

Randomness (caller numbers, choices, gaps, patience) comes from the seed (``--seed``; one generator per
stream), drawn before the run starts, so a seed gives the same calls at the same scenario times; a drawn
caller number the server refuses (a DID of the account) is drawn again. The server draws profile delays
from its own generator (``callyard serve --seed``).

The summary counts every placed call once: *live at end* (still going when the run ended, answered or not:
a call that never finishes shows here), then for finished calls *answered* (a person picked up),
*voicemail*, *abandoned* (the runner hung up an unanswered caller), *rejected* (turned away at once: busy,
unobtainable, …), *unanswered* (ended otherwise without an answer), and *errors* (not placed); with the
API latency (p50/p95 of every request but clock advances), requests per second and per-queue statistics.

The package: ``model`` (the file's model, and reading it with every problem located at its line),
``plan`` (the calls drawn up front; caller templates), ``runner`` (setting up, placing the calls on the
clock, watching them) and ``summary`` (what a run sums up to, and printing it).
"""
from callyard.sim.scenario.model import (MAX_SECONDS, MODES, AgentSetup, EndpointSetup, Model, Profile, Scenario,
                                         ScenarioError, Setup, Traffic, load_scenario, parse_scenario,
                                         seconds_or_range)
from callyard.sim.scenario.plan import PlannedCall, arrival_times, check_template, describe, plan_calls, render
from callyard.sim.scenario.runner import Runner, RunnerError, Tracked, run_scenario
from callyard.sim.scenario.summary import Summary, print_summary

__all__ = ["MAX_SECONDS", "MODES", "AgentSetup", "EndpointSetup", "Model", "PlannedCall", "Profile", "Runner",
           "RunnerError", "Scenario", "ScenarioError", "Setup", "Summary", "Tracked", "Traffic", "arrival_times",
           "check_template", "describe", "load_scenario", "parse_scenario", "plan_calls", "print_summary",
           "render", "run_scenario", "seconds_or_range"]
