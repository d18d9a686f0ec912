/**
 * The JSON schema of report.json (format "spikeloop-latency-report", version 1) and its validator.
 * `spikeloop report DIR` refuses a file that does not match, naming the first problem.
 */
import { lazyValidator, schemaProblems } from '../config/schema.js';

const histogram = {
  type: 'object',
  required: ['unit', 'count', 'min', 'mean', 'p50', 'p90', 'p99', 'p999', 'p9999', 'max', 'encoded'],
  additionalProperties: false,
  properties: {
    unit: { const: 'us' },
    count: { type: 'integer', minimum: 0 },
    min: { type: 'number', minimum: 0 },
    mean: { type: 'number', minimum: 0 },
    p50: { type: 'number', minimum: 0 },
    p90: { type: 'number', minimum: 0 },
    p99: { type: 'number', minimum: 0 },
    p999: { type: 'number', minimum: 0 },
    p9999: { type: 'number', minimum: 0 },
    max: { type: 'number', minimum: 0 },
    /** HdrHistogram's compressed base64 encoding (V2 compressed), the source of truth. */
    encoded: { type: 'string', minLength: 1 },
  },
} as const;

const numbers = { type: 'array', items: { type: 'number' } } as const;

const scalar = { type: ['string', 'number', 'boolean'] } as const;

export const REPORT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://spikeloop.dev/schemas/latency-report-v1.json',
  title: 'spikeloop latency report',
  type: 'object',
  required: ['format', 'version', 'run', 'counters', 'histograms', 'e2eByInput', 'budgets'],
  additionalProperties: false,
  properties: {
    format: { const: 'spikeloop-latency-report' },
    version: { const: 1 },
    run: {
      type: 'object',
      required: ['env', 'tickMs', 'latePolicy', 'startedAt', 'wallS', 'stopReason'],
      properties: {
        env: { type: 'string' },
        backend: { type: 'string' },
        adapter: { type: 'string' },
        n: { type: 'integer', minimum: 1 },
        model: { type: 'string' },
        seed: { type: 'integer', minimum: 0 },
        tickMs: { type: 'number', exclusiveMinimum: 0 },
        latePolicy: { enum: ['skip', 'late'] },
        startedAt: { type: 'string', format: 'date-time' },
        wallS: { type: 'number', minimum: 0 },
        stopReason: { type: 'string' },
        tickThread: { type: 'boolean' },
        scheduling: { type: 'string', pattern: '^(normal|FIFO [0-9]+)$' },
        tickAllocBytesPerTick: { type: 'number', minimum: 0 },
        tickGcMinor: { type: 'integer', minimum: 0 },
        tickGcMajor: { type: 'integer', minimum: 0 },
        environment: { type: 'object', additionalProperties: scalar },
      },
      additionalProperties: scalar,
    },
    counters: {
      type: 'object',
      required: ['ticks', 'missed', 'overruns'],
      additionalProperties: false,
      properties: {
        ticks: { type: 'integer', minimum: 0 },
        missed: { type: 'integer', minimum: 0 },
        overruns: { type: 'integer', minimum: 0 },
      },
    },
    histograms: {
      type: 'object',
      required: ['lateness', 'compute', 'e2e'],
      additionalProperties: false,
      properties: { lateness: histogram, compute: histogram, e2e: histogram },
    },
    e2eByInput: { type: 'object', additionalProperties: histogram },
    activity: {
      type: 'object',
      required: ['clusters', 'populationRatesHz', 'rateEHz', 'rateIHz', 'spikes'],
      additionalProperties: false,
      properties: {
        clusters: { type: 'integer', minimum: 0 },
        populationRatesHz: numbers,
        rateEHz: { type: 'number', minimum: 0 },
        rateIHz: { type: 'number', minimum: 0 },
        spikes: { type: 'number', minimum: 0 },
      },
    },
    timeline: {
      type: 'object',
      required: ['binMs', 'ticks', 'missed', 'latenessMaxUs', 'computeMaxUs', 'rateEHz', 'rateIHz'],
      additionalProperties: false,
      properties: {
        binMs: { type: 'number', exclusiveMinimum: 0 },
        ticks: numbers,
        missed: numbers,
        latenessMaxUs: numbers,
        computeMaxUs: numbers,
        rateEHz: numbers,
        rateIHz: numbers,
      },
    },
    budgets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['budget', 'metric', 'ok', 'value', 'limit', 'message'],
        additionalProperties: false,
        properties: {
          budget: { type: 'string' },
          metric: { enum: ['lateness', 'compute', 'e2e', 'missed', 'overruns'] },
          ok: { type: 'boolean' },
          value: { type: 'number' },
          limit: { type: 'number' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

/** Compiled on first use, so commands that never read a report do not pay for it. */
const compiled = lazyValidator(REPORT_SCHEMA);

export class ReportFormatError extends Error {
  override name = 'ReportFormatError';
}

/** Throws a ReportFormatError naming the first mismatch, or returns normally. */
export function validateReportJson(value: unknown, source: string): void {
  const validate = compiled();
  if (!validate(value)) {
    const first = schemaProblems(validate.errors ?? [])[0];
    const detail =
      first === undefined ? 'invalid' : first.path === '' ? first.detail : `${first.path}: ${first.detail}`;
    throw new ReportFormatError(`${source}: not a spikeloop latency report: ${detail}`);
  }
}
