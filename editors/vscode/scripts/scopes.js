// Prints the TextMate scopes of each line given as an argument, as JSON:
// [[{"text": "...", "scopes": ["source.capi", ...]}, ...], ...]. Used by the test that every
// keyword and operator of grammar/capic.lark has a scope (tests/test_vscode.py).
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== "source.capi") {
        return null;
      }
      const file = path.join(root, "syntaxes", "capi.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.capi");
  const out = process.argv.slice(2).map((line) => {
    const result = grammar.tokenizeLine(line, vsctm.INITIAL);
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
