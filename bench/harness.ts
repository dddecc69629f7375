export interface Figure {
  group: string;
  name: string;
  unit: string;
  ours: number;
  baseline: number;
  baselineName: string;
  /** ours / baseline for rates, baseline / ours for times: 1.0 = as fast as the baseline. */
  ratio: number;
  target?: number;
  backend?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Operations done, or operations and the seconds they took when only part of the call is measured (its setup is not). */
type Measured = number | { ops: number; seconds: number };

/**
 * Runs ours and the baseline in alternating rounds (ABBA order) so drift on a busy machine hits
 * both, and reports the median of each. `fn` returns the number of operations it did (timed
 * whole), or the operations and the seconds it measured itself.
 */
export async function compare(opts: {
  rounds?: number;
  ours: () => Promise<Measured> | Measured;
  baseline: () => Promise<Measured> | Measured;
  warmup?: boolean;
}): Promise<{ ours: number; baseline: number }> {
  const rounds = opts.rounds ?? 5;
  const rate = async (fn: () => Promise<Measured> | Measured) => {
    const t0 = performance.now();
    const r = await fn();
    return typeof r === 'number' ? r / ((performance.now() - t0) / 1000) : r.ops / r.seconds;
  };
  if (opts.warmup !== false) {
    await opts.ours();
    await opts.baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a.push(await rate(opts.ours));
      b.push(await rate(opts.baseline));
    } else {
      b.push(await rate(opts.baseline));
      a.push(await rate(opts.ours));
    }
  }
  return { ours: median(a), baseline: median(b) };
}

export function printTable(figures: Figure[]) {
  const rows = figures.map((f) => [
    f.group, f.name + (f.backend ? ` [${f.backend}]` : ''), fmt(f.ours) + ' ' + f.unit, `${fmt(f.baseline)} (${f.baselineName})`,
    `${(f.ratio * 100).toFixed(0)}%`, f.target === undefined ? '' : `${f.ratio >= f.target ? 'meets' : 'below'} ${(f.target * 100).toFixed(0)}%`,
  ]);
  const head = ['group', 'figure', 'ours', 'baseline', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));
