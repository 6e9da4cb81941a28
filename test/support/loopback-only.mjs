/**
 * Loaded into every test process (tap's node-arg, and inherited by child node processes through
 * NODE_OPTIONS): any TCP connection to an address that is not loopback fails at once, so no test
 * can send traffic off the machine (e.g. an Iglu Central lookup that a test forgot to switch off).
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', '::1', '[::1]', '0.0.0.0', '::']);

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // Node defaults to localhost
  const h = String(host);
  if (LOOPBACK_NAMES.has(h)) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(h)) return true;
  if (/^::ffff:127\./i.test(h)) return true;
  return false;
}

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0];
  let host;
  if (opts !== null && typeof opts === 'object') {
    if (opts.path !== undefined) return original.apply(this, args); // unix socket
    host = opts.host;
  } else if (typeof opts === 'number' || (typeof opts === 'string' && /^\d+$/.test(opts))) {
    host = typeof args[1] === 'string' ? args[1] : undefined;
  } else if (typeof opts === 'string') {
    return original.apply(this, args); // unix socket path
  }
  if (!isLoopback(host)) {
    const err = new Error(`test traffic must stay on loopback: refused connection to ${host}`);
    err.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return original.apply(this, args);
};

const self = fileURLToPath(import.meta.url);
const flag = `--import=${self}`;
if (!(process.env.NODE_OPTIONS ?? '').includes(flag)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${flag}`.trim();
}
