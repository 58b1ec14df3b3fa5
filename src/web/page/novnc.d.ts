// The part of noVNC's RFB client (docs/API.md of @novnc/novnc 1.7) that the page uses. noVNC ships
// no types, and DefinitelyTyped's describe an older layout (@novnc/novnc/lib/rfb), not the package's
// own entry point (core/rfb.js), so the few members used are declared here.
declare module '@novnc/novnc' {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, url: string | WebSocket, options?: { shared?: boolean; wsProtocols?: string[] });
    scaleViewport: boolean;
    resizeSession: boolean;
    focusOnClick: boolean;
    background: string;
    focus(options?: FocusOptions): void;
    disconnect(): void;
  }
}
