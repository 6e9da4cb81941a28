/** The third-party webhook adapters (issue: webhook adapters). Each is a module in this folder. */
import type { Adapter } from '../adapter.js';

export const WEBHOOK_ADAPTERS: readonly Adapter[] = [];
