/** What every `furrow <command>` module exports. Commands are wiring only: parse flags, build, run. */
export interface Command {
  /** One line for `furrow --help`. */
  readonly summary: string;
  /** Full usage text printed by `furrow <command> --help`. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
