import type { Page } from 'playwright-core';
import type { Runtime } from './support';

/* Steps on the flow editor's canvas, as a person takes them, shared by the browser specs. */

/** Drags a palette entry onto the canvas at a point relative to the canvas's top-left corner. */
export async function dropNode(page: Page, type: string, x: number, y: number): Promise<string> {
  const before = await page.getByTestId('canvas-node').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')));
  await page.getByTestId(`palette-${type}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
  const node = page.locator(`[data-testid="canvas-node"][data-node-type="${type}"]`).last();
  await node.waitFor();
  const after = await page.getByTestId('canvas-node').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')));
  const id = after.find((a) => !before.includes(a));
  if (!id) throw new Error(`dropping ${type} added no node`);
  return id;
}

export const nodeById = (page: Page, id: string) => page.locator(`[data-testid="canvas-node"][data-node-id="${id}"]`);

/** Draws an edge by dragging from a source handle to a target handle, as a person would. */
export async function connect(page: Page, from: string, to: string, sourceHandle = 'out', targetHandle = 'in') {
  const a = await nodeById(page, from).getByTestId(`handle-out-${sourceHandle}`).boundingBox();
  const b = await nodeById(page, to).getByTestId(`handle-in-${targetHandle}`).boundingBox();
  if (!a || !b) throw new Error(`handles of ${from} -> ${to} are not visible`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

export async function select(page: Page, id: string) {
  await nodeById(page, id).locator('.fnode__header').click();
  await page.locator(`[data-testid="node-inspector"][data-node-id="${id}"]`).waitFor();
}

export async function signIn(page: Page, runtime: Runtime, path = '/') {
  await page.goto(`${runtime.baseUrl}${path}?token=${encodeURIComponent(runtime.token)}`);
}

export async function createWorkflow(page: Page, name: string): Promise<string> {
  await page.getByTestId('new-workflow').click();
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('name-submit').click();
  await page.getByTestId('editor').waitFor();
  await page.getByTestId('canvas-empty').waitFor();
  return new URL(page.url()).pathname.split('/').pop()!;
}
