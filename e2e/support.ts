import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@switchyard/runtime/router';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { NO_CHROMIUM_MESSAGE, findChromium } from './chromium.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const artifactsDir = join(repoRoot, 'e2e/artifacts');

/** The token the runtime is started with, so specs can also type it by hand. */
export const TEST_TOKEN = 'e2e-test-token-7c1f0b9a4d2e';

const READY_LINE = /Switchyard is running: (http:\/\/\S+)/;
const START_TIMEOUT_MS = 150_000;
const STOP_GRACE_MS = 5_000;

export interface Runtime {
  /** Origin of the server, e.g. `http://127.0.0.1:43121` (no trailing slash). */
  baseUrl: string;
  token: string;
  /** The login URL exactly as the runtime printed it. */
  loginUrl: string;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveExit) => child.once('exit', () => resolveExit()));
}

/**
 * Starts the real runtime (`apps/runtime/src/index.ts` under tsx) on a free port with its own
 * fresh data directory, so every run gets an empty embedded database. PostgreSQL is used only
 * when E2E_DATABASE_URL is set (give it a fresh database: specs expect to start empty); a
 * DATABASE_URL meant for the unit tests is not inherited.
 */
export async function startRuntime(options: { token?: string; name?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Runtime> {
  const entry = 'apps/runtime/src/index.ts';
  if (!existsSync(join(repoRoot, entry))) throw new Error(`e2e: ${entry} does not exist, so there is no runtime to test against.`);
  const token = options.token ?? TEST_TOKEN;
  const name = options.name ?? 'runtime';
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-e2e-'));
  const port = await freePort();

  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: String(port),
    SWITCHYARD_TOKEN: token,
    SWITCHYARD_DATA_DIR: dataDir,
    NODE_ENV: 'test',
  });
  Object.assign(env, options.env ?? {});

  await mkdir(artifactsDir, { recursive: true });
  const log = createWriteStream(join(artifactsDir, `${name}.log`));
  // `node --import tsx` rather than `npx tsx`, so our SIGTERM reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const tail = () => output.split('\n').slice(-40).join('\n');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([
        exited(child).then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), STOP_GRACE_MS)),
      ]);
      if (killed) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    log.end();
    if (process.env.E2E_KEEP_DATA !== '1') await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const loginUrl = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`runtime did not print its URL within ${START_TIMEOUT_MS / 1000}s. Output:\n${tail()}`)),
        START_TIMEOUT_MS,
      );
      const check = () => {
        const match = READY_LINE.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`runtime exited (${signal ?? `code ${code}`}) before it was ready. Output:\n${tail()}`));
      });
    });

    const url = new URL(loginUrl);
    const baseUrl = url.origin;
    const printedToken = url.searchParams.get('token') ?? token;
    await waitForHealth(baseUrl, () => child.exitCode !== null, tail);
    return { baseUrl, token: printedToken, loginUrl, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForHealth(baseUrl: string, hasExited: () => boolean, tail: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error(`runtime exited while waiting for /health. Output:\n${tail()}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${baseUrl}/health did not answer 200 within 30s (last: ${last}). Output:\n${tail()}`);
}

/** A typed API client for arranging data before the browser looks at it. */
export function apiClient(runtime: Pick<Runtime, 'baseUrl' | 'token'>): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${runtime.baseUrl}/trpc`, headers: () => ({ Authorization: `Bearer ${runtime.token}` }) })],
  });
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await findChromium();
  if (!executablePath) throw new Error(NO_CHROMIUM_MESSAGE);
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** A fresh context (own sessionStorage) at the size the product is designed for. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

/**
 * Test hooks on and the runtime's clock pinned to Wednesday 7 January 2026, 10:00 in New York, so
 * business-hours conditions pass whatever the real time is.
 */
export const PINNED_CLOCK_ENV: NodeJS.ProcessEnv = {
  SWITCHYARD_TEST_HOOKS: '1',
  SWITCHYARD_TEST_NOW: String(Date.UTC(2026, 0, 7, 15, 0)),
};

/** Saves `e2e/artifacts/<name>.png` (the folder is git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Waits for the app's confirmation dialog asking `title` and checks what every one of them owes a
 * keyboard or screen-reader user: an alertdialog named by its title and described by its text,
 * with the focus on the safe button. Returns the dialog; its buttons are `confirm-cancel` and
 * `confirm-accept`.
 */
export async function confirmDialog(page: Page, title: string | RegExp): Promise<Locator> {
  const dialog = page.getByRole('alertdialog', { name: title });
  await dialog.waitFor();
  const { described, focused } = await dialog.evaluate((el) => ({
    described: document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
    focused: document.activeElement?.getAttribute('data-testid') ?? null,
  }));
  if (described.trim() === '') throw new Error(`the dialog “${String(title)}” has no description`);
  if (focused !== 'confirm-cancel') throw new Error(`the dialog “${String(title)}” opened with the focus on ${focused ?? 'nothing'}, not on its safe button`);
  return dialog;
}

/** Whether the element `locator` points at has the keyboard focus. */
export const hasFocus = (locator: Locator): Promise<boolean> => locator.evaluate((el) => el === document.activeElement);
