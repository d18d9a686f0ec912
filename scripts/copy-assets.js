// Copies non-TypeScript assets (WGSL kernels, dashboard page, script and icon, JSON schemas) from src/ into dist/.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const assetExtensions = new Set(['.wgsl', '.html', '.css', '.json', '.js', '.svg']);
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'assembly') copyAssets(path);
    } else if (assetExtensions.has(extname(name))) cpSync(path, path.replace(/^src/, 'dist'));
  }
}
copyAssets('src');
