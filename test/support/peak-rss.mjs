/**
 * Preloaded (`--import`) into furrow processes a test spawns when it measures memory: at exit, the process's
 * peak resident set size (getrusage ru_maxrss, in KiB; the kernel's VmHWM) is written to the file named by
 * FURROW_PEAK_RSS_FILE. Reading it at exit catches a peak in the last moments, which polling /proc would miss.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.FURROW_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // the test reports the missing figure
    }
  });
}
