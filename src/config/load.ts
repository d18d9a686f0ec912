/**
 * Reading configuration files: YAML, or JSON for names ending in .json (JSON is YAML too, but
 * JSON.parse says more precisely where a JSON file breaks). Errors name the file and what it was
 * meant to be ("cannot read sweep file grid.yaml: ENOENT…", "grid.yaml: not valid YAML: …").
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './schema.js';

/** Parses the text of `path` (used for the format and in messages). */
export function parseConfigText(text: string, path: string): unknown {
  const json = path.toLowerCase().endsWith('.json');
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // yaml's messages continue with a code excerpt over several lines; the first says it.
    const reason = (error as Error).message.split('\n')[0];
    throw new ConfigError(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${reason}`);
  }
}

/** Reads and parses a configuration file; `what` names it in errors ("sweep file"). */
export function loadConfigFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  return parseConfigText(text, path);
}

/** loadConfigFile without blocking the event loop (environments load while servers run). */
export async function readConfigFile(path: string, what: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new ConfigError(`cannot read ${what} ${path}: ${error.message}`);
  });
  return parseConfigText(text, path);
}
