import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { notFinite, notIntegerIn, notNonNegative, notPositive } from '../../src/config/checks.js';
import { loadConfigFile, readConfigFile } from '../../src/config/load.js';
import { ConfigError, keyPath, schemaChecker, stringEnum, taggedUnion } from '../../src/config/schema.js';
import { checkSettingKeys } from '../../src/config/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loader', () => {
  it('reads YAML, and JSON by its extension, from real files', async () => {
    writeFileSync(join(dir, 'a.yaml'), 'n: 200\nlist: [1, 2]\n');
    writeFileSync(join(dir, 'b.json'), '{"n": 300}');
    expect(loadConfigFile(join(dir, 'a.yaml'), 'sweep file')).toEqual({ n: 200, list: [1, 2] });
    expect(await readConfigFile(join(dir, 'b.json'), 'mapping file')).toEqual({ n: 300 });
  });

  it('names the file and what it was meant to be when it cannot be read or parsed', async () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadConfigFile(missing, 'sweep file')).toThrow(
      new RegExp(`^cannot read sweep file ${missing}: ENOENT`),
    );
    await expect(readConfigFile(missing, 'mapping file')).rejects.toThrow(ConfigError);
    writeFileSync(join(dir, 'broken.yaml'), 'robot: [unclosed\n');
    expect(() => loadConfigFile(join(dir, 'broken.yaml'), 'x')).toThrow(
      /broken\.yaml: not valid YAML: [^\n]+$/,
    );
    writeFileSync(join(dir, 'broken.json'), '{ "n": ');
    expect(() => loadConfigFile(join(dir, 'broken.json'), 'x')).toThrow(/broken\.json: not valid JSON: /);
  });
});

describe('schema checker', () => {
  const schema = Type.Object(
    {
      n: Type.Integer({ minimum: 5 }),
      rateHz: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      mode: Type.Optional(stringEnum(['sine', 'step'])),
      shapes: Type.Optional(
        Type.Array(
          taggedUnion('kind', [
            Type.Object({ kind: Type.Literal('circle'), r: Type.Number() }, { additionalProperties: false }),
            Type.Object({ kind: Type.Literal('box'), w: Type.Number() }, { additionalProperties: false }),
          ]),
        ),
      ),
    },
    { additionalProperties: false },
  );
  const check = schemaChecker(schema);

  it('returns the value, typed by the schema', () => {
    const value = check({ n: 10, shapes: [{ kind: 'circle', r: 1 }] }, 'f.yaml');
    expect(value.n + (value.rateHz ?? 0)).toBe(10);
  });

  it('says every problem as FILE: key.path: what, got VALUE', () => {
    expect(() => check({ n: 2.5, rateHz: 0, mode: 'saw', extra: 1 }, 'f.yaml')).toThrow(
      'f.yaml: unknown key "extra"; n: must be a finite integer, got 2.5; rateHz: must be > 0, got 0; mode: must be one of "sine", "step", got "saw"',
    );
    expect(() => check({ rateHz: 1 }, 'f.yaml')).toThrow('f.yaml: missing required key "n"');
    // Numbers must be finite (strictNumbers): NaN and Infinity are refused by the schema.
    expect(() => check({ n: 10, rateHz: Number.POSITIVE_INFINITY }, 'f.yaml')).toThrow(
      'f.yaml: rateHz: must be a finite number, got Infinity',
    );
  });

  it('a tagged union reports a wrong tag once, with the known ones', () => {
    expect(() => check({ n: 10, shapes: [{ kind: 'circle', r: 1 }, { kind: 'star' }] }, 'f.yaml')).toThrow(
      'f.yaml: shapes[1].kind: "star" is not supported here; expected one of circle, box',
    );
    expect(() => check({ n: 10, shapes: [{ kind: 'box', r: 1 }] }, 'f.yaml')).toThrow(
      /^f\.yaml: shapes\[0\]: missing required key "w"; shapes\[0\]: unknown key "r"$/,
    );
  });

  it('writes JSON pointers as key paths', () => {
    expect(keyPath('')).toBe('');
    expect(keyPath('/sensors/0/sectors')).toBe('sensors[0].sectors');
    expect(keyPath('/a~1b/2')).toBe('a/b[2]');
  });
});

describe('one check per kind of value', () => {
  it('returns undefined for a good value and the problem otherwise', () => {
    expect(notFinite(1.5)).toBeUndefined();
    expect(notFinite(Number.NaN)).toBe('must be a finite number, got NaN');
    expect(notFinite('3')).toBe('must be a finite number, got "3"');
    expect(notPositive(1e-9)).toBeUndefined();
    expect(notPositive(0)).toBe('must be > 0, got 0');
    expect(notPositive(null)).toBe('must be a finite number, got null');
    expect(notNonNegative(0)).toBeUndefined();
    expect(notNonNegative(-1)).toBe('must be ≥ 0, got -1');
    expect(notIntegerIn(3, 0, 3)).toBeUndefined();
    expect(notIntegerIn(4, 0, 3)).toBe('must be an integer in [0, 3], got 4');
    expect(notIntegerIn(1.5, 0, 3)).toBe('must be an integer in [0, 3], got 1.5');
  });
});

describe('environment settings', () => {
  it('refuses an unknown key naming the environment and the known keys', () => {
    expect(() => checkSettingKeys('arena', { seed: '1' }, ['seed', 'mapping'])).not.toThrow();
    expect(() => checkSettingKeys('arena', undefined, ['seed'])).not.toThrow();
    expect(() => checkSettingKeys('ros2', { robt: 'x.yaml' }, ['robot'])).toThrow(
      'ros2 environment: unknown setting "robt"; expected robot',
    );
  });
});
