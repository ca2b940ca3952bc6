/**
 * A `deno lint` plugin: no function in src/ longer than {@link MAX_LINES} lines, so runtimes
 * stay sequences of named steps. Runs with `deno lint` (and so with `deno task check`).
 *
 * @module
 */

/** The longest a function in src/ may be, its signature and closing brace included. */
export const MAX_LINES = 60;

/** The number of lines `node` spans in `text`. */
export function lineSpan(text: string, node: Deno.lint.Node): number {
  const [start, end] = node.range;
  let lines = 1;
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 10) lines++;
  return lines;
}

const plugin: Deno.lint.Plugin = {
  name: "orderstats",
  rules: {
    "max-function-lines": {
      create(context) {
        if (!/[\\/]src[\\/]/.test(context.filename)) return {};
        const check = (node: Deno.lint.Node) => {
          const lines = lineSpan(context.sourceCode.text, node);
          if (lines > MAX_LINES) {
            context.report({
              node,
              message: `function is ${lines} lines, over ${MAX_LINES}`,
              hint: "split it into named steps",
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};

export default plugin;
