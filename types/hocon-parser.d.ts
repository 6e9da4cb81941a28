declare module '@pushcorn/hocon-parser' {
  const parser: { parse(options: {
    text?: string;
    url?: string;
    strict?: boolean;
    /** Looked up for substitutions before the environment. */
    scope?: Record<string, unknown>;
    /** false: substitutions never read process.env. */
    env?: boolean;
  }): Promise<unknown> };
  export default parser;
}
