/**
 * Every forwarder target against a vendor stand-in (test/forwarders/targets-suite.ts), on generated events of
 * every kind.
 */
import { generateLines } from './tsv-generator.js';
import { N, targetTests } from './targets-suite.js';

targetTests(generateLines(N));
