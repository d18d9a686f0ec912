#!/usr/bin/python3
"""Brian2 reference for `spikeloop bench engine`: the same network, timed the same way.

The E/I-clustered network of docs/model.md with spikeloop's defaults for a given N (the derivation of
src/model/network.ts, repeated below in Python), in Brian2's C++ standalone mode, one thread,
compiled with -O3 -ffast-math -march=native, synapses stored one by one with their own weight.

Per size: one build (network construction and compilation are not timed), then the compiled binary
runs `--repeats` times. Each run simulates the warm-up, then the measured window; RT = wall time of
the measured window / its biological time. The wall time is taken in the generated main() with
clock_gettime(CLOCK_MONOTONIC) immediately before and after the measured `run()` (code inserted
with device.insert_code), so it covers exactly Brian2's time-step loop of that run. Brian2's own
`device._last_run_time` for the same run is reported as `cpuS`: it is std::clock(), i.e. process
CPU time, not wall time, and falls below wall time when the machine is busy (wall/cpu > 1 says how
much the run was kept off the CPU).

Rates: each neuron counts its spikes in its reset statement (a counter set to 0 at the start of the
measured window), so E and I rates cover the measured window, as spikeloop's rateE/rateI do.

Load: `machineBusy` is the fraction of all CPUs busy (from /proc/stat, this run included) over each
run of the binary; `--idle-below F` waits before each run until the machine was less busy than F.

Needs Debian's python3-brian (Brian2 2.5.1) and g++; run it with the system Python:
    /usr/bin/python3 tools/brian2/reference.py --sizes 2000,5000,20000 --repeats 3
Not part of the test suite.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Defaults of src/model/params.ts (DEFAULT_PARAMS); names and units as there.
DEFAULTS = {
    'clusters': 20,
    'pEE': 0.2,
    'pEI': 0.5,
    'pIE': 0.5,
    'pII': 0.5,
    'jEPlus': 10.0,
    'inhibitoryClusterRatio': 0.75,
    'gE': 1.2,
    'gI': 1.0,
    'tauMembraneEMs': 20.0,
    'tauMembraneIMs': 10.0,
    'capacitancePf': 1.0,
    'restingMv': 0.0,
    'thresholdMv': 20.0,
    'resetMv': 0.0,
    'refractoryMs': 5.0,
    'tauSynExcMs': 3.0,
    'tauSynInhMs': 2.0,
    'backgroundThresholdE': 2.13,
    'backgroundThresholdI': 1.24,
    'initialVoltageLowMv': 0.0,
    'initialVoltageHighMv': 20.0,
    'dtMs': 0.1,
    'delayMs': 0.1,
}

WEIGHT_SCALE = 2**16  # spikeloop's fixed-point weights: integers in units of 2^-16 pA


def synaptic_current_gain(t_ms, tau_m, tau_s, c_pf):
    """src/model/propagators.ts synapticCurrentGain: PSP of a 1 pA current jump at time t."""
    if abs(tau_m - tau_s) < 1e-9 * tau_m:
        return t_ms / c_pf * math.exp(-t_ms / tau_m)
    exp_difference = -math.exp(-t_ms / tau_m) * math.expm1(t_ms / tau_m - t_ms / tau_s)
    return tau_m * tau_s / (c_pf * (tau_m - tau_s)) * exp_difference


def peak_psp(tau_m, tau_s, c_pf):
    if abs(tau_m - tau_s) < 1e-9 * tau_m:
        return tau_m / (c_pf * math.e)
    t_peak = math.log(tau_s / tau_m) / (1 / tau_m - 1 / tau_s)
    return synaptic_current_gain(t_peak, tau_m, tau_s, c_pf)


def derive(n, p=DEFAULTS):
    """The quantities of deriveNetwork (src/model/network.ts) for N neurons."""
    n_e = round(n * 0.8)
    n_i = n - n_e
    q = p['clusters']
    if n_e % q or n_i % q:
        raise SystemExit(f'N = {n} does not split into N_E : N_I = 4 : 1 over Q = {q} clusters: '
                         f'N must be a multiple of {5 * q}')
    v_span = p['thresholdMv'] - p['restingMv']
    c = p['capacitancePf']
    psp = {
        'ee': peak_psp(p['tauMembraneEMs'], p['tauSynExcMs'], c),
        'ei': peak_psp(p['tauMembraneEMs'], p['tauSynInhMs'], c),
        'ie': peak_psp(p['tauMembraneIMs'], p['tauSynExcMs'], c),
        'ii': peak_psp(p['tauMembraneIMs'], p['tauSynInhMs'], c),
    }
    k_ee = p['pEE'] * n_e
    k_ie = p['pIE'] * n_e
    base = {'ee': v_span / (math.sqrt(k_ee) * psp['ee']), 'ie': v_span / (math.sqrt(k_ie) * psp['ie'])}
    base['ei'] = -p['gE'] * base['ee'] * k_ee * psp['ee'] / (p['pEI'] * n_i * psp['ei'])
    base['ii'] = -p['gI'] * base['ie'] * k_ie * psp['ie'] / (p['pII'] * n_i * psp['ii'])
    j_i_plus = 1 + (p['jEPlus'] - 1) * p['inhibitoryClusterRatio']
    plus = {'ee': p['jEPlus'], 'ei': j_i_plus, 'ie': j_i_plus, 'ii': j_i_plus} if q > 1 else dict.fromkeys(base, 1.0)
    minus = {k: (q - v) / (q - 1) if q > 1 else 1.0 for k, v in plus.items()}

    def fixed(w):
        return round(w * WEIGHT_SCALE) / WEIGHT_SCALE  # the weight spikeloop actually adds

    weights = {k: {'same': fixed(base[k] * plus[k]), 'other': fixed(base[k] * minus[k])} for k in base}
    return {
        'n': n,
        'nE': n_e,
        'nI': n_i,
        'clusters': q,
        'weightsPa': weights,
        'backgroundEPa': p['backgroundThresholdE'] * v_span * c / p['tauMembraneEMs'],
        'backgroundIPa': p['backgroundThresholdI'] * v_span * c / p['tauMembraneIMs'],
        'refractorySteps': round(p['refractoryMs'] / p['dtMs']),
    }


def build(net, warmup_s, duration_s, seed, directory, float32):
    """Defines the network in cpp_standalone mode and compiles it into `directory` (not run)."""
    import brian2 as b
    from brian2 import mV, ms, pA, pF, second

    b.set_device('cpp_standalone', build_on_run=False)
    b.device.reinit()  # a fresh project per size (several builds in one process)
    b.device.activate(build_on_run=False)
    b.start_scope()
    b.prefs.codegen.cpp.extra_compile_args_gcc = ['-w', '-O3', '-ffast-math', '-march=native']
    b.prefs.devices.cpp_standalone.openmp_threads = 0  # one thread, no OpenMP
    if float32:
        b.prefs.core.default_float_dtype = b.float32
    p = DEFAULTS
    b.defaultclock.dt = p['dtMs'] * ms
    b.seed(seed)

    # iaf_psc_exp, V relative to E_L. Brian2's 'exact' integrator solves this linear system in
    # closed form: the same propagators P22, P21x, P20, P11x as spikeloop (in float64 by default).
    equations = '''
        dv/dt = -v / tau_m + (I_ex + I_in + I_bg) / C_m : volt (unless refractory)
        dI_ex/dt = -I_ex / tau_ex : amp
        dI_in/dt = -I_in / tau_in : amp
        spike_count : integer
    '''
    # Refractoriness: spikeloop (like NEST) holds V for refractorySteps steps after the step of the
    # spike. Brian2 holds it while timestep(t - lastspike) < timestep(refractory), i.e. for
    # timestep(refractory) - 1 steps after the spike's step, so refractory = (steps + 1)·dt gives
    # the same 50 held steps.
    refractory = (net['refractorySteps'] + 1) * p['dtMs'] * ms
    common = dict(
        threshold='v >= V_th',
        reset='v = V_reset\nspike_count += 1',
        refractory=refractory,
        method='exact',
    )
    constants = {
        'C_m': p['capacitancePf'] * pF,
        'tau_ex': p['tauSynExcMs'] * ms,
        'tau_in': p['tauSynInhMs'] * ms,
        'V_th': (p['thresholdMv'] - p['restingMv']) * mV,
        'V_reset': (p['resetMv'] - p['restingMv']) * mV,
    }
    # Two groups so that tau_m and I_bg are constants of each group's code (Brian2 then computes
    # the propagators once, outside the neuron loop), as a Brian2 user would write this network.
    group_e = b.NeuronGroup(net['nE'], equations, name='E',
                            namespace=dict(constants, tau_m=p['tauMembraneEMs'] * ms, I_bg=net['backgroundEPa'] * pA),
                            **common)
    group_i = b.NeuronGroup(net['nI'], equations, name='I',
                            namespace=dict(constants, tau_m=p['tauMembraneIMs'] * ms, I_bg=net['backgroundIPa'] * pA),
                            **common)
    v_low = p['initialVoltageLowMv'] - p['restingMv']
    v_span = p['initialVoltageHighMv'] - p['initialVoltageLowMv']
    for group in (group_e, group_i):
        group.v = f'({v_low} + rand() * {v_span}) * mV'

    groups = {'e': (group_e, net['nE'] // net['clusters']), 'i': (group_i, net['nI'] // net['clusters'])}
    probabilities = {'ee': p['pEE'], 'ei': p['pEI'], 'ie': p['pIE'], 'ii': p['pII']}
    synapses = []
    # Blocks named <post><pre> as in spikeloop; one spike adds the synapse's own weight w to I_ex
    # (excitatory pre) or I_in (inhibitory pre) of the target, one time step later.
    for block in ('ee', 'ei', 'ie', 'ii'):
        post, post_per_cluster = groups[block[0]]
        pre, pre_per_cluster = groups[block[1]]
        target = 'I_in' if block[1] == 'i' else 'I_ex'
        s = b.Synapses(pre, post, model='w : amp (constant)', on_pre=f'{target}_post += w',
                       delay=p['delayMs'] * ms, name=f'S_{block}')
        # No autapses within a type (pre ≠ post when both are the same group).
        s.connect(condition='i != j' if block[0] == block[1] else None, p=probabilities[block])
        weights = net['weightsPa'][block]
        s.w = (f"(int(i // {pre_per_cluster} == j // {post_per_cluster}) * {weights['same']!r}"
               f" + int(i // {pre_per_cluster} != j // {post_per_cluster}) * {weights['other']!r}) * pA")
        synapses.append(s)

    network = b.Network(group_e, group_i, *synapses)
    network.run(warmup_s * second)
    group_e.spike_count = 0
    group_i.spike_count = 0
    b.device.insert_code('main', 'struct timespec _ref_t0; clock_gettime(CLOCK_MONOTONIC, &_ref_t0);')
    network.run(duration_s * second)
    b.device.insert_code('main', '''
struct timespec _ref_t1; clock_gettime(CLOCK_MONOTONIC, &_ref_t1);
{
    std::ofstream _ref_out("results/measured_wall_s.txt");
    _ref_out.precision(9);
    _ref_out << ((_ref_t1.tv_sec - _ref_t0.tv_sec) + 1e-9 * (_ref_t1.tv_nsec - _ref_t0.tv_nsec)) << std::endl;
}''')
    started = time.monotonic()
    b.device.build(directory=directory, compile=True, run=False, with_output=False)
    return {'device': b.device, 'groups': (group_e, group_i), 'synapses': synapses,
            'compileS': time.monotonic() - started}


def cpu_ticks():
    """(busy, total) jiffies of all CPUs from /proc/stat (Linux)."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_fraction(before, after):
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else 0.0


def wait_for_idle(max_busy, timeout_s):
    """Waits (up to timeout_s) until the machine's CPUs were busy less than max_busy over 2 s; returns that fraction."""
    deadline = time.monotonic() + timeout_s
    while True:
        before = cpu_ticks()
        time.sleep(2)
        busy = busy_fraction(before, cpu_ticks())
        if busy < max_busy or time.monotonic() > deadline:
            return busy


def measure(built, directory, duration_s, idle_below):
    """Runs the compiled binary once; returns wall/CPU time of the measured window and the rates."""
    device = built['device']
    idle_before = wait_for_idle(idle_below, 120) if idle_below is not None else None
    ticks = cpu_ticks()
    started = time.monotonic()
    device.run(directory=directory, with_output=False, run_args=[])
    process_s = time.monotonic() - started
    machine_busy = busy_fraction(ticks, cpu_ticks())
    with open(os.path.join(directory, 'results', 'measured_wall_s.txt')) as f:
        wall_s = float(f.read())
    group_e, group_i = built['groups']
    rate_e = float(group_e.spike_count[:].sum()) / (len(group_e) * duration_s)
    rate_i = float(group_i.spike_count[:].sum()) / (len(group_i) * duration_s)
    return {'wallS': wall_s, 'cpuS': device._last_run_time, 'processS': process_s,
            'rateE': rate_e, 'rateI': rate_i, 'busyBefore': idle_before, 'machineBusy': machine_busy}


def versions():
    import importlib.metadata
    gxx = subprocess.run(['g++', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
    return {'python': sys.version.split()[0], 'brian2': importlib.metadata.version('Brian2'), 'gxx': gxx}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='2000,5000,20000', help='comma-separated N (multiples of 100)')
    parser.add_argument('--duration', type=float, default=None,
                        help='measured biological seconds (default: 5 for N ≤ 5000, 2 above)')
    parser.add_argument('--warmup', type=float, default=0.2, help='biological seconds before the measured window')
    parser.add_argument('--repeats', type=int, default=3, help='runs of the compiled binary per size')
    parser.add_argument('--seed', type=int, default=1, help='seed of Brian2\'s RNG (connectivity, initial V)')
    parser.add_argument('--float32', action='store_true', help='float32 state and weights (default: float64, Brian2\'s default)')
    parser.add_argument('--idle-below', type=float, default=None,
                        help='before each run, wait (up to 120 s) until all CPUs were busy less than this '
                             'fraction over 2 s (e.g. 0.15 on a shared machine)')
    parser.add_argument('--dir', default=None,
                        help='keep the builds in DIR/n<N> (a rerun with unchanged code skips the compilation); '
                             'default: a new temporary directory per size')
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(',')]
    except ValueError:
        raise SystemExit(f'--sizes must be comma-separated integers, got "{args.sizes}"')
    if args.repeats < 1:
        raise SystemExit(f'--repeats must be ≥ 1, got {args.repeats}')
    if args.warmup < 0 or (args.duration is not None and args.duration <= 0):
        raise SystemExit('--warmup must be ≥ 0 and --duration > 0')
    if args.idle_below is not None and not 0 < args.idle_below <= 1:
        raise SystemExit(f'--idle-below must be a fraction in (0, 1], got {args.idle_below}')
    nets = [derive(n) for n in sizes]
    info = versions()
    rows = []
    for net in nets:
        n = net['n']
        duration_s = args.duration if args.duration is not None else (5.0 if n <= 5000 else 2.0)
        directory = os.path.join(args.dir, f'n{n}') if args.dir else tempfile.mkdtemp(prefix=f'brian2-ref-{n}-')
        built = build(net, args.warmup, duration_s, args.seed, directory, args.float32)
        runs = [measure(built, directory, duration_s, args.idle_below) for _ in range(args.repeats)]
        rtfs = [r['wallS'] / duration_s for r in runs]
        synapse_count = sum(len(s) for s in built['synapses'])
        row = {
            'simulator': 'brian2-cpp_standalone', **info, 'n': n, 'threads': 1,
            'float': 'float32' if args.float32 else 'float64', 'seed': args.seed,
            'warmupS': args.warmup, 'durationS': duration_s, 'synapses': synapse_count,
            'compileS': round(built['compileS'], 2),
            'rtf': statistics.median(rtfs), 'rtfMin': min(rtfs), 'rtfMax': max(rtfs),
            'rtfs': rtfs, 'cpuRtfs': [r['cpuS'] / duration_s for r in runs],
            # Fraction of all CPUs busy (this process included) over each binary run, and just before it.
            'machineBusy': [round(r['machineBusy'], 3) for r in runs],
            'busyBefore': [None if r['busyBefore'] is None else round(r['busyBefore'], 3) for r in runs],
            'rateE': statistics.median(r['rateE'] for r in runs),
            'rateI': statistics.median(r['rateI'] for r in runs),
            'nsPerEvent': None, 'dir': directory,
        }
        # Synaptic events of the measured window: spikes × mean out-degree (as bench engine counts).
        spikes = row['rateE'] * net['nE'] * duration_s + row['rateI'] * net['nI'] * duration_s
        events = spikes * synapse_count / n
        row['nsPerEvent'] = statistics.median(r['wallS'] for r in runs) * 1e9 / events if events else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(f"Brian2 {info['brian2']}, Python {info['python']}, {info['gxx']}; "
          f"C++ standalone, one thread, -O3 -ffast-math -march=native")
    print(f"{'N':>7} {'synapses':>11} {'RT median':>9} {'RT min–max':>13} {'CPU RT':>7} {'rateE Hz':>8} {'rateI Hz':>8} {'ns/event':>8}")
    for r in rows:
        print(f"{r['n']:>7} {r['synapses']:>11} {r['rtf']:>9.4f} {r['rtfMin']:>6.4f}–{r['rtfMax']:<6.4f} "
              f"{statistics.median(r['cpuRtfs']):>7.4f} {r['rateE']:>8.2f} {r['rateI']:>8.2f} "
              f"{r['nsPerEvent'] or float('nan'):>8.2f}")


if __name__ == '__main__':
    main()
