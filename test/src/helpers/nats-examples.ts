// The example configs of docs/examples/nats (shown verbatim in docs/scale.md, "Tested
// configurations") as the leaf-node test runs them: the same text with its hosts, ports and store
// dir replaced by the test's loopback ones. Every replacement must find its text, so an example
// edited without the test fails here, by name, instead of silently testing something else.
import { readFileSync } from 'node:fs';

const DIR = new URL('../../../docs/examples/nats/', import.meta.url);

export const EXAMPLE_FILES = ['hub.conf', 'shop-leaf.conf', 'terminal.cfx.yaml', 'office.cfx.yaml'] as const;
export type ExampleFile = (typeof EXAMPLE_FILES)[number];

/** the example's text as it is in the repository */
export function exampleText(file: ExampleFile): string {
  return readFileSync(new URL(file, DIR), 'utf8');
}

/** the example with each `[from, to]` replaced (all occurrences); a `from` it does not hold is an error */
export function fromExample(file: ExampleFile, replace: [string, string][]): string {
  let text = exampleText(file);
  for (const [from, to] of replace) {
    if (!text.includes(from)) throw new Error(`docs/examples/nats/${file} no longer holds "${from}": change the test's replacements with the example`);
    text = text.replaceAll(from, to);
  }
  return text;
}
