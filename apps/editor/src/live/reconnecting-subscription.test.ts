import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { followSubscription, reconnectDelay, type FollowOptions, type LiveState, type SubscriptionCallbacks } from './reconnecting-subscription';

/** A stand-in for the tRPC link: every subscribe opens a stream the test drives by hand. */
function streams<T>() {
  const opened: { callbacks: SubscriptionCallbacks<T>; closed: boolean }[] = [];
  const subscribe = (callbacks: SubscriptionCallbacks<T>) => {
    const stream = { callbacks, closed: false };
    opened.push(stream);
    return { unsubscribe: () => void (stream.closed = true) };
  };
  const last = () => opened[opened.length - 1]!;
  return { opened, subscribe, last };
}

function follow<T>(s: ReturnType<typeof streams<T>>, extra: Partial<FollowOptions<T>> = {}) {
  const data: T[] = [];
  const states: LiveState[] = [];
  const stop = followSubscription<T>({ subscribe: s.subscribe, onData: (d) => data.push(d), onState: (st) => states.push(st), ...extra });
  return { data, states, stop, state: () => states[states.length - 1]! };
}

describe('followSubscription: a tRPC subscription that reconnects', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('is connecting, then live once started; delivers data; after an error it pauses and subscribes again after the backoff', () => {
    const s = streams<number>();
    const f = follow(s);
    expect(f.state()).toEqual({ status: 'connecting', retryInMs: null, error: null });
    expect(s.opened).toHaveLength(1);
    s.last().callbacks.onStarted();
    expect(f.state().status).toBe('live');
    s.last().callbacks.onData(1);
    s.last().callbacks.onData(2);
    expect(f.data).toEqual([1, 2]);
    // Data while live reports no new state (pages do not re-render for the status on every message).
    expect(f.states.map((x) => x.status)).toEqual(['connecting', 'live']);

    const boom = new Error('network');
    s.last().callbacks.onError(boom);
    expect(s.opened[0]!.closed).toBe(true);
    expect(f.state()).toEqual({ status: 'paused', retryInMs: 1000, error: boom });
    vi.advanceTimersByTime(999);
    expect(s.opened).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.opened).toHaveLength(2);
    // Failing again before going live: the wait doubles (the existing backoff).
    s.last().callbacks.onError(boom);
    expect(f.state().retryInMs).toBe(reconnectDelay(2));
    vi.advanceTimersByTime(2000);
    expect(s.opened).toHaveLength(3);
    // Live again: the error is cleared and the next failure starts over at 1 s.
    s.last().callbacks.onStarted();
    expect(f.state()).toEqual({ status: 'live', retryInMs: null, error: null });
    s.last().callbacks.onData(3);
    expect(f.data).toEqual([1, 2, 3]);
    s.last().callbacks.onError(boom);
    expect(f.state().retryInMs).toBe(1000);
    f.stop();
  });

  it('resubscribes when the stream ends (a runtime that stopped), keeping the last error as it was', () => {
    const s = streams<string>();
    const f = follow(s);
    s.last().callbacks.onStarted();
    s.last().callbacks.onComplete();
    expect(f.state()).toEqual({ status: 'paused', retryInMs: 1000, error: null });
    vi.advanceTimersByTime(1000);
    expect(s.opened).toHaveLength(2);
    s.last().callbacks.onStarted();
    s.last().callbacks.onData('back');
    expect(f.data).toEqual(['back']);
    f.stop();
  });

  it('stop (unmount) closes the stream, and nothing afterwards is delivered or reconnected', () => {
    const s = streams<number>();
    const f = follow(s);
    s.last().callbacks.onStarted();
    const statesBefore = f.states.length;
    f.stop();
    expect(s.last().closed).toBe(true);
    // A late message, error or end of the closed stream changes nothing.
    s.last().callbacks.onData(9);
    s.last().callbacks.onError(new Error('late'));
    s.last().callbacks.onComplete();
    vi.advanceTimersByTime(120_000);
    expect(f.data).toEqual([]);
    expect(s.opened).toHaveLength(1);
    expect(f.states).toHaveLength(statesBefore);
  });

  it('stop while waiting to reconnect cancels the pending attempt', () => {
    const s = streams<number>();
    const f = follow(s);
    s.last().callbacks.onError(new Error('down'));
    expect(f.state().status).toBe('paused');
    f.stop();
    vi.advanceTimersByTime(120_000);
    expect(s.opened).toHaveLength(1);
  });

  it('ignores a replaced stream: after its error, its late data is not delivered and it causes no second attempt', () => {
    const s = streams<number>();
    const f = follow(s);
    const first = s.last();
    first.callbacks.onError(new Error('a'));
    first.callbacks.onData(1);
    first.callbacks.onComplete();
    vi.advanceTimersByTime(1000);
    expect(s.opened).toHaveLength(2);
    expect(f.data).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(s.opened).toHaveLength(2);
    f.stop();
  });

  it('liveOn "data": an open stream is not live until its first message', () => {
    const s = streams<number>();
    const f = follow(s, { liveOn: 'data' });
    s.last().callbacks.onStarted();
    expect(f.state().status).toBe('connecting');
    s.last().callbacks.onData(1);
    expect(f.state().status).toBe('live');
    f.stop();
  });

  it('an error the caller calls fatal (a lost session) stops following: no retry, the stream closed', () => {
    const s = streams<number>();
    const seen: unknown[] = [];
    const f = follow(s, { onError: (e) => (seen.push(e), (e as Error).message === 'unauthorized' ? 'stop' : 'retry') });
    s.last().callbacks.onError(new Error('flaky'));
    vi.advanceTimersByTime(1000);
    expect(s.opened).toHaveLength(2);
    s.last().callbacks.onStarted();
    s.last().callbacks.onError(new Error('unauthorized'));
    expect(s.last().closed).toBe(true);
    expect(f.state().status).toBe('live');
    vi.advanceTimersByTime(120_000);
    expect(s.opened).toHaveLength(2);
    expect(seen.map((e) => (e as Error).message)).toEqual(['flaky', 'unauthorized']);
    f.stop();
  });

  it('a stream that fails inside subscribe is closed and tried again', () => {
    let calls = 0;
    const closed: number[] = [];
    const f = followSubscription<number>({
      subscribe: (cb) => {
        const n = ++calls;
        if (n === 1) cb.onError(new Error('refused'));
        return { unsubscribe: () => void closed.push(n) };
      },
      onData: () => undefined,
      onState: () => undefined,
    });
    expect(closed).toEqual([1]);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(2);
    f();
    expect(closed).toEqual([1, 2]);
  });
});
