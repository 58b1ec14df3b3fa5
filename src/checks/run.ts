import { QemunetError } from '../errors.js';
import { isGone } from '../protocol/error-codes.js';
import { probeOf, seenOf, type ExecOutcome, type Verdict } from './probe.js';
import type { Check } from './types.js';

/** Runs a command in a host's guest: the session's guest agent, or a fake in tests. */
export interface CheckExecutor {
  exec(host: string, argv: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecOutcome>;
}

/** Time as the runner sees it, so tests run a 10 s deadline in no time and exactly. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface CheckResult {
  /** The check's place in the file, from 0: results come in this order, however they ran. */
  index: number;
  check: Check;
  /** pass; fail: the test ran and the lab is not as it should be; error: the test could not run. */
  status: Verdict;
  /** Points earned: the check's points when it passed, else 0. */
  earned: number;
  attempts: number;
  elapsedMs: number;
  /** What the last try showed (its output, trimmed), or why it could not run. */
  seen: string;
}

export interface RunOptions {
  executor: CheckExecutor;
  clock: Clock;
  signal?: AbortSignal;
  /** Told of each result as soon as it is known (the web page's live panel). */
  onResult?: (r: CheckResult) => void;
}

/** The wait between two tries of a check that has not passed yet. */
export const RETRY_MS = 500;

/**
 * Runs every check, each retried until it passes or its deadline (`within`) has gone by, counted
 * from its own first try. A host's checks run one after the other, in the file's order; different
 * hosts' run at the same time. One at a time per guest because a small guest under TCG, busy with
 * two probes, answers a `ping -W 1` late and fails a check that is right; and a host's checks often
 * build on each other (the lease, then the route). A lab of N hosts is thus checked in about the
 * time of its slowest host.
 */
export async function runChecks(checks: readonly Check[], o: RunOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const byHost = new Map<string, number[]>();
  checks.forEach((c, i) => byHost.set(c.host, [...(byHost.get(c.host) ?? []), i]));
  await Promise.all(
    [...byHost.values()].map(async (indexes) => {
      for (const i of indexes) {
        const r = await runOne(checks[i]!, i, o);
        results[i] = r;
        o.onResult?.(r);
      }
    }),
  );
  return results;
}

async function runOne(check: Check, index: number, o: RunOptions): Promise<CheckResult> {
  const start = o.clock.now();
  const deadline = start + check.withinMs;
  for (let attempts = 1; ; attempts++) {
    o.signal?.throwIfAborted();
    const probe = probeOf(check, deadline - o.clock.now());
    let verdict: Verdict;
    let seen: string;
    let final = false;
    try {
      const out = await o.executor.exec(check.host, probe.argv, probe.timeoutMs, o.signal);
      const j = probe.judge(out);
      verdict = j.verdict;
      seen = [seenOf(out), j.why].filter(Boolean).join(': ') || '(no output)';
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      verdict = 'error';
      seen = e instanceof Error ? e.message : String(e);
      // Another try will not bring back a host that is gone: the check ends at once as an error.
      final = e instanceof QemunetError && isGone(e.code);
    }
    const now = o.clock.now();
    if (verdict === 'pass' || final || now >= deadline) {
      return { index, check, status: verdict, earned: verdict === 'pass' ? check.points : 0, attempts, elapsedMs: now - start, seen };
    }
    await o.clock.sleep(Math.min(RETRY_MS, deadline - now), o.signal);
  }
}

export interface Score {
  earned: number;
  possible: number;
  passed: number;
  total: number;
}

/** What a score needs of a result: what it earned, whether it passed, what it was worth (a result read back from a JSON report will do). */
export type Graded = Pick<CheckResult, 'earned' | 'status'> & { check: Pick<Check, 'points'> };

export function scoreOf(results: readonly Graded[]): Score {
  return {
    earned: results.reduce((n, r) => n + r.earned, 0),
    possible: results.reduce((n, r) => n + r.check.points, 0),
    passed: results.filter((r) => r.status === 'pass').length,
    total: results.length,
  };
}

/** `qemunet check`'s exit status: 0 when every check passed, else 1 (2, could not run at all, is the CLI's). */
export function checksExitStatus(results: readonly CheckResult[]): 0 | 1 {
  return results.every((r) => r.status === 'pass') ? 0 : 1;
}
