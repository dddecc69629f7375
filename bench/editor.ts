import type { Page } from 'playwright-core';
import { apiClient, launchBrowser, newPage, startRuntime } from '../e2e/support';
import { findChromium } from '../e2e/chromium.mjs';
import { meshDoc } from './graphs';
import type { Figure } from './harness';

interface CanvasTiming {
  loadMs: number;
  frameMedianMs: number;
  frameP95Ms: number;
}

/** Opens a flow in the editor, times load-to-interactive, then pans and records frame times. */
async function measure(page: Page, baseUrl: string, token: string, docId: string, nodes: number): Promise<CanvasTiming> {
  const t0 = Date.now();
  await page.goto(`${baseUrl}/flows/${docId}?token=${encodeURIComponent(token)}`);
  await page.getByTestId('editor').waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="canvas-node"]').length >= Math.min(n, 1), nodes, { timeout: 60_000 });
  // Interactive = the canvas answers a frame after its nodes are in the DOM.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const loadMs = Date.now() - t0;
  const pane = page.locator('.react-flow__pane');
  const box = (await pane.boundingBox())!;
  // A string, not a closure: tsx would wrap named functions in a helper the page does not have.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__rec = true;
    const tick = (t) => { window.__frames.push(t); if (window.__rec) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 0; i < 60; i++) await page.mouse.move(cx + Math.sin(i / 6) * 300, cy + Math.cos(i / 6) * 150, { steps: 2 });
  await page.mouse.up();
  const frames = (await page.evaluate('(() => { window.__rec = false; return window.__frames; })()')) as number[];
  const deltas = frames.slice(1).map((t, i) => t - frames[i]!).sort((a, b) => a - b);
  return { loadMs, frameMedianMs: deltas[Math.floor(deltas.length / 2)] ?? 0, frameP95Ms: deltas[Math.floor(deltas.length * 0.95)] ?? 0 };
}

/** A 500-node flow vs a 10-node flow in the same browser and runtime, rounds alternated. */
export async function editorBenchmarks(): Promise<Figure[]> {
  if (!(await findChromium())) {
    console.log('editor bench skipped: no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
    return [];
  }
  const runtime = await startRuntime({ name: 'bench-runtime' });
  const browser = await launchBrowser();
  try {
    const api = apiClient(runtime);
    const big = { ...meshDoc(500), id: 'bench-500' };
    const small = { ...meshDoc(10), id: 'bench-10' };
    await api.flows.save.mutate({ document: big as never });
    await api.flows.save.mutate({ document: small as never });
    const results: Record<string, CanvasTiming[]> = { big: [], small: [] };
    for (let round = 0; round < 3; round++) {
      for (const which of round % 2 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
        const { context, page } = await newPage(browser);
        const doc = which === 'big' ? big : small;
        results[which]!.push(await measure(page, runtime.baseUrl, runtime.token, doc.id, doc.nodes.length));
        await context.close();
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const pick = (w: string, k: keyof CanvasTiming) => med(results[w]!.map((r) => r[k]));
    return [
      { group: 'editor', name: 'open 500-node flow: load to interactive', unit: 'ms', ours: pick('big', 'loadMs'), baseline: pick('small', 'loadMs'), baselineName: '10-node flow', ratio: pick('small', 'loadMs') / pick('big', 'loadMs') },
      { group: 'editor', name: 'pan 500-node flow: median frame', unit: 'ms', ours: pick('big', 'frameMedianMs'), baseline: pick('small', 'frameMedianMs'), baselineName: '10-node flow', ratio: pick('small', 'frameMedianMs') / pick('big', 'frameMedianMs') },
      { group: 'editor', name: 'pan 500-node flow: p95 frame', unit: 'ms', ours: pick('big', 'frameP95Ms'), baseline: pick('small', 'frameP95Ms'), baselineName: '10-node flow', ratio: pick('small', 'frameP95Ms') / pick('big', 'frameP95Ms') },
    ];
  } finally {
    await browser.close();
    await runtime.stop();
  }
}
