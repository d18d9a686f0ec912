/**
 * The folders' dependency rules (docs/architecture.md), checked on the source: no import cycle at
 * run time, and the transports in src/io never import an environment (environments use transports,
 * not the other way round). Read with the TypeScript parser, so `import type` (erased at run time)
 * is told apart from imports that load a module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

interface Edge {
  to: string;
  /** False for imports the compiler erases (`import type`, type-only named bindings). */
  runtime: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'assembly' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function typeOnly(clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  if (bindings === undefined || ts.isNamespaceImport(bindings)) return false;
  return bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

/** Relative imports of one file, resolved to files under src/ (`./x.js` → `x.ts`). */
function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | undefined, runtime: boolean) => {
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    const target = resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts'));
    edges.push({ to: relative(SRC, target), runtime });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, !typeOnly(node.importClause));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, !node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const graph = new Map(sourceFiles(SRC).map((file) => [relative(SRC, file), importsOf(file)]));

/** Every cycle of runtime imports, each as the files along it (depth-first search, colours). */
function runtimeCycles(): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const walk = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const edge of graph.get(file) ?? []) {
      if (!edge.runtime) continue;
      const seen = state.get(edge.to);
      if (seen === 'open') cycles.push([...stack.slice(stack.indexOf(edge.to)), edge.to]);
      else if (seen === undefined) walk(edge.to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) walk(file);
  return cycles;
}

describe('architecture', () => {
  it('reads the whole source tree and resolves every relative import to a file in it', () => {
    expect(graph.size).toBeGreaterThan(100);
    const unresolved = [...graph].flatMap(([file, edges]) =>
      edges.filter((edge) => !graph.has(edge.to)).map((edge) => `${file} → ${edge.to}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('has no import cycle at run time', () => {
    expect(runtimeCycles().map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps environments out of the transports: nothing in src/io imports src/env', () => {
    const upward = [...graph]
      .filter(([file]) => file.startsWith('io/'))
      .flatMap(([file, edges]) =>
        edges.filter((edge) => edge.to.startsWith('env/')).map((edge) => `${file} → ${edge.to}`),
      );
    expect(upward).toEqual([]);
  });

  it('registers every environment from src/env: the registry loads nothing from src/io', () => {
    const registry = graph.get('env/registry.ts') ?? [];
    expect(registry.filter((edge) => edge.to.startsWith('env/')).length).toBeGreaterThanOrEqual(4);
    expect(registry.filter((edge) => edge.to.startsWith('io/'))).toEqual([]);
  });
});
