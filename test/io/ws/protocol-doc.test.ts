/** docs/protocol.md is the contract for clients in other languages: it must name everything the code uses. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arenaChannelInfo } from '../../../src/env/arena/channels.js';
import { DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { DEFAULT_LIMITS, DEFAULT_SERVER_LIMITS } from '../../../src/io/ws/limits.js';
import { MAX_LOG_LINE_CHARS } from '../../../src/io/ws/log-line.js';
import {
  CLOSE_CODES,
  ERROR_CODES,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  SHARED_RECORDS,
} from '../../../src/io/ws/protocol.js';
import { closeCode } from '../../../src/io/ws/server.js';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  it('documents the version, every message type and every error code', () => {
    expect(doc).toContain(`# The spikeloop WebSocket protocol, version ${PROTOCOL_VERSION}`);
    for (const type of MESSAGE_TYPES) expect(doc, type).toMatch(new RegExp(`### 4\\.\\d \`${type}\``));
    for (const code of ERROR_CODES) expect(doc, code).toContain(`| \`${code}\` |`);
  });

  it('documents every close code and every default limit with its value', () => {
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      if (name === 'normal' || name === 'going' || name === 'protocolError') continue;
      expect(doc, name).toContain(String(code));
    }
    for (const [name, value] of Object.entries({ ...DEFAULT_LIMITS, ...DEFAULT_SERVER_LIMITS })) {
      const label = name === 'highWaterBytes' ? 'send high-water mark' : `\`${name}\``;
      expect(doc, name).toContain(`| ${label} | ${value} |`);
    }
  });

  it('documents the shared record structures byte for byte', () => {
    SHARED_RECORDS.forEach((keys, k) => {
      const row = `| \`0x${(0x40 + k).toString(16)}\` | ${keys.map((key) => `\`${key}\``).join(', ')} |`;
      expect(doc).toContain(row);
    });
  });

  it('gives every error code the fatality and close code the server uses', () => {
    for (const code of ERROR_CODES) {
      const table = doc.slice(doc.indexOf('| Code | Fatal | When | Close code |'));
      const row = table.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      const [, , fatal, , close] = row!.split('|').map((cell) => cell.trim());
      if (fatal === 'no') expect(close, code).toBe('');
      else expect(close, code).toBe(String(closeCode(code)));
    }
    // Every pre-hello failure is fatal not-ready; ill-typed fields are bad-message, not other codes.
    expect(doc).toMatch(/Before the hello, the only acceptable message is a valid hello/);
    expect(doc).toMatch(/`ts` missing or not a number, `v` not an array/);
    expect(doc).toContain('a sensor or motor size other than the bridge');
    expect(doc).toContain(`cut to\n${MAX_LOG_LINE_CHARS} chars`);
  });

  it('describes the arena channels exactly as config sends them', () => {
    for (const row of [
      '| `description` |',
      '| `components` |',
      '| `units` |',
      '| `min`, `max` |',
      '| `anglesRad` |',
    ])
      expect(doc).toContain(row);
    const info = arenaChannelInfo(DEFAULT_ARENA);
    const degrees = info.ranges!.anglesRad!.map((a) => `${Math.round((a * 180) / Math.PI)}°`).join(', ');
    expect(doc).toContain(`one distance per ray at ${degrees.replaceAll('-', '−')}`);
    for (const [name, channel] of Object.entries(info)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` (`));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(
        `(${name === 'cmd_vel' ? 'motor' : 'sensor'}, ${channel.components.length})`,
      );
      expect(row, name).toContain([...new Set(channel.units)].join(', '));
    }
    expect(doc).toContain(`±${info.cmd_vel!.max[0]}, ±${info.cmd_vel!.max[1]}`);
  });
});
