import { FurrowError } from '../../common/errors.js';
import type { Command } from '../command.js';

// Placeholder until the 'enrich' command is built; replaced by its implementation.
export const command: Command = {
  summary: '(not built yet)',
  usage: 'furrow enrich: not built yet',
  async run() {
    throw new FurrowError('CONFIG_UNSUPPORTED', 'furrow enrich is not built yet');
  },
};
