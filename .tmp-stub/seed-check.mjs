import { readFileSync, readdirSync } from 'node:fs';
const base = process.argv[2]; const token = 'probe-token-1234567890';
const call = async (path, input) => { const r = await fetch(`${base}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(input) }); return [r.status, (await r.text()).slice(0, 300)]; };
for (const f of readdirSync('templates').filter((f) => f.endsWith('.json'))) {
  const t = JSON.parse(readFileSync(`templates/${f}`, 'utf8'));
  for (const d of t.documents) console.log(f, d.kind, await call('flows.import', { document: d }));
}
console.log('deploy', await call('flows.deploy', { docId: 'auto-respond-important' }));
const r = await fetch(`${base}/trpc/flows.list`, { headers: { authorization: `Bearer ${token}` } }); console.log((await r.text()).slice(0, 800));
