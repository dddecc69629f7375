// A plan is checked by the plan analyser (it has no trigger to miss), anything else by the compiler.
import { checkDraft as compile } from '../plans/draft-check';
import { hasErrors, type Diagnostic, type FlowDocument } from '@switchyard/schema';
import { and, assign, fromPromise, not, raise, setup, stateIn } from 'xstate';

/**
 * The editor's session: whether the document has unsaved changes (and is being saved), whether
 * its diagnostics are current (a compile after every edit, debounced for big documents), and what the session is
 * busy with (deploying, starting and watching a run, or watching one started elsewhere). Three parallel regions, so "deploying a
 * document that is still being saved" or "deploying with errors" cannot happen: the guards and
 * regions rule those out rather than flags scattered over components.
 *
 * Side effects (tRPC calls) are actors the component provides with `machine.provide()`.
 */

export interface SaveOutput {
  version: number;
}
export interface DeployOutput {
  version: number;
  deployedVersion: number;
}
export interface RunRequest {
  payload: Record<string, unknown>;
  eventType: string | null;
  triggerNodeId: string;
  /** True when the flow is deployed and the test goes through `events.emit` like a real event. */
  asEvent: boolean;
}
export interface RunStarted {
  runId: string;
  /** Set when the unsaved canvas was saved first, so the run tests what is on screen. */
  savedVersion: number | null;
}

export interface SessionContext {
  /** The latest document on the canvas (what a save would send). */
  document: FlowDocument;
  /** Version the canvas is based on; sent as `expectedVersion`. */
  version: number;
  deployedVersion: number | null;
  diagnostics: Diagnostic[];
  /** An edit arrived while a save was in flight: the saved version is already stale. */
  editedWhileSaving: boolean;
  /** The last failure, in words for the status line. */
  error: string | null;
  runId: string | null;
}

export type SessionEvent =
  | { type: 'EDIT'; document: FlowDocument }
  | { type: 'SAVE' }
  | { type: 'DEPLOY' }
  | { type: 'RUN'; request: RunRequest }
  /** Follow a run that exists already (opened from the Monitor: `/flows/:docId/runs/:runId`), as one started here is. */
  | { type: 'FOLLOW'; runId: string }
  | { type: 'RUN_ENDED' }
  | { type: 'RESET'; document: FlowDocument; version: number; deployedVersion: number | null }
  | { type: 'DISMISS_ERROR' }
  | { type: 'SYNCED' }
  /** The flow was undeployed (its triggers are off); the document and its save state are unchanged. */
  | { type: 'UNDEPLOYED' };

export interface SessionInput {
  document: FlowDocument;
  version: number;
  deployedVersion: number | null;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const COMPILE_DEBOUNCE_MS = 250;
/**
 * Up to this many nodes a compile takes a few milliseconds, so every edit is checked at once and
 * problems follow the typing; bigger documents are checked once the typing pauses.
 */
export const IMMEDIATE_COMPILE_MAX_NODES = 60;

export const editorSessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actors: {
    save: fromPromise<SaveOutput, { document: FlowDocument; expectedVersion: number }>(async () => {
      throw new Error('save is provided by the editor');
    }),
    deploy: fromPromise<DeployOutput, { document: FlowDocument | null; expectedVersion: number }>(async () => {
      throw new Error('deploy is provided by the editor');
    }),
    startRun: fromPromise<RunStarted, { request: RunRequest; document: FlowDocument | null; expectedVersion: number }>(async () => {
      throw new Error('startRun is provided by the editor');
    }),
  },
  guards: {
    editedWhileSaving: ({ context }) => context.editedWhileSaving,
    deployable: ({ context }) => !hasErrors(context.diagnostics) && context.document.nodes.length > 0,
    cheapToCompile: ({ event }) => event.type === 'EDIT' && event.document.nodes.length <= IMMEDIATE_COMPILE_MAX_NODES,
  },
  actions: {
    follow: assign({ runId: ({ event }) => (event.type === 'FOLLOW' ? event.runId : null), error: null }),
    compileEdit: assign({ diagnostics: ({ context, event }) => compile(event.type === 'EDIT' ? event.document : context.document).diagnostics }),
  },
  delays: { compileDebounce: COMPILE_DEBOUNCE_MS },
}).createMachine({
  id: 'editorSession',
  type: 'parallel',
  context: ({ input }) => ({
    document: input.document,
    version: input.version,
    deployedVersion: input.deployedVersion,
    diagnostics: compile(input.document).diagnostics,
    editedWhileSaving: false,
    error: null,
    runId: null,
  }),
  on: {
    DISMISS_ERROR: { actions: assign({ error: null }) },
    UNDEPLOYED: { actions: assign({ deployedVersion: null }) },
  },
  states: {
    doc: {
      initial: 'clean',
      states: {
        clean: {
          on: {
            EDIT: { target: 'dirty', actions: assign({ document: ({ event }) => event.document }) },
            RESET: {
              actions: assign({
                document: ({ event }) => event.document,
                version: ({ event }) => event.version,
                deployedVersion: ({ event }) => event.deployedVersion,
              }),
            },
          },
        },
        dirty: {
          on: {
            EDIT: { actions: assign({ document: ({ event }) => event.document }) },
            SAVE: 'saving',
            SYNCED: 'clean',
            RESET: {
              target: 'clean',
              actions: assign({
                document: ({ event }) => event.document,
                version: ({ event }) => event.version,
                deployedVersion: ({ event }) => event.deployedVersion,
              }),
            },
          },
        },
        saving: {
          entry: assign({ editedWhileSaving: false, error: null }),
          on: {
            EDIT: { actions: assign({ document: ({ event }) => event.document, editedWhileSaving: true }) },
          },
          invoke: {
            src: 'save',
            input: ({ context }) => ({ document: context.document, expectedVersion: context.version }),
            onDone: [
              { guard: 'editedWhileSaving', target: 'dirty', actions: assign({ version: ({ event }) => event.output.version }) },
              { target: 'clean', actions: assign({ version: ({ event }) => event.output.version }) },
            ],
            onError: { target: 'dirty', actions: assign({ error: ({ event }) => message(event.error) }) },
          },
        },
      },
    },
    check: {
      // Starts "checked": the context computes the first diagnostics up front.
      initial: 'checked',
      states: {
        compiling: {
          after: {
            compileDebounce: {
              target: 'checked',
              actions: assign({ diagnostics: ({ context }) => compile(context.document).diagnostics }),
            },
          },
          on: {
            EDIT: [
              { guard: 'cheapToCompile', target: 'checked', actions: 'compileEdit' },
              { target: 'compiling', reenter: true },
            ],
          },
        },
        checked: {
          on: {
            EDIT: [{ guard: 'cheapToCompile', actions: 'compileEdit' }, { target: 'compiling' }],
            RESET: 'compiling',
          },
        },
      },
    },
    activity: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            // Deploying needs current diagnostics: while compiling or saving the event is not accepted.
            DEPLOY: {
              guard: and(['deployable', stateIn({ check: 'checked' }), not(stateIn({ doc: 'saving' }))]),
              target: 'deploying',
            },
            RUN: { guard: not(stateIn({ doc: 'saving' })), target: 'running' },
            FOLLOW: { target: 'running.watching', actions: 'follow' },
          },
        },
        deploying: {
          entry: assign({ error: null }),
          invoke: {
            src: 'deploy',
            input: ({ context, self }) => ({
              document: self.getSnapshot().matches({ doc: 'dirty' }) ? context.document : null,
              expectedVersion: context.version,
            }),
            onDone: {
              target: 'idle',
              actions: [
                assign({
                  version: ({ event }) => event.output.version,
                  deployedVersion: ({ event }) => event.output.deployedVersion,
                }),
                raise({ type: 'SYNCED' }),
              ],
            },
            onError: { target: 'idle', actions: assign({ error: ({ event }) => message(event.error) }) },
          },
        },
        running: {
          initial: 'starting',
          states: {
            starting: {
              // A run started here: no earlier run or error stays on screen while it starts.
              entry: assign({ error: null, runId: null }),
              invoke: {
                src: 'startRun',
                input: ({ context, event, self }) => ({
                  request: (event as Extract<SessionEvent, { type: 'RUN' }>).request,
                  document: self.getSnapshot().matches({ doc: 'dirty' }) ? context.document : null,
                  expectedVersion: context.version,
                }),
                onDone: {
                  target: 'watching',
                  actions: [
                    assign({
                      runId: ({ event }) => event.output.runId,
                      version: ({ context, event }) => event.output.savedVersion ?? context.version,
                    }),
                    raise(({ event }) => (event.output.savedVersion === null ? { type: 'DISMISS_ERROR' as const } : { type: 'SYNCED' as const })),
                  ],
                },
                onError: { target: '#editorSession.activity.idle', actions: assign({ error: ({ event }) => message(event.error) }) },
              },
            },
            watching: {
              on: {
                RUN: { target: '#editorSession.activity.running', reenter: true },
                FOLLOW: { actions: 'follow' },
              },
            },
          },
          on: { RUN_ENDED: 'idle' },
        },
      },
    },
  },
});
