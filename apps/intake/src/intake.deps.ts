import type { Catalog } from '@reelay/catalog';
import type { EventStore } from '@reelay/event-store';
import type { HostResolver } from '@reelay/net-guard';
import type { BlobStorage } from '@reelay/storage';
import type { ImageRules } from './validate-job/check-reference-image';
import type { FitImage } from './validate-job/fit-reference-image';
import type { IntakeMetrics } from './shared/intake-metrics';

export const INTAKE_DEPS = Symbol('INTAKE_DEPS');

export interface IntakeDeps {
  store: EventStore;
  storage: BlobStorage;
  catalog: Catalog;
  blockedTerms: string[];
  imageRules: ImageRules;
  /** Fits a reference image outside its model's limits to them (ffmpegImageFitter). */
  fitImage: FitImage;
  /** OUTBOUND_ALLOW_HOSTS: dev/test hosts a webhook URL may name although they are local. */
  outboundAllowHosts?: readonly string[];
  /** Resolves a webhook URL's host at submit; main sets a caching userHostResolver (DNS asked directly). */
  resolver?: HostResolver;
  /** Intake's own figures (reference image fits, deadline cancels); absent in tests that do not look. */
  metrics?: IntakeMetrics;
  /** DEADLINE_SWEEP_MS: how often jobs past their deadline are canceled (5 s when absent). */
  deadlineSweepMs?: number;
  now: () => Date;
}
