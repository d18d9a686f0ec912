/**
 * Real headless Chromium for the page tests: the binary is $SPIKELOOP_CHROMIUM, default
 * /usr/bin/chromium (Debian's `chromium` package; on Ubuntu the snap lives elsewhere, e.g.
 * /snap/bin/chromium). A missing binary fails with a message naming the variable.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SPIKELOOP_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = 'test-artifacts';

export function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the page tests need a Chromium binary. Install Debian's chromium package (apt-get install -y chromium; .ci/run installs it) or set SPIKELOOP_CHROMIUM to the path of a Chromium or Chrome binary.`,
    );
  }
  return CHROMIUM;
}

/** Runs `use` with a fresh page in a throw-away profile; the browser is closed afterwards. */
export async function withPage<T>(
  viewport: { width: number; height: number },
  use: (page: Page, context: BrowserContext) => Promise<T>,
): Promise<T> {
  const executablePath = requireChromium();
  const profile = mkdtempSync(join(tmpdir(), 'spikeloop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    return await use(page, context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
