import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { JobStreamSession } from './job-stream-session';

/** Open SSE sessions, ended at shutdown so the HTTP server can close (clients resume elsewhere with Last-Event-ID). */
@Injectable()
export class JobStreamRegistry implements BeforeApplicationShutdown {
  private readonly sessions = new Set<JobStreamSession>();

  add(session: JobStreamSession): () => void {
    this.sessions.add(session);
    return () => this.sessions.delete(session);
  }

  beforeApplicationShutdown(): void {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
  }
}
