import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { QemunetError } from '../../errors.js';
import {
  prepareChecks, renderParamsFile, reportJson, reportJunit, reportTap, reportText, runChecks, scoreOf, sessionExecutor, shownResults, systemClock,
  type Check, type CheckResult, type ExecClient, type ReportInfo,
} from '../../checks/index.js';
import type { CommandOf, ResultOf } from '../../protocol/session-protocol.js';
import type { CheckRow, ChecksState } from '../../protocol/session-state.js';
import { UP_HOST_STATES } from '../../protocol/states.js';
import type { SessionPaths } from '../../session/paths.js';
import { runInGuest } from '../../vm/guest-run.js';
import type { LabPlan } from '../plan.js';
import type { SessionStatus } from './session-status.js';

/**
 * A checks file given to `up`: read and checked (its syntax, its hosts against the lab, the lab's
 * student's parameters) before anything starts; its text, to keep in the session. Throws CHECKS_*
 * at file:line:column, or CHECKS_MISSING for a file it cannot read.
 */
export async function readChecksFor(plan: LabPlan, file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new QemunetError('CHECKS_MISSING', `cannot read the checks file ${file}: ${e.code ?? e.message}`);
  });
  prepareChecks(text, file, { file: plan.topologyFile, hosts: plan.hosts }, { student: plan.user });
  return text;
}

/**
 * The student's lab parameters (the checks file's PARAM lines, derived from its SECRET and the lab's
 * user=), written as `params` into each host's share (/mnt/host/params in the guest) before the
 * hosts boot, so their start scripts and the checks see the same values. A lab without a checks
 * file, or without parameters, gets none; a checks file that cannot be used is a warning (the lab
 * still starts) and no parameters.
 */
export async function writeParamsFiles(plan: LabPlan, paths: SessionPaths, onNotice: (m: string) => void): Promise<void> {
  const text = await readFile(paths.checks, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let values;
  try {
    ({ values } = prepareChecks(text, paths.checks, { file: plan.topologyFile, hosts: plan.hosts }, { student: plan.user }));
  } catch (e) {
    onNotice(`warning: the lab's checks file cannot be used, so its hosts get no parameters: ${(e as Error).message}`);
    return;
  }
  if (!values.size) return;
  const file = renderParamsFile(values);
  for (const h of plan.hosts) {
    const share = paths.host(h.name).share;
    await mkdir(share, { recursive: true, mode: 0o700 });
    await writeFile(join(share, 'params'), file);
  }
}

const REPORTS = { text: reportText, tap: reportTap, junit: reportJunit, json: reportJson } as const;

/**
 * The lab checks, run by the session itself (issue 20): through its hosts' guest agents, the
 * student's view of each result recorded in the state as it comes (written and pushed, so an open
 * web page shows them live), the report in the format asked given back to whoever asked. One run
 * at a time: a second request is refused while one runs.
 */
export class LabChecks {
  private running = false;

  constructor(
    private readonly plan: LabPlan,
    private readonly paths: SessionPaths,
    private readonly status: SessionStatus,
  ) {}

  async run(request: CommandOf<'check'>, signal?: AbortSignal): Promise<ResultOf<'check'>> {
    if (this.running) throw new QemunetError('CHECKS_RUNNING', 'the lab checks are already running in this session; wait for their result');
    this.running = true;
    try {
      return await this.runOnce(request, signal);
    } finally {
      this.running = false;
    }
  }

  private async runOnce(request: CommandOf<'check'>, signal?: AbortSignal): Promise<ResultOf<'check'>> {
    const file = request.file ?? this.paths.checks;
    const text = request.checks ?? (await this.checksFile());
    const student = request.student ?? this.plan.user;
    const { checks } = prepareChecks(text, file, { file: this.plan.topologyFile, hosts: this.plan.hosts }, { student });
    const startedAt = new Date().toISOString();
    const results: Array<CheckResult | undefined> = checks.map(() => undefined);
    const record = (running: boolean) => this.status.setChecks(studentView(checks, results, { running, startedAt, student }));
    record(true);
    let all: CheckResult[];
    try {
      all = await runChecks(checks, {
        executor: sessionExecutor(this.guests()),
        clock: systemClock,
        ...(signal ? { signal } : {}),
        onResult: (r) => {
          results[r.index] = r;
          record(true);
        },
      });
    } finally {
      record(false);
    }
    const info: ReportInfo = { view: request.view ?? 'student', lab: basename(this.plan.dir), student };
    // The score of the view asked for, as its report counts it.
    const { score } = shownResults(all, info.view);
    const reports = Object.fromEntries((request.also ?? []).map((f) => [f, REPORTS[f](all, info)]));
    return { report: REPORTS[request.format ?? 'text'](all, info), ...(request.also?.length ? { reports } : {}), score, passed: score.passed === score.total };
  }

  private async checksFile(): Promise<string> {
    return readFile(this.paths.checks, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new QemunetError('CHECKS_MISSING', `this session has no checks file (${this.paths.checks}: ${e.code ?? e.message}); give one with qemunet check --checks FILE, or put it in the lab archive as "checks"`);
    });
  }

  /** The guests, reached through their agents: a host that is not up, or has no agent, is `gone` (the runner stops retrying it). */
  private guests(): ExecClient {
    return {
      exec: (host, argv, io) => {
        const h = this.status.host(host);
        if (!h.agent) throw new QemunetError('NO_AGENT', `host ${host} runs system ${h.system}, which has no guest agent: a check cannot run there`);
        if (!UP_HOST_STATES.has(h.state)) throw new QemunetError('HOST_NOT_RUNNING', `host ${host} is ${h.state}`);
        return runInGuest(this.paths.host(host).agent, host, argv, io);
      },
    };
  }
}

/** The state's record of a run: the checks a student may see, each pending until its result comes. Pure. */
export function studentView(checks: readonly Check[], results: ReadonlyArray<CheckResult | undefined>, run: { running: boolean; startedAt: string; student: string }): ChecksState {
  const rows: CheckRow[] = [];
  const shown: CheckResult[] = [];
  checks.forEach((c, i) => {
    if (c.hidden) return;
    const r = results[i];
    if (r) shown.push(r);
    rows.push({ name: c.name, host: c.host, kind: c.kind, points: c.points, status: r?.status ?? 'pending', earned: r?.earned ?? 0, ...(r && r.status !== 'pass' ? { seen: r.seen } : {}) });
  });
  const score = scoreOf(shown);
  return { running: run.running, startedAt: run.startedAt, student: run.student, checks: rows, score: { ...score, possible: checks.filter((c) => !c.hidden).reduce((n, c) => n + c.points, 0), total: rows.length } };
}
