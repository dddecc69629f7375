import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
const dist = '/work/main/apps/editor/dist';
const TOKEN = 'good';
let mode = process.env.MODE ?? 'items';
const now = Date.now();
const iso = (ms) => new Date(now - ms).toISOString();
const items = [
  { id: 'f1', docId: 'd1', kind: 'workflow', name: 'Auto-respond to important emails', description: 'Drafts a reply when an email from a key contact arrives during business hours.', status: 'deployed', version: 4, deployedVersion: 4, updatedAt: iso(3*60e3), lastRun: { id: 'r1', status: 'completed', startedAt: iso(60e3*12) } },
  { id: 'f2', docId: 'd2', kind: 'behavior', name: 'Dormant contact reactivation', description: 'Suggests reaching out to strong relationships that went quiet for 30 days.', status: 'deployed', version: 3, deployedVersion: 2, updatedAt: iso(5*3600e3), lastRun: { id: 'r2', status: 'failed', startedAt: iso(2*3600e3) } },
  { id: 'f3', docId: 'd3', kind: 'plan', name: 'Research and email a new lead', description: 'Research agent gathers a profile; the email agent drafts an intro.', status: 'draft', version: 1, deployedVersion: null, updatedAt: iso(26*3600e3), lastRun: null },
  { id: 'f4', docId: 'd4', kind: 'behavior', name: 'Follow-up reminders', description: '', status: 'draft', version: 2, deployedVersion: null, updatedAt: iso(9*86400e3), lastRun: { id: 'r4', status: 'awaiting-approval', startedAt: iso(3*86400e3) } },
  { id: 'f5', docId: 'd5', kind: 'workflow', name: 'New contact welcome', description: 'Creates a task and sends a welcome email when a contact is created.', status: 'deployed', version: 7, deployedVersion: 7, updatedAt: iso(40*86400e3), lastRun: { id: 'r5', status: 'running', startedAt: iso(20e3) } },
];
createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__mode') { mode = url.searchParams.get('m'); res.end(mode); return; }
  if (url.pathname === '/health') { res.end('{"ok":true}'); return; }
  if (url.pathname.startsWith('/trpc/')) {
    await new Promise((r) => setTimeout(r, mode === 'slow' ? 60000 : 150));
    const auth = req.headers.authorization;
    res.setHeader('content-type', 'application/json');
    if (mode === 'down') { res.statusCode = 502; res.setHeader('content-type','text/html'); res.end('<html>bad gateway</html>'); return; }
    if (auth !== 'Bearer ' + TOKEN) { res.statusCode = 401; res.end(JSON.stringify([{ error: { message: 'Missing or invalid token', code: -32001, data: { code: 'UNAUTHORIZED', httpStatus: 401, path: 'flows.list' } } }])); return; }
    if (mode === 'servererror') { res.statusCode = 500; res.end(JSON.stringify([{ error: { message: 'boom', code: -32603, data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'flows.list' } } }])); return; }
    res.end(JSON.stringify([{ result: { data: { items: mode === 'empty' ? [] : items } } }]));
    return;
  }
  let p = url.pathname === '/' ? '/index.html' : url.pathname;
  try {
    const body = await readFile(join(dist, p));
    res.setHeader('content-type', { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }[extname(p)] ?? 'application/octet-stream');
    res.end(body);
  } catch { res.statusCode = 404; res.end('nf'); }
}).listen(4399, '127.0.0.1', () => console.log('fake on 4399'));
