import type { Duplex } from 'node:stream';
import type { Cursor, GraphLayout, SessionView } from '../protocol.js';

/**
 * What the web server needs of a session beyond the session API's actions (those are routes on
 * SessionClient, actions-routes.ts): its view, consoles, screens and layout. `api-session.ts`
 * implements it on the typed session API (src/api/); tests implement it with a fake session.
 */
export interface WebSession {
  readonly dir: string;
  view(): Promise<SessionView>;
  /** Calls `onView` with each changed view (the first one at once); returns the unsubscribe. */
  subscribe(onView: (view: SessionView) => void): () => void;
  /** A host's console from `cursor` on (everything still kept without one). */
  openConsole(host: string, cursor?: Cursor): Promise<ConsoleStream>;
  /** A connection to a host's VNC server (RFB bytes both ways); throws a QemunetError saying why there is none. */
  openScreen(host: string): Promise<Duplex>;
  /** Where the graph's nodes were dragged to, kept in the session directory (undefined: nobody did). */
  layout(): Promise<GraphLayout | undefined>;
  /** Checks a layout from the browser and keeps it; throws LAYOUT for one that is not valid. */
  saveLayout(layout: unknown): Promise<void>;
  /** Tells the guest its console's terminal size, as soon as the guest can be told. */
  resizeConsole(host: string, cols: number, rows: number): void;
  close(): void;
}

export interface ConsoleStream {
  /** VM bytes come out, typed bytes go in; it closes when the hub drops it or the VM stops. */
  socket: Duplex;
  epoch: string;
  from: number;
  lost: number;
  first: Buffer;
}
