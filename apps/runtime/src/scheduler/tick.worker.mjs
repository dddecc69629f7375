// Bree runs each job in a worker thread; this one only tells the main thread that a tick is due.
// Plain JS on purpose: worker threads do not inherit the TypeScript loader.
import { parentPort } from 'node:worker_threads';

parentPort?.postMessage({ tick: Date.now() });
parentPort?.postMessage('done');
