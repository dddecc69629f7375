import type { inferRouterOutputs } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { JsonObject, JsonSchema, JsonValue } from '../src/agents/json';
import type { AppRouter } from '../src/router';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, type AgentsServer } from './support/agents-support';

type Out = inferRouterOutputs<AppRouter>;

/**
 * Issue 9, Agents: `skills.list/search/get` typed `params` as zod's JSON-schema payload (with a
 * `~standard.validate`) while the wire value is plain JSON Schema, and outputs with a known shape
 * were `unknown`. The type assertions fail `npm run typecheck`; the runtime ones fail the test.
 */
describe('agent and skill outputs are typed as what is sent', () => {
  it('types', () => {
    expectTypeOf<Out['skills']['get']['params']>().toEqualTypeOf<JsonSchema>();
    expectTypeOf<Out['skills']['list']['items'][number]['examples'][number]['params']>().toEqualTypeOf<JsonObject>();
    expectTypeOf<Out['agents']['runSkill']['output']>().toEqualTypeOf<JsonObject>();
    expectTypeOf<Out['agents']['recall']['value']>().toEqualTypeOf<JsonValue>();
    type Proposal = Out['agents']['memory']['approvals'][number];
    expectTypeOf<Extract<Proposal, { tool: 'sendEmail' }>['args']['to']>().toEqualTypeOf<string[]>();
    expectTypeOf<NonNullable<Out['agents']['chat']['action']>['output']>().toEqualTypeOf<JsonObject>();
    // A journal step's data is the JSON it was stored as (the nodes that changed, a decision, the outcome).
    expectTypeOf<Out['runs']['journal']['items'][number]['data']>().toEqualTypeOf<JsonValue>();
  });
});

describe.each(backendsUnderTest())('skills on the wire (%s)', (backend) => {
  let s: AgentsServer;
  beforeAll(async () => {
    s = await startAgentsServer(backend);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('params are plain JSON Schema: no ~standard, the same after a JSON round trip', async () => {
    for (const item of (await s.api.skills.list.query()).items) {
      expect(Object.keys(item.params)).not.toContain('~standard');
      expect(JSON.parse(JSON.stringify(item.params))).toEqual(item.params);
      expect(item.params.type).toBe('object');
    }
  });
});
