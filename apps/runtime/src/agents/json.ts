/**
 * JSON as it crosses the API. Values stored in jsonb columns (memory, interactions, skill outputs,
 * proposal args) are JSON by construction; typing them so keeps the client's inferred types honest
 * instead of `unknown`.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** JSON Schema as sent on the wire (what `z.toJSONSchema` emits): a plain JSON object. */
export type JsonSchema = JsonObject;

/** A value read back from a jsonb column (or about to be sent as JSON): JSON by construction. */
export const asJson = (v: unknown): JsonValue => (v === undefined ? null : (v as JsonValue));
export const asJsonObject = (v: unknown): JsonObject => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {});

/** The arguments of an effect an agent proposed, by tool. */
export type ProposalArgs =
  | { tool: 'sendEmail'; args: { to: string[]; subject: string; body: string; threadId?: string } }
  | { tool: 'createCalendarEvent'; args: { title: string; startsAt: string; endsAt: string; attendees: string[]; description: string } }
  | { tool: 'updateContact'; args: { email: string; addTags?: string[]; appendNote?: string; touchLastInteraction?: boolean } };

/** A stored proposal's tool and args as their typed union (an unknown tool keeps plain JSON args). */
export const proposalOf = (tool: string, args: unknown): ProposalArgs | { tool: string; args: JsonObject } =>
  ({ tool, args: asJsonObject(args) }) as ProposalArgs | { tool: string; args: JsonObject };
