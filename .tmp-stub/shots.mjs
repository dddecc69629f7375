import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu'] });
const base = 'http://127.0.0.1:4399';
const mode = (m) => fetch(base + '/__mode?m=' + m);
async function shot(name, m, path, after) {
  await mode(m);
  const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  page.on('console', (msg) => { if (msg.type() === 'error') console.log('console', name, msg.text()); });
  await page.goto(base + path);
  if (after) await after(page);
  await page.waitForTimeout(600);
  await page.screenshot({ path: `/tmp/shots/${name}.png` });
  console.log(name, page.url());
  await ctx.close();
}
await shot('login', 'items', '/');
await shot('flows', 'items', '/?token=good');
await shot('empty', 'empty', '/?token=good');
await shot('rejected', 'items', '/?token=bad');
await shot('typed-wrong', 'items', '/', async (p) => { await p.getByTestId('token-input').fill('nope'); await p.getByRole('button', { name: 'Sign in' }).click(); });
await shot('loading', 'items', '/?token=good', async (p) => { await p.waitForSelector('[data-testid=flow-list]'); await mode('slow'); await p.reload(); });
await shot('down', 'items', '/?token=good', async (p) => { await p.waitForSelector('[data-testid=flow-list]'); await mode('down'); await p.getByRole('button', { name: 'Refresh' }).click(); });
await mode('items');
await b.close();
