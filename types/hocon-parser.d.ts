declare module '@pushcorn/hocon-parser' {
  const parser: { parse(options: { text?: string; url?: string; strict?: boolean }): Promise<unknown> };
  export default parser;
}
