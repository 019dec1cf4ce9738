import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Lets the HTTP server close on shutdown. server.close() waits for every connection to end, and a
 * response to a request still running when it is called goes out as keep-alive, leaving the client's
 * connection open for keepAliveTimeout (65 s, longer than the grace period): the process would be
 * killed with its transports' work unfinished. While closing, every response says `Connection: close`
 * and each connection is closed as soon as its last response is out.
 */
export class ConnectionDrain {
  private closing = false;
  private server: Server | null = null;
  private readonly open = new Set<ServerResponse>();

  /** Express middleware; installed first, so every response passes through it. */
  readonly middleware = (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (this.closing) res.setHeader('connection', 'close');
    this.open.add(res);
    res.once('close', () => {
      this.open.delete(res);
      // An SSE stream's headers went out long before: its connection is idle only once it has ended.
      if (this.closing) setImmediate(() => this.server?.closeIdleConnections());
    });
    next();
  };

  start(server: Server): void {
    this.closing = true;
    this.server = server;
    for (const res of this.open) if (!res.headersSent) res.setHeader('connection', 'close');
    server.closeIdleConnections();
  }
}
