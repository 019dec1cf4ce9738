import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { JobStreamSession } from './job-stream-session';

/**
 * Open SSE sessions, ended at shutdown so the HTTP server can close (clients resume elsewhere with
 * Last-Event-ID), and counted per user: each one holds a connection, a subscription and a timer
 * that re-reads the log, so one user cannot open them without bound.
 */
@Injectable()
export class JobStreamRegistry implements BeforeApplicationShutdown {
  private readonly sessions = new Set<JobStreamSession>();
  private readonly perUser = new Map<string, number>();
  private closing = false;

  /**
   * True once shutdown began: a stream or wait that reaches `add` after the sessions were ended would
   * hold its connection open, and the HTTP server's close waits for every connection (up to
   * SSE_MAX_STREAM_MS, past the shutdown grace).
   */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Registers the session; null when the user already has `maxPerUser` open here. The returned function forgets it. */
  add(userId: string, session: JobStreamSession, maxPerUser: number): (() => void) | null {
    const open = this.perUser.get(userId) ?? 0;
    if (open >= maxPerUser) return null;
    this.perUser.set(userId, open + 1);
    this.sessions.add(session);
    let forgotten = false;
    return () => {
      if (forgotten) return;
      forgotten = true;
      this.sessions.delete(session);
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const s of this.sessions) s.close();
    this.sessions.clear();
  }
}
