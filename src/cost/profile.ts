/**
 * Hardware profiles (hardware-profiles/NAME.json, schema hardware-profiles/schema.json): what
 * `spikeloop calibrate` measured on this machine, and the recommendation the loop takes from it
 * (`spikeloop run --profile FILE`): which backend, and the largest N that holds real time at the tick.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, jsonSchema, schemaChecker } from '../config/schema.js';
import type { BackendName, ThreadFit } from '../engine/engine.js';
import { synapseCount } from '../model/network.js';
import { type ModelName, modelParams } from '../model/params.js';
import type { CostMeasurement, TickOverhead } from './cost.js';
import { type CostFit, type LineFit, largestRealTimeN, rtfAtTick } from './fit.js';

export interface ProfileSample {
  n: number;
  synapses: number;
  buildS: number;
  durationS: number;
  wallS: number;
  rtf: number;
  /** Timed windows (calibrate --repeats), and the fastest and slowest window's RT; rtf is the median's. */
  repeats?: number;
  rtfMin?: number;
  rtfMax?: number;
  rateE?: number;
  rateI?: number;
  eventsPerS: number;
  rssBytes: number;
  engineBytes: number;
  wallVsBio?: LineFit;
  /** CPU backend: the threads of this sample (with several measured, the fastest). */
  threads?: number;
}

/** CPU backend: RT(N) = a0 + a1·N + a2·M measured with `threads` threads (calibrate). */
export interface ThreadCostFit extends CostFit {
  threads: number;
}

/** CPU backend: one size measured at one thread count (calibrate). */
export interface ThreadSample {
  n: number;
  synapses: number;
  threads: number;
  rtf: number;
}

export interface BackendProfile {
  backend: BackendName;
  available: boolean;
  reason?: string;
  adapter?: string;
  samples?: ProfileSample[];
  fit?: CostFit;
  /** CPU backend: every size at every measured thread count, and one fit per thread count. */
  threadSamples?: ThreadSample[];
  threadFits?: ThreadCostFit[];
  fixedCost?: LineFit;
  tickOverheadUs?: number;
  largestRealTimeN?: number | null;
  extrapolated?: boolean;
}

export interface HardwareProfile {
  schemaVersion: 1;
  name: string;
  date: string;
  host: { os: string; arch: string; cpuModel: string; cpuCores: number; memoryBytes: number };
  software: { node: string; spikeloop: string; webgpu?: string };
  measurement: {
    model: ModelName;
    sizes: number[];
    durationS: number;
    warmupS: number;
    /** Timed windows per measurement (calibrate --repeats); absent in older profiles: 1. */
    repeats?: number;
    tickMs: number;
    stepsPerCall: number;
  };
  safetyMargin: number;
  backends: BackendProfile[];
  recommended: { backend: BackendName | null; n: number | null; tickMs: number };
}

/** Network sizes are multiples of 100 so that N_E and N_I split evenly into Q = 20 clusters. */
export const SIZE_STEP = 100;
/** The largest real-time N is searched up to this multiple of the largest measured size. */
export const EXTRAPOLATION_LIMIT = 2;

const schemaUrl = new URL('../../hardware-profiles/schema.json', import.meta.url);
let checker: ((value: unknown, source: string) => HardwareProfile) | null = null;

/** Validates against hardware-profiles/schema.json; throws a ConfigError naming every problem. */
export function validateHardwareProfile(value: unknown, source: string): HardwareProfile {
  checker ??= schemaChecker(jsonSchema<HardwareProfile>(JSON.parse(readFileSync(schemaUrl, 'utf8'))));
  const profile = checker(value, source);
  if (Number.isNaN(Date.parse(profile.date))) throw new ConfigError(`${source}: date: not an ISO 8601 time`);
  return profile;
}

export function loadHardwareProfile(path: string): HardwareProfile {
  return validateHardwareProfile(loadConfigFile(path, 'hardware profile'), path);
}

export function writeHardwareProfile(path: string, profile: HardwareProfile): void {
  validateHardwareProfile(profile, path);
  writeFileSync(path, `${JSON.stringify(profile, null, 2)}\n`);
}

/** Versions of the software that was measured. */
export function softwareVersions(): HardwareProfile['software'] {
  const require = createRequire(import.meta.url);
  const own = require('../../package.json') as { version: string };
  let webgpu: string | undefined;
  try {
    webgpu = (require('webgpu/package.json') as { version: string }).version;
  } catch {
    webgpu = undefined;
  }
  return { node: process.version, spikeloop: own.version, ...(webgpu ? { webgpu } : {}) };
}

export function hostDescription(): HardwareProfile['host'] {
  return {
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCores: cpus().length,
    memoryBytes: totalmem(),
  };
}

/** A default profile name from the CPU and core count, e.g. "intel-xeon-processor-2c". */
export function defaultProfileName(): string {
  const host = hostDescription();
  const slug = host.cpuModel
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|cpu|@.*$/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${slug || 'machine'}-${host.cpuCores}c`;
}

/** A measurement as the profile stores it: everything but what the backend entry already says. */
export function profileSample(measurement: CostMeasurement): ProfileSample {
  const {
    backend: _backend,
    adapter: _adapter,
    batch: _batch,
    threads,
    nsPerEventPerThread: _nsPerEvent,
    reference: _reference,
    ...sample
  } = measurement;
  return threads === null ? sample : { ...sample, threads };
}

/** Largest real-time N of one backend at `tickMs` (fit measured at `measuredTickMs`). */
export function largestRealTimeNOf(
  backend: Pick<BackendProfile, 'fit' | 'tickOverheadUs' | 'samples'>,
  model: ModelName,
  measuredTickMs: number,
  tickMs: number,
  margin: number,
): { n: number | null; extrapolated: boolean } {
  if (!backend.fit) return { n: null, extrapolated: false };
  const fit = backend.fit;
  const largestMeasured = Math.max(SIZE_STEP, ...(backend.samples ?? []).map((s) => s.n));
  const n = largestRealTimeN({
    synapsesOf: (size) => synapseCount(modelParams(model, size)),
    rtfOf: (size, synapses) =>
      rtfAtTick(fit, size, synapses, { measuredTickMs, tickMs, overheadUs: backend.tickOverheadUs ?? 0 }),
    margin,
    stepN: SIZE_STEP,
    maxN: Math.floor((largestMeasured * EXTRAPOLATION_LIMIT) / SIZE_STEP) * SIZE_STEP,
  });
  return { n, extrapolated: n !== null && n > largestMeasured };
}

export interface Recommendation {
  backend: BackendName | null;
  n: number | null;
  tickMs: number;
  /** Predicted real-time factor of that backend and N at the tick. */
  predictedRtf: number | null;
  /** One line saying why. */
  reason: string;
}

/**
 * The backend and size the loop should use at `tickMs`: among the available backends with a fit,
 * the one that holds real time (with the profile's safety margin) for the largest N.
 */
export function recommendFromProfile(profile: HardwareProfile, tickMs: number): Recommendation {
  if (!(tickMs > 0)) throw new ConfigError(`tickMs must be > 0, got ${tickMs}`);
  const { model, tickMs: measuredTickMs } = profile.measurement;
  let best: { backend: BackendProfile; n: number } | null = null;
  for (const backend of profile.backends) {
    if (!backend.available || !backend.fit) continue;
    const { n } = largestRealTimeNOf(backend, model, measuredTickMs, tickMs, profile.safetyMargin);
    if (n !== null && (best === null || n > best.n)) best = { backend, n };
  }
  if (!best) {
    return {
      backend: null,
      n: null,
      tickMs,
      predictedRtf: null,
      reason: `no backend in profile "${profile.name}" holds real time at a ${tickMs} ms tick with a ${profile.safetyMargin * 100}% margin`,
    };
  }
  const fit = best.backend.fit!;
  const predictedRtf = rtfAtTick(fit, best.n, synapseCount(modelParams(model, best.n)), {
    measuredTickMs,
    tickMs,
    overheadUs: best.backend.tickOverheadUs ?? 0,
  });
  return {
    backend: best.backend.backend,
    n: best.n,
    tickMs,
    predictedRtf,
    reason: `profile "${profile.name}": ${best.backend.backend} holds real time up to N = ${best.n} at a ${tickMs} ms tick (predicted RT ${predictedRtf.toFixed(2)}, margin ${profile.safetyMargin * 100}%)`,
  };
}

export interface BackendResult {
  backend: BackendName;
  available: boolean;
  reason?: string;
  adapter?: string;
  samples: CostMeasurement[];
  /** CPU backend with several thread counts measured (calibrate): every measurement and each count's fit. */
  threadSamples?: CostMeasurement[];
  threadFits?: ThreadCostFit[];
  fit: CostFit | null;
  fixedCost: LineFit | null;
  tickOverhead: TickOverhead | null;
  /**
   * Build time of the first engine in a fresh process (s): Dawn instance, adapter, device and
   * pipeline compilation, or WebAssembly compilation. Later builds in the same process reuse them.
   */
  coldBuildS: number | null;
}

/** Assembles a profile from measured backends (computing each largest real-time N and the recommendation). */
export function buildHardwareProfile(
  name: string,
  measurement: HardwareProfile['measurement'],
  safetyMargin: number,
  results: readonly BackendResult[],
): HardwareProfile {
  const backends: BackendProfile[] = results.map((result) => {
    const entry: BackendProfile = { backend: result.backend, available: result.available };
    if (result.reason) entry.reason = result.reason;
    if (result.adapter) entry.adapter = result.adapter;
    if (result.samples.length > 0) entry.samples = result.samples.map(profileSample);
    if (result.fit) entry.fit = result.fit;
    if (result.threadSamples && result.threadSamples.length > 0) {
      entry.threadSamples = result.threadSamples.map((m) => ({
        n: m.n,
        synapses: m.synapses,
        threads: m.threads ?? 1,
        rtf: m.rtf,
      }));
    }
    if (result.threadFits && result.threadFits.length > 0) entry.threadFits = result.threadFits;
    if (result.fixedCost) entry.fixedCost = result.fixedCost;
    if (result.tickOverhead) entry.tickOverheadUs = result.tickOverhead.perCallUs;
    if (result.fit) {
      const { n, extrapolated } = largestRealTimeNOf(
        entry,
        measurement.model,
        measurement.tickMs,
        measurement.tickMs,
        safetyMargin,
      );
      entry.largestRealTimeN = n;
      entry.extrapolated = extrapolated;
    }
    return entry;
  });
  const profile: HardwareProfile = {
    schemaVersion: 1,
    name,
    date: new Date().toISOString(),
    host: hostDescription(),
    software: softwareVersions(),
    measurement,
    safetyMargin,
    backends,
    recommended: { backend: null, n: null, tickMs: measurement.tickMs },
  };
  const recommendation = recommendFromProfile(profile, measurement.tickMs);
  profile.recommended = { backend: recommendation.backend, n: recommendation.n, tickMs: measurement.tickMs };
  return profile;
}

/** Where calibrate writes profiles by default (relative to the working directory), then the package's own. */
export function profileFolders(): string[] {
  const own = fileURLToPath(new URL('../../hardware-profiles', import.meta.url));
  const local = resolve('hardware-profiles');
  return local === own ? [own] : [local, own];
}

/**
 * The newest profile, among `folders`, measured on a machine like this one (same CPU model and
 * core count) that holds measured CPU costs per thread count (threadFits); null if none. Files
 * that are not valid profiles are skipped: this only picks a default and must not stop a run.
 */
export function machineProfile(
  folders: readonly string[] = profileFolders(),
  host: Pick<HardwareProfile['host'], 'cpuModel' | 'cpuCores'> = hostDescription(),
): { path: string; profile: HardwareProfile } | null {
  let best: { path: string; profile: HardwareProfile } | null = null;
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.json') || name === 'schema.json') continue;
      const path = join(folder, name);
      let profile: HardwareProfile;
      try {
        profile = loadHardwareProfile(path);
      } catch {
        continue;
      }
      if (profile.host.cpuModel !== host.cpuModel || profile.host.cpuCores !== host.cpuCores) continue;
      const cpu = profile.backends.find((b) => b.backend === 'cpu');
      if (!cpu?.threadFits || cpu.threadFits.length === 0) continue;
      if (best === null || Date.parse(profile.date) > Date.parse(best.profile.date)) best = { path, profile };
    }
  }
  return best;
}

/** This machine's measured CPU cost per thread count (machineProfile), for EngineOptions.measuredThreadCost. */
export function machineThreadCost(folders?: readonly string[]): { path: string; fits: ThreadFit[] } | null {
  const found = machineProfile(folders);
  if (!found) return null;
  const cpu = found.profile.backends.find((b) => b.backend === 'cpu')!;
  return {
    path: found.path,
    fits: cpu.threadFits!.map(({ threads, a0, a1, a2 }) => ({ threads, a0, a1, a2 })),
  };
}

export interface ProfileChoice {
  backend: BackendName | 'auto';
  n: number;
  /** One line for the user: what the profile chose and why. */
  message: string;
}

/**
 * What `spikeloop run --profile FILE` uses: the profile's backend and largest real-time N at the
 * tick, except where the user set --backend or --n explicitly (those win). Throws when the
 * profile has nothing that holds real time and the user did not choose both.
 */
export function applyHardwareProfile(
  path: string,
  tickMs: number,
  current: { backend: BackendName | 'auto'; n: number },
  explicit: { backend: boolean; n: boolean },
): ProfileChoice {
  const recommendation = recommendFromProfile(loadHardwareProfile(path), tickMs);
  if (explicit.backend && explicit.n) {
    return { ...current, message: `--backend and --n given: profile ${path} not used for them` };
  }
  if (recommendation.backend === null || recommendation.n === null) {
    throw new ConfigError(`${path}: ${recommendation.reason}; pass --backend and --n to run anyway`);
  }
  return {
    backend: explicit.backend ? current.backend : recommendation.backend,
    n: explicit.n ? current.n : recommendation.n,
    message: recommendation.reason,
  };
}
