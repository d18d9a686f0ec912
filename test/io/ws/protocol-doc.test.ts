/** docs/protocol.md is the contract for clients in other languages: it must name everything the code uses. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_SERVER_LIMITS } from '../../../src/io/ws/limits.js';
import {
  CLOSE_CODES,
  ERROR_CODES,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  SHARED_RECORDS,
} from '../../../src/io/ws/protocol.js';

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
});
