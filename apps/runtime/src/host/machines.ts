import type { EntityManager } from '@mikro-orm/postgresql';
import { compile, EXECUTABLE_MACHINE_FORMATS, MACHINE_FORMAT, type CompiledMachine, type MachineFormat } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import { sql, sqlOne } from './db';

/**
 * Upgrades a pinned machine of an older format to one this runtime executes. Registered per
 * source format; a run whose machine has a format with no migration is parked, never run.
 */
export type MachineMigration = (machine: CompiledMachine) => CompiledMachine;

/**
 * Test-only compiler variants (SWITCHYARD_TEST_HOOKS=1 and SWITCHYARD_TEST_COMPILER):
 * - `reshaped`: the same document compiles to a different machine (the format-2 shape: a region
 *   for the trigger, a nested state per chain node), as a compiler change would; a snapshot of the
 *   old machine does not fit it.
 * - `future`: machines carry a format this runtime does not know without the variant.
 * - `invoked`: machines of format 4 (an actor per node under way), as runtimes before format 5
 *   compiled them: their runs are left for the current runtime to finish.
 */
export type CompilerVariant = 'reshaped' | 'future' | 'invoked';
export const FUTURE_FORMAT = 'switchyard.machine/999';

/** Compiles a document as this runtime does (the test variants apply here only). */
export function compileForRuntime(document: unknown, variant?: CompilerVariant, legacyShape = false): CompiledMachine | { error: SwitchyardError } {
  const { machine, diagnostics } = compile(document, undefined, { legacyShape, chainShape: variant === 'reshaped', invokedNodes: variant === 'invoked' });
  if (!machine) {
    return { error: new SwitchyardError('INVALID_DOCUMENT', diagnostics[0]?.message ?? 'The flow does not compile', { issues: diagnostics.map((d) => ({ path: d.path, message: d.message, code: d.code })) }) };
  }
  if (variant === 'future' && !legacyShape) return { ...machine, format: FUTURE_FORMAT as MachineFormat };
  return machine;
}

/**
 * Pinned machines: a flow version's compiled machine is stored with its format the first time the
 * version is used (deploy or first run), and every run of that version executes exactly that
 * machine, whatever later compilers make of the same document.
 */
export function createMachineRegistry(deps: { em: () => EntityManager; variant?: CompilerVariant; migrations?: Record<string, MachineMigration> }) {
  const cache = new Map<string, Promise<CompiledMachine>>();
  const known = new Set<string>([...EXECUTABLE_MACHINE_FORMATS, ...(deps.variant === 'future' ? [FUTURE_FORMAT] : [])]);
  const migrations = deps.migrations ?? {};

  function executable(m: CompiledMachine, flowId: string, version: number): CompiledMachine {
    const format = String(m.format);
    if (known.has(format)) return m;
    const migrate = migrations[format];
    if (migrate) return migrate(m);
    throw new SwitchyardError('INVALID_STATE',
      `Flow version ${version} was compiled to machine format "${format}", which this runtime cannot execute (it runs "${MACHINE_FORMAT}"); its runs are parked`,
      { issues: [{ path: ['flowVersions', flowId, version], message: `unknown machine format ${format}`, code: 'machine-format' }] });
  }

  /**
   * The machine a flow version's runs execute. Calls for a version not loaded yet share one load:
   * 100 runs started at once used to read, compile and bind the machine 100 times.
   */
  function compiledFor(flowId: string, version: number): Promise<CompiledMachine> {
    const key = `${flowId}@${version}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const loading = load(flowId, version);
    cache.set(key, loading);
    // A failed load is not remembered: the next call tries again.
    loading.catch(() => {
      if (cache.get(key) === loading) cache.delete(key);
    });
    return loading;
  }

  async function load(flowId: string, version: number): Promise<CompiledMachine> {
    const row = await sqlOne<{ document: unknown; compiled: CompiledMachine | null }>(deps.em(),
      'select document, compiled from flow_versions where flow_id = ? and version = ?', [flowId, version]);
    if (!row) throw new SwitchyardError('NOT_FOUND', `Flow version ${version} not found`);
    let machine = row.compiled;
    if (!machine) {
      // A version that has runs but no pinned machine was run by a runtime before pinning existed:
      // its snapshots have the one-region-per-node shape, so pin that shape for it.
      const hasRuns = await sqlOne(deps.em(), 'select 1 as x from runs where flow_id = ? and flow_version = ? limit 1', [flowId, version]);
      const compiled = compileForRuntime(row.document, deps.variant, Boolean(hasRuns));
      if ('error' in compiled) throw compiled.error;
      // First use pins it; if another process pinned it first, theirs is the one.
      const pinned = await sql<{ compiled: CompiledMachine }>(deps.em(),
        `update flow_versions set compiled = coalesce(compiled, ?::jsonb), machine_format = coalesce(machine_format, ?)
          where flow_id = ? and version = ? returning compiled`,
        [compiled, compiled.format, flowId, version]);
      machine = pinned[0]?.compiled ?? compiled;
    }
    return executable(machine, flowId, version);
  }

  return { compiledFor };
}
export type MachineRegistry = ReturnType<typeof createMachineRegistry>;
