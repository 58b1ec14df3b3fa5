import type { ChecksView, CheckView } from '../protocol.js';
import { button, call, el, type Say } from './actions-client.js';

const BADGES: Record<CheckView['status'], string> = { pending: 'pending', pass: 'pass', fail: 'fail', error: 'error' };

/**
 * The Checks panel: the lab checks of the session's own checks file, as the student sees them. Run
 * checks fires the request and returns at once; the session runs the checks in the guests and
 * pushes each result in its state, so the rows go from pending to pass or fail through the view,
 * as every other change does (and a run started elsewhere, by qemunet check, shows the same way).
 */
export class ChecksPanel {
  readonly element: HTMLElement;
  private readonly run: HTMLButtonElement;
  private readonly state = el('span', { id: 'checks-state', className: 'checks-state' });
  private readonly rows = el('tbody');
  private readonly score = el('span', { id: 'checks-score', className: 'checks-score' });
  private readonly error = el('div', { id: 'checks-error', className: 'error' });
  /** This page's request is on its way (the session may not have said it runs yet). */
  private asking = false;
  private running = false;
  /** Why this page's last request was refused (no checks file, a bad one, a run already going). */
  private refused = '';
  private stateError = '';

  constructor(private readonly say: Say) {
    this.run = button('Run checks', () => this.start(), 'act-checks');
    this.element = el(
      'section',
      { id: 'checks', className: 'checks-panel' },
      // One line until a run has rows: the graph above keeps its height.
      el('h3', {}, 'Checks ', this.run, this.state, this.score),
      el('table', { id: 'checks-table', className: 'list checks' }, this.rows),
      this.error,
    );
    this.update(undefined);
  }

  update(checks: ChecksView | undefined): void {
    this.running = checks?.running === true;
    this.rows.replaceChildren(...(checks?.checks ?? []).map((c) => row(c)));
    this.score.textContent = checks ? `${checks.running ? 'so far: ' : 'score: '}${points(checks.score.earned)}/${points(checks.score.possible)} points, ${checks.score.passed} of ${checks.score.total} checks passed` : 'not run yet';
    this.stateError = checks?.error ?? '';
    this.show();
  }

  private show(): void {
    const busy = this.asking || this.running;
    this.run.disabled = busy;
    this.state.textContent = busy ? 'running…' : '';
    this.error.textContent = this.refused || this.stateError;
  }

  private async start(): Promise<void> {
    this.asking = true;
    this.refused = '';
    this.show();
    try {
      const { score, passed } = await call('checks', {});
      this.say(passed ? `all checks passed: ${points(score.earned)}/${points(score.possible)} points` : `checks done: ${score.passed} of ${score.total} passed, ${points(score.earned)}/${points(score.possible)} points`);
    } catch (e) {
      this.refused = (e as Error).message;
    } finally {
      this.asking = false;
      this.show();
    }
  }
}

function row(c: CheckView): HTMLTableRowElement {
  const tr = el('tr', { className: `check ${c.status}` });
  tr.dataset.status = c.status;
  const what = el('td', { className: 'check-name', text: c.name });
  if (c.seen && c.status !== 'pass') what.append(el('div', { className: 'seen', text: `seen: ${c.seen}` }));
  tr.append(el('td', {}, el('span', { className: `badge ${BADGES[c.status]}`, text: c.status })), what, el('td', { text: c.host }), el('td', { text: `${points(c.earned)}/${points(c.points)}` }));
  return tr;
}

/** Points as the report writes them: whole numbers plain, others to two places. */
function points(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
