import { FurrowError } from '../../common/errors.js';
import type { Command } from '../command.js';

// Placeholder until the 'load' command is built; replaced by its implementation.
export const command: Command = {
  summary: '(not built yet)',
  usage: 'furrow load: not built yet',
  async run() {
    throw new FurrowError('CONFIG_UNSUPPORTED', 'furrow load is not built yet');
  },
};
