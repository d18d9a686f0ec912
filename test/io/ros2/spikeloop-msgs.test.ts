/**
 * The .msg files of msgs/ are the truth for ROS; the field tables in src/io/ros2/spikeloop-msgs.ts
 * are tied to the TypeScript interfaces by the compiler. This test ties the tables to the .msg files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spikeloopMessageFields } from '../../../src/io/ros2/spikeloop-msgs.js';

const MSGS = join(import.meta.dirname, '../../../msgs');

interface MsgField {
  type: string;
  name: string;
}

/** Parses a ROS 2 .msg file: `type name [default]` lines, comments, constants (`TYPE NAME=value`). */
function parseMsg(text: string, file: string): MsgField[] {
  const fields: MsgField[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const match =
      /^([A-Za-z][A-Za-z0-9_/]*(?:<=\d+)?(?:\[\d*\]|\[<=\d+\])?)\s+([A-Za-z][A-Za-z0-9_]*)(\s*=.*|\s+.+)?$/.exec(
        line,
      );
    if (!match) throw new Error(`${file}:${i + 1}: cannot parse "${raw}"`);
    if (match[3]?.trimStart().startsWith('=')) return; // a constant, not a field
    fields.push({ type: match[1]!, name: match[2]! });
  });
  return fields;
}

const msgFiles = readdirSync(join(MSGS, 'msg')).filter((f) => f.endsWith('.msg'));

describe('spikeloop_msgs', () => {
  it('every .msg file has a TypeScript field table and every table a .msg file', () => {
    expect(msgFiles.map((f) => f.replace(/\.msg$/, '')).sort()).toEqual(
      Object.keys(spikeloopMessageFields).sort(),
    );
  });

  it.each(msgFiles)('%s: field names, order and types match the TypeScript side', (file) => {
    const fields = parseMsg(readFileSync(join(MSGS, 'msg', file), 'utf8'), file);
    const table = spikeloopMessageFields[file.replace(/\.msg$/, '')]!;
    expect(fields.map((f) => f.name)).toEqual(Object.keys(table));
    for (const field of fields)
      expect(`${field.name}: ${field.type}`).toBe(`${field.name}: ${table[field.name]}`);
  });

  it('CMakeLists.txt generates exactly these messages, with their dependencies', () => {
    const cmake = readFileSync(join(MSGS, 'CMakeLists.txt'), 'utf8');
    const listed = [...cmake.matchAll(/"msg\/(\w+)\.msg"/g)].map((m) => `${m[1]}.msg`);
    expect(listed.sort()).toEqual([...msgFiles].sort());
    expect(cmake).toMatch(/rosidl_generate_interfaces\(\$\{PROJECT_NAME\}/);
    expect(cmake).toMatch(/DEPENDENCIES std_msgs/);
    const packageXml = readFileSync(join(MSGS, 'package.xml'), 'utf8');
    expect(packageXml).toMatch(/<name>spikeloop_msgs<\/name>/);
    expect(packageXml).toMatch(/<member_of_group>rosidl_interface_packages<\/member_of_group>/);
    expect(packageXml).toMatch(/<depend>std_msgs<\/depend>/);
  });

  it('the parser understands constants, bounded arrays and defaults', () => {
    expect(parseMsg('uint8 OK=0\nfloat32[] a\nint32[4] b  # c\nstring<=8 s\nuint16 d 5\n', 'x.msg')).toEqual([
      { type: 'float32[]', name: 'a' },
      { type: 'int32[4]', name: 'b' },
      { type: 'string<=8', name: 's' },
      { type: 'uint16', name: 'd' },
    ]);
  });
});
