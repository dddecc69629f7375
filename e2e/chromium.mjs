import { existsSync } from 'node:fs';

/**
 * Where to look for a Chromium, in order: $CHROMIUM_PATH, Debian's and Ubuntu's packages, then a
 * browser that `npx playwright install chromium` put in its cache.
 * @returns {string | null}
 */
export async function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    const { chromium } = await import('playwright-core');
    const cached = chromium.executablePath();
    if (cached && existsSync(cached)) return cached;
  } catch {
    // playwright-core missing or not knowing its cache: nothing more to try.
  }
  return null;
}

export const NO_CHROMIUM_MESSAGE =
  'e2e: no Chromium found. Install one: `apt-get install -y chromium` (Debian) or `npx playwright install chromium` and set CHROMIUM_PATH';
