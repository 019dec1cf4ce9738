import { z } from 'zod';
import { defineEvent } from './define-event';

const at = z.iso.datetime();
const amount = z.number().int().positive();

export const CreditsGranted = defineEvent('CreditsGranted', 1, z.strictObject({ userId: z.string(), amount, at }));
export const CreditsHeld = defineEvent('CreditsHeld', 1, z.strictObject({ userId: z.string(), jobId: z.string(), amount, at }));
export const CreditsSettled = defineEvent('CreditsSettled', 1, z.strictObject({ userId: z.string(), jobId: z.string(), amount, at }));
export const CreditsReleased = defineEvent('CreditsReleased', 1, z.strictObject({ userId: z.string(), jobId: z.string(), amount, at }));

export const CREDIT_EVENTS = [CreditsGranted, CreditsHeld, CreditsSettled, CreditsReleased] as const;
